"""Written answers in Discord: the extractive answer is sent at once, then its message is edited
into the written answer once that has been written and verified (or back to the plain
extractive answer when the writer fell short).

The writer runs in threads of its own, so a slow LLM never holds up questions, searches or
votes. A slash command's reply can be edited only while its interaction token lives (15
minutes); past that the extractive answer simply stays.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot import render
from bot.render_written import written_embed
from bot.views import answer_view
from index.answer.compose import Answer
from index.answer.retrieval import Filters
from index.answer.written import AnswerKind, WrittenAnswer

if TYPE_CHECKING:
    from bot.client import CitebotBot
    from index.answer.writer import WriteOutcome, Writer

log = logging.getLogger(__name__)

WRITER_WORKERS = 2
WRITER_THREAD_PREFIX = "citebot-writer"
INTERACTION_LIFETIME = timedelta(minutes=15)
EDIT_MARGIN = timedelta(seconds=30)  # leave an edit this long to reach Discord

NONE = discord.AllowedMentions.none()  # an edit states it too: discord.py may not add it

Edit = Callable[..., Awaitable[Any]]


class AnswerWriter:
    """Awaitable `Writer.write`, in a small pool of its own."""

    def __init__(self, writer: Writer, workers: int = WRITER_WORKERS) -> None:
        self.writer = writer
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=WRITER_THREAD_PREFIX)

    async def write(self, answer: Answer) -> WriteOutcome:
        """A verified written answer, or why the extractive one stays."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self.writer.write, answer))

    def close(self) -> None:
        """Stop accepting work (a write in flight ends within the writer's timeout)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class Writing:
    """A sent extractive answer that a written answer may replace, and how it was rendered."""

    answer: Answer
    answer_id: str
    filters: Filters | None = None
    follow_up_of: str | None = None


def writing_for(
    bot: CitebotBot,
    answer: Answer,
    answer_id: str,
    filters: Filters | None = None,
    follow_up_of: str | None = None,
) -> Writing | None:
    """What to write once `answer` is sent: None without an LLM, or when it abstained."""
    if bot.writer is None or answer.abstained or not answer.passages:
        return None
    return Writing(answer, answer_id, filters, follow_up_of)


def editable_until(created_at: datetime) -> datetime:
    """When an interaction's replies can no longer be edited, with a margin."""
    return created_at + INTERACTION_LIFETIME - EDIT_MARGIN


async def replace_with_written(
    bot: CitebotBot, writing: Writing | None, edit: Edit, *, until: datetime | None = None
) -> None:
    """Write the answer and edit its message into the written answer; on a fallback, back into
    the plain quotes (without the note that a written answer is coming).

    `edit` edits the message (`Message.edit`, `Interaction.edit_original_response`); `until`
    is when it stops working.
    """
    if bot.writer is None or writing is None:
        return
    written = None
    try:
        written = (await bot.writer.write(writing.answer)).written
    except Exception:  # the writer's own failures are outcomes; this would be a bug
        log.exception("writing an answer failed; the quotes stay")
    if until is not None and discord.utils.utcnow() >= until:
        log.info("the written answer came after the interaction expired; the quotes stay")
        return
    answer, filters, follow_up_of = writing.answer, writing.filters, writing.follow_up_of
    try:
        if written is None:
            embed = render.answer_embed(answer, filters, follow_up_of=follow_up_of)
            await edit(embed=embed, allowed_mentions=NONE)
            return
        embed = written_embed(answer, written, filters, follow_up_of=follow_up_of)
        async with bot.vote_locks.hold(writing.answer_id):  # one view edit at a time
            counts = await bot.engine.run(_save, bot, writing.answer_id, written)
            view = answer_view(
                writing.answer_id, counts, with_sources=True, kind=AnswerKind.WRITTEN
            )
            await edit(embed=embed, view=view, allowed_mentions=NONE)
    except discord.NotFound:
        log.info("the answer was deleted before its written version was ready")
    except discord.HTTPException as exc:  # the quotes already answer the question
        log.warning("could not replace the quotes with the written answer: %s", exc)


def _save(bot: CitebotBot, answer_id: str, written: WrittenAnswer) -> Any:
    """Store the written answer (before it is shown), then the current vote counts."""
    bot.feedback.save_written(answer_id, written)
    return bot.feedback.counts(answer_id)
