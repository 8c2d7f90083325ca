"""Questions: a mention of the bot, a reply to it, any message in an answer channel, or `/ask`."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import errors, render
from bot.errors import UserError
from bot.permissions import question_quota
from bot.views import SourcesButton, VoteButton, answer_view
from index.answer.retrieval import Filters
from index.errors import CitebotError

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)

EMPTY_MENTION = "Ask me a question about the articles, or use `/ask`."
EMPTY_QUESTION = "The question is empty: ask something about the articles."
NOTICE_SECONDS = 15.0  # a rate-limit notice in a channel deletes itself after this long
QUESTION_TYPES = (discord.MessageType.default, discord.MessageType.reply)


class IsoDate(app_commands.Transformer):
    """A date option written as YYYY-MM-DD."""

    async def transform(self, interaction: discord.Interaction, value: str, /) -> date:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise UserError(
                f"{value.strip()[:40]!r} is not a date: write it as YYYY-MM-DD, e.g. 2024-03-14."
            ) from None


def make_filters(since: date | None, until: date | None, source: str | None) -> Filters | None:
    """The /ask restrictions, or None when there are none."""
    if since and until and since > until:
        raise UserError("`since` is after `until`: swap them or drop one.")
    filters = Filters(source=(source or "").strip() or None, since=since, until=until)
    return filters if filters.active else None


def question_in(
    message: discord.Message, me: discord.ClientUser | None, answer_channels: list[int]
) -> str | None:
    """The question a message asks the bot ("" when it only mentions it), or None."""
    if me is None or message.guild is None or message.author.bot or message.webhook_id:
        return None
    if message.type not in QUESTION_TYPES:
        return None
    in_answer_channel = _in_answer_channel(message, answer_channels)
    addressed = _addressed_to(message, me)
    if not (in_answer_channel or addressed):
        return None
    question = _strip_mentions(message, me)
    if not question and not addressed:
        return None  # an attachment or sticker in an answer channel, say
    return question


def _in_answer_channel(message: discord.Message, answer_channels: list[int]) -> bool:
    channel = message.channel
    parent_id = getattr(channel, "parent_id", None)  # threads of an answer channel count
    return channel.id in answer_channels or (parent_id is not None and parent_id in answer_channels)


def _addressed_to(message: discord.Message, me: discord.ClientUser) -> bool:
    if any(user.id == me.id for user in message.mentions):
        return True
    if any(_is_bot_role(role, me) for role in message.role_mentions):
        return True
    reference = message.reference
    resolved = reference.resolved if reference is not None else None
    return isinstance(resolved, discord.Message) and resolved.author.id == me.id


def _is_bot_role(role: discord.Role, me: discord.ClientUser) -> bool:
    """The role Discord creates for the bot, often picked when typing @citebot."""
    return role.tags is not None and role.tags.bot_id == me.id


def _strip_mentions(message: discord.Message, me: discord.ClientUser) -> str:
    bot_roles = "|".join(str(r.id) for r in message.role_mentions if _is_bot_role(r, me))
    pattern = rf"<@!?{me.id}>" + (rf"|<@&(?:{bot_roles})>" if bot_roles else "")
    return " ".join(re.sub(pattern, " ", message.content).split())


async def reply(message: discord.Message, content: str | None = None, **kwargs: Any) -> None:
    """Reply to `message`; still post if it was deleted meanwhile."""
    reference = message.to_reference(fail_if_not_exists=False)
    await message.channel.send(content, reference=reference, **kwargs)


class Ask(commands.Cog):
    """Answers questions with quotes from the articles and numbered sources."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self.notice_seconds = NOTICE_SECONDS

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(SourcesButton, VoteButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(SourcesButton, VoteButton)

    async def answer(
        self, question: str, *, channel_id: int, user_id: int, filters: Filters | None = None
    ) -> tuple[discord.Embed, discord.ui.View]:
        """Ask the engine, remember the answer, and render it with its buttons."""
        answer = await self.bot.engine.ask(question, filters)
        answer_id = await self.bot.engine.run(
            self.bot.feedback.save_answer, answer, channel_id=channel_id, user_id=user_id
        )
        with_sources = not answer.abstained and bool(answer.passages)
        return render.answer_embed(answer, filters), answer_view(
            answer_id, with_sources=with_sources
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer mentions, replies to the bot, and messages in answer channels."""
        question = question_in(message, self.bot.user, self.bot.settings.answer_channel_ids)
        if question is None:
            return
        try:
            await self._answer_message(message, question)
        except discord.Forbidden as exc:
            log.warning("cannot answer in channel %d: %s", message.channel.id, exc)
        except Exception as exc:
            await errors.report_in_channel(message, exc)

    async def _answer_message(self, message: discord.Message, question: str) -> None:
        if not question:
            await reply(message, EMPTY_MENTION)
            return
        verdict = self.bot.rate_limiter.acquire(message.author.id)
        if not verdict.allowed:
            if not verdict.repeated:  # one notice per window, not one per message
                limiter = self.bot.rate_limiter
                notice = render.rate_limit_notice(limiter.limit, limiter.per, verdict.retry_after)
                await reply(message, notice, delete_after=self.notice_seconds)
            return
        async with message.channel.typing():
            embed, view = await self.answer(
                question, channel_id=message.channel.id, user_id=message.author.id
            )
        await reply(message, embed=embed, view=view)

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="What do you want to know?",
        since="Only articles published on or after this date (YYYY-MM-DD)",
        until="Only articles published on or before this date (YYYY-MM-DD)",
        source="Only articles from this outlet",
    )
    @question_quota()
    async def ask(
        self,
        interaction: discord.Interaction[CitebotBot],
        question: app_commands.Range[str, 1, 1000],
        since: app_commands.Transform[date, IsoDate] | None = None,
        until: app_commands.Transform[date, IsoDate] | None = None,
        source: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        """Ask about the articles: the answer quotes them and cites its sources."""
        if not question.strip():
            raise UserError(EMPTY_QUESTION)
        filters = make_filters(since, until, source)
        await interaction.response.defer(thinking=True)
        embed, view = await self.answer(
            question,
            channel_id=interaction.channel_id or 0,
            user_id=interaction.user.id,
            filters=filters,
        )
        await interaction.followup.send(embed=embed, view=view)

    @ask.autocomplete("source")
    async def _outlet_choices(
        self, interaction: discord.Interaction[CitebotBot], current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            outlets = await self.bot.engine.outlets()
        except CitebotError:
            return []
        needle = current.casefold().strip()
        return [
            app_commands.Choice(name=name[:100], value=name[:100])
            for name in outlets
            if needle in name.casefold()
        ][:25]


async def setup(bot: CitebotBot) -> None:
    """Load the extension."""
    await bot.add_cog(Ask(bot))
