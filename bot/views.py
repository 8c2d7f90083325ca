"""Buttons under answers and article lists.

Every button is a `DynamicItem`: its `custom_id` carries what it needs (an answer id, a page),
so buttons keep working after a restart, and no view has a timeout to run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import discord

from bot import errors, render
from index.answer.written import AnswerKind
from index.feedback import FeedbackStore, StoredAnswer, UnknownAnswerError, Vote, VoteCounts

if TYPE_CHECKING:
    from bot.client import CitebotBot

    Interaction = discord.Interaction[CitebotBot]

ANSWER_ID = r"(?P<answer_id>[0-9a-f]{16})"
# Buttons under a written answer end in ":w", so a press says which kind its reader saw;
# buttons under an extractive answer keep the ids they always had.
KIND = r"(?::(?P<kind>w))?"
KIND_SUFFIX = {AnswerKind.EXTRACTIVE: "", AnswerKind.WRITTEN: ":w"}
VOTE_EMOJI = {Vote.UP: "👍", Vote.DOWN: "👎"}
NO_PASSAGES = "There are no passages behind that answer."


class KeyedLocks:
    """One asyncio lock per key (an answer id), dropped once nobody holds or awaits it.

    Two votes on one answer are recorded and shown one after the other, so the counts a
    message ends up showing are never older than the last vote.
    """

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


class StatelessView(discord.ui.View):
    """A view made only of `DynamicItem`s that the bot registers with `add_dynamic_items`.

    Their presses are dispatched by the bot-wide registration, so discord.py need not store
    the view per message, and it never times out (discord.py would otherwise give an
    ephemeral view a 15-minute timer).
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        return False


def answer_view(
    answer_id: str,
    counts: VoteCounts | None = None,
    *,
    with_sources: bool = True,
    kind: AnswerKind = AnswerKind.EXTRACTIVE,
) -> discord.ui.View:
    """Sources (if the answer has any), 👍 and 👎 with their counts, for the `kind` shown."""
    counts = counts or VoteCounts()
    view = StatelessView()
    if with_sources:
        view.add_item(SourcesButton(answer_id, kind))
    view.add_item(VoteButton(answer_id, Vote.UP, counts.up, kind))
    view.add_item(VoteButton(answer_id, Vote.DOWN, counts.down, kind))
    return view


def _kind(match: re.Match[str]) -> AnswerKind:
    return AnswerKind.WRITTEN if match["kind"] else AnswerKind.EXTRACTIVE


def has_sources(stored: StoredAnswer) -> bool:
    """Whether an answer's Sources button has anything to show."""
    return not stored.answer.abstained and bool(stored.answer.passages)


def sources_message(
    stored: StoredAnswer, heading: str, kind: AnswerKind | None = None
) -> tuple[str, list[discord.Embed]]:
    """The passages behind a stored answer, what the `kind` shown quoted in bold (by default,
    the kind its message shows now)."""
    if not stored.answer.passages:
        raise UnknownAnswerError(NO_PASSAGES)
    kind = kind or stored.kind
    written = stored.written if kind is AnswerKind.WRITTEN else None
    quotes = written.quotes if written is not None else stored.answer.quotes
    return render.passages_message(stored.answer.passages, quotes, heading=heading)


class SourcesButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"citebot:sources:{ANSWER_ID}{KIND}",
):
    """Shows the full passages behind an answer, to whoever presses it."""

    def __init__(self, answer_id: str, kind: AnswerKind = AnswerKind.EXTRACTIVE) -> None:
        super().__init__(
            discord.ui.Button(
                label="Sources",
                emoji="📚",
                style=discord.ButtonStyle.secondary,
                custom_id=f"citebot:sources:{answer_id}{KIND_SUFFIX[kind]}",
            )
        )
        self.answer_id = answer_id
        self.kind = kind

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SourcesButton:
        return cls(match["answer_id"], _kind(match))

    async def callback(self, interaction: Interaction) -> None:
        try:
            # Acknowledged before any work: a busy or slow engine must not miss Discord's 3 s.
            await interaction.response.defer(ephemeral=True, thinking=True)
            bot = interaction.client
            stored = await bot.engine.run(bot.feedback.answer, self.answer_id)
            if stored is None:
                raise UnknownAnswerError("That answer is no longer stored: ask again.")
            heading = f"Passages behind the answer to: {stored.answer.question}"
            content, embeds = sources_message(stored, heading, self.kind)
            await interaction.followup.send(content, embeds=embeds, ephemeral=True)
        except Exception as exc:
            await errors.report(interaction, exc)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"citebot:vote:(?P<vote>up|down):{ANSWER_ID}{KIND}",
):
    """👍 or 👎 on an answer: one vote per user, a second press changes it. The vote records
    the kind of answer the button was under."""

    def __init__(
        self, answer_id: str, vote: Vote, count: int = 0, kind: AnswerKind = AnswerKind.EXTRACTIVE
    ) -> None:
        name = "up" if vote is Vote.UP else "down"
        super().__init__(
            discord.ui.Button(
                label=str(count) if count else None,
                emoji=VOTE_EMOJI[vote],
                style=discord.ButtonStyle.secondary,
                custom_id=f"citebot:vote:{name}:{answer_id}{KIND_SUFFIX[kind]}",
            )
        )
        self.answer_id = answer_id
        self.vote = vote
        self.kind = kind

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        vote = Vote.UP if match["vote"] == "up" else Vote.DOWN
        return cls(match["answer_id"], vote, kind=_kind(match))

    async def callback(self, interaction: Interaction) -> None:
        try:
            # Acknowledged before any work (a quiet update of the message the button is on):
            # a busy or slow engine must not miss Discord's 3 s.
            await interaction.response.defer()
            bot = interaction.client
            async with bot.vote_locks.hold(self.answer_id):
                counts, stored = await bot.engine.run(
                    _vote, bot.feedback, self.answer_id, interaction.user.id, self.vote, self.kind
                )
                # The buttons follow what the message shows now: a written answer may have
                # replaced the one this button was under while the vote was being recorded.
                view = answer_view(
                    self.answer_id, counts, with_sources=has_sources(stored), kind=stored.kind
                )
                await interaction.edit_original_response(view=view)
            await interaction.followup.send(
                f"Thanks: your {VOTE_EMOJI[self.vote]} is recorded (press the other button to "
                "change it).",
                ephemeral=True,
            )
        except Exception as exc:
            await errors.report(interaction, exc)


def _vote(
    store: FeedbackStore, answer_id: str, user_id: int, vote: Vote, kind: AnswerKind
) -> tuple[VoteCounts, StoredAnswer]:
    counts = store.record(answer_id, user_id, vote, kind)
    stored = store.answer(answer_id)
    if stored is None:  # removed between the two statements
        raise UnknownAnswerError("That answer is no longer stored: ask again.")
    return counts, stored


def pager_view(page: int, pages: int) -> discord.ui.View | None:
    """◀ / ▶ under a page of `/sources list`, or None when there is only one page."""
    if pages <= 1:
        return None
    view = StatelessView()
    view.add_item(ArticlesPageButton(max(page - 1, 0), "prev", disabled=page == 0))
    view.add_item(ArticlesPageButton(min(page + 1, pages - 1), "next", disabled=page >= pages - 1))
    return view


class ArticlesPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"citebot:articles:(?P<page>\d{1,6}):(?P<way>prev|next)",
):
    """Turns `/sources list` to another page."""

    def __init__(self, page: int, way: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Previous" if way == "prev" else "Next",
                emoji="◀️" if way == "prev" else "▶️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"citebot:articles:{page}:{way}",
                disabled=disabled,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ArticlesPageButton:
        return cls(int(match["page"]), match["way"])

    async def callback(self, interaction: Interaction) -> None:
        try:
            await interaction.response.defer()
            embed, view = await articles_page(interaction.client, self.page)
            await interaction.edit_original_response(embed=embed, view=view)
        except Exception as exc:
            await errors.report(interaction, exc)


async def articles_page(bot: CitebotBot, page: int) -> tuple[discord.Embed, discord.ui.View | None]:
    """A page of `/sources list` and its buttons (None when there is only one page)."""
    articles = await bot.engine.articles()
    status = await bot.engine.status()
    pages = render.page_count(len(articles))
    page = min(max(page, 0), pages - 1)
    return render.articles_embed(articles, status, page), pager_view(page, pages)
