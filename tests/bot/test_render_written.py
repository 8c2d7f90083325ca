"""Rendering written answers, and when a written answer may still replace a slash reply."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord

from bot import render
from bot.render_written import written_embed
from bot.written import Writing, editable_until, replace_with_written
from index.answer.retrieval import Filters
from index.answer.writer import WriteOutcome
from index.answer.written import WrittenAnswer
from tests.index.answer.written_checks import extractive

SOURCES = extractive().sources


def written(text: str, model: str = "tiny-model") -> WrittenAnswer:
    return WrittenAnswer(text=text, model=model, quotes=extractive().quotes, sources=SOURCES)


def test_a_written_answer_shows_its_text_sources_and_who_wrote_it() -> None:
    embed = written_embed(
        extractive(),
        written("The *repair* cost “48 million euros” [1]."),
        Filters(source="Gazette"),
    )
    assert embed.description == (
        "The \\*repair\\* cost “48 million euros” [1].\n\n**Sources**\n"
        "**[1]** [Harbour bridge reopens](https://example.org/harbour-bridge) — Port Gazette · "
        "2024-03-14"
    )
    assert embed.footer.text == (
        "Written by tiny-model, quotes checked\nSources published 2024-03-14\n"
        "Only articles from Gazette"
    )


def test_a_long_written_answer_and_model_name_stay_within_discord_limits() -> None:
    text = " ".join(f"Sentence {i} says “*_~` [1] things” [1]." for i in range(400))
    embed = written_embed(extractive("q" * 3000), written(text, "m" * 5000))
    assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
    assert len(embed) <= render.MESSAGE_EMBED_LIMIT
    assert (embed.description or "").rstrip().endswith("Port Gazette · 2024-03-14")


def test_the_quotes_say_when_a_written_answer_is_on_its_way() -> None:
    published = "Sources published 2024-03-14"
    assert render.answer_embed(extractive(), writing=True).footer.text == (
        f"{render.WRITING_NOTE}\n{published}"
    )
    assert render.answer_embed(extractive()).footer.text == published


def test_a_reply_past_its_interaction_lifetime_is_left_alone() -> None:
    created = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert editable_until(created) == created + timedelta(minutes=14, seconds=30)
    edits: list[dict[str, Any]] = []

    async def edit(**kwargs: Any) -> None:
        edits.append(kwargs)

    async def write(answer: Any) -> WriteOutcome:
        return WriteOutcome(written("It cost “48 million euros” [1]."), None)

    async def run(func: Any, *args: Any) -> Any:
        return func(*args)

    @contextlib.asynccontextmanager
    async def hold(answer_id: str) -> AsyncIterator[None]:
        yield

    bot: Any = SimpleNamespace(
        writer=SimpleNamespace(write=write),
        engine=SimpleNamespace(run=run),
        feedback=SimpleNamespace(save_written=lambda *a: None, counts=lambda *a: None),
        vote_locks=SimpleNamespace(hold=hold),
    )
    sent = Writing(extractive(), "0" * 16)
    expired = discord.utils.utcnow() - timedelta(seconds=1)
    asyncio.run(replace_with_written(bot, sent, edit, until=expired))
    assert edits == []
    asyncio.run(replace_with_written(bot, sent, edit, until=expired + timedelta(minutes=5)))
    assert edits and edits[0]["embed"].footer.text.startswith("Written by tiny-model")
