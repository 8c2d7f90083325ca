"""Questions: a mention of the bot, a reply to it, any message in an answer channel or in a
thread the bot started, or `/ask` (`private:true` answers only the asker).

A question continues the conversation of its thread, or of the answer it replies to (see
bot/conversation.py); its date of asking (`as_of`) is the message's or the command's date.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import errors, render
from bot.conversation import Conversation, answer_place, conversation_in, conversation_of
from bot.errors import UserError
from bot.permissions import question_quota
from bot.views import SourcesButton, VoteButton, answer_view
from bot.written import Writing, editable_until, replace_with_written, writing_for
from index.answer.retrieval import Filters
from index.engine import MAX_QUESTION_CHARS
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
    in_answer_channel = _in_answer_channel(message, answer_channels) or _in_own_thread(message, me)
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


def _in_own_thread(message: discord.Message, me: discord.ClientUser) -> bool:
    """A thread the bot started (for an answer): everything said there is for it."""
    channel = message.channel
    return isinstance(channel, discord.Thread) and channel.owner_id == me.id


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


@dataclass(frozen=True)
class PreparedAnswer:
    """An answer stored and rendered, ready to post (and, with an LLM, to be rewritten)."""

    answer_id: str
    embed: discord.Embed
    view: discord.ui.View
    writing: Writing | None = None  # see bot/written.py


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
        self,
        question: str,
        *,
        channel_id: int,
        as_of: date | None,
        conversation: Conversation | None = None,
        filters: Filters | None = None,
        private: bool = False,
    ) -> PreparedAnswer:
        """Ask the engine (as the next turn of `conversation`), remember the answer, and
        render it with its buttons."""
        conversation = conversation or Conversation()
        answer, reading = await self.bot.engine.ask_after(
            question, conversation.earlier, filters=filters, as_of=as_of
        )
        answer_id = await self.bot.engine.run(
            self.bot.feedback.save_answer,
            answer,
            channel_id=channel_id,
            private=private,
            conversation=conversation.key,
            context=reading.context,
        )
        follow_up_of = reading.after.question if reading.after is not None else None
        writing = writing_for(self.bot, answer, answer_id, filters, follow_up_of)
        embed = render.answer_embed(
            answer, filters, follow_up_of=follow_up_of, writing=writing is not None
        )
        with_sources = not answer.abstained and bool(answer.passages)
        view = answer_view(answer_id, with_sources=with_sources)
        return PreparedAnswer(answer_id, embed, view, writing)

    async def _posted(self, prepared: PreparedAnswer, sent: discord.Message) -> None:
        """Remember where an answer was posted (its link is shown in `/sources gaps`)."""
        await self.bot.engine.run(
            self.bot.feedback.posted, prepared.answer_id, message_id=sent.id, link=sent.jump_url
        )

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer mentions, replies to the bot, and messages in answer channels."""
        question = question_in(message, self.bot.user, self.bot.settings.answer_channel_ids)
        if question is None:
            return
        try:
            with self.bot.answering():
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
        conversation = await conversation_of(self.bot, message)
        place = await answer_place(self.bot, message, question)
        if place.thread is not None:  # a new question in an answer channel, in its own thread
            conversation = Conversation(place.thread.id)
        async with place.channel.typing():
            prepared = await self.answer(
                question,
                channel_id=place.channel.id,
                as_of=message.created_at.date(),
                conversation=conversation,
            )
        sent = await place.send(embed=prepared.embed, view=prepared.view)
        await self._posted(prepared, sent)
        await replace_with_written(self.bot, prepared.writing, sent.edit)

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="What do you want to know?",
        since="Only articles published on or after this date (YYYY-MM-DD)",
        until="Only articles published on or before this date (YYYY-MM-DD)",
        source="Only articles from this outlet",
        private="Answer so that only you see it",
    )
    @question_quota()
    async def ask(
        self,
        interaction: discord.Interaction[CitebotBot],
        question: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
        since: app_commands.Transform[date, IsoDate] | None = None,
        until: app_commands.Transform[date, IsoDate] | None = None,
        source: app_commands.Range[str, 1, 200] | None = None,
        private: bool = False,
    ) -> None:
        """Ask about the articles: the answer quotes them and cites its sources."""
        if not question.strip():
            raise UserError(EMPTY_QUESTION)
        filters = make_filters(since, until, source)
        with self.bot.answering():
            await self._ask(interaction, question, filters, private)

    async def _ask(
        self,
        interaction: discord.Interaction[CitebotBot],
        question: str,
        filters: Filters | None,
        private: bool,
    ) -> None:
        await interaction.response.defer(ephemeral=private, thinking=True)
        conversation = (
            Conversation() if private else await conversation_in(self.bot, interaction.channel)
        )
        prepared = await self.answer(
            question,
            channel_id=interaction.channel_id or 0,
            as_of=interaction.created_at.date(),
            conversation=conversation,
            filters=filters,
            private=private,
        )
        sent = await interaction.followup.send(
            embed=prepared.embed, view=prepared.view, ephemeral=private, wait=True
        )
        if not private:  # nobody else can see, link or reply to a private answer
            await self._posted(prepared, sent)
        until = editable_until(interaction.created_at)
        await replace_with_written(
            self.bot, prepared.writing, interaction.edit_original_response, until=until
        )

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
