"""End to end: `/sources list`, `search` and `last` show what is indexed and why an answer said
what it said, to the person who asked only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.errors import UserError
from tests.bot.engines import IndexDirs
from tests.bot.harness import (
    STEP_TIMEOUT,
    ask_by_mention,
    custom_id,
    embed_text,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(60)

NEWEST_FIRST = [
    "City library lends out robots to schoolchildren",  # 2024-05-02
    "Harbour bridge reopens after two-year repair",  # 2024-03-14
    "Drought cuts wheat harvest by a third",  # 2023-09-20
    "Amateur astronomer spots new comet",  # no date
]


def test_list_shows_the_articles_newest_first_and_the_index_status(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            command = await emu.run_slash_command("sources", subcommand="list")
            listing = await emu.wait_for_message(interaction=command)
        assert listing.ephemeral and listing.components == []  # one page: no buttons
        description = listing.embeds[0]["description"]
        assert description.startswith("**4 articles, 4 chunks** · index updated <t:")
        positions = [description.index(title) for title in NEWEST_FIRST]
        assert positions == sorted(positions)
        assert "https://example.org/news/library-robots" in description
        assert "`comet-sighting.txt`" in description  # no outlet or date: its file
        assert listing.embeds[0]["footer"]["text"].startswith("Page 1 of 1 · model all-MiniLM")

    run_scenario(scenario)


def test_list_pages_through_many_articles(
    own_engine: Any, own_index: IndexDirs, feedback: Any
) -> None:
    for number in range(1, 10):
        (own_index.articles / f"note-{number}.md").write_text(
            f"---\ntitle: Council note {number}\npublished: 2022-01-0{number}\n---\n"
            f"The council met for the {number}th time and discussed the budget.\n",
            encoding="utf-8",
        )
    own_engine.reindex()

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, own_engine, feedback):
            command = await emu.run_slash_command("sources", subcommand="list")
            first = await emu.wait_for_message(interaction=command)
            page_one = first.embeds[0]  # the message object is edited in place below
            since = emu.checkpoint()
            press = await emu.press_button(first, custom_id(first, "citebot:articles:1:next"))
            second = await emu.wait_for_message(predicate=lambda m: m.id == first.id, since=since)
        assert "**13 articles, 13 chunks**" in page_one["description"]
        assert "Page 1 of 2" in page_one["footer"]["text"]
        assert press.callback_type == 6
        assert "Page 2 of 2" in second.embeds[0]["footer"]["text"]
        assert "**11.**" in second.embeds[0]["description"]  # numbering goes on
        assert "Amateur astronomer spots new comet" in second.embeds[0]["description"]
        disabled = {
            b["custom_id"]: b.get("disabled", False) for b in second.components[0]["components"]
        }
        assert disabled == {"citebot:articles:0:prev": False, "citebot:articles:1:next": True}

    run_scenario(scenario)


def test_search_shows_passages_with_scores_to_the_searcher(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            command = await emu.run_slash_command(
                "sources", {"query": "toll for cars", "count": 2}, subcommand="search"
            )
            found = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        assert command.callback_type == 5 and found.ephemeral
        assert found.content == "Top 2 passages for: toll for cars"
        first = found.embeds[0]
        assert first["title"] == "1. Harbour bridge reopens after two-year repair"
        assert "toll of one euro for cars" in first["description"]
        assert "score" in first["footer"]["text"] and len(found.embeds) == 2

    run_scenario(scenario)


def test_last_shows_the_sources_of_the_last_answer_in_the_channel(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, expect_errors=(UserError,)):
            early = await emu.run_slash_command("sources", subcommand="last")
            nothing = await emu.wait_for_message(interaction=early)
            await ask_by_mention(emu, "Who discovered the comet?")
            await ask_by_mention(emu, "How big were the wheat harvest losses?")
            await asyncio.sleep(0)
            command = await emu.run_slash_command("sources", subcommand="last", user=emu.admin)
            shown = await emu.wait_for_message(interaction=command)
        assert nothing.ephemeral
        assert nothing.content == "No question has been answered in this channel yet."
        assert shown.ephemeral
        assert (
            shown.content == "The last answer here was to: How big were the wheat harvest losses?"
        )
        assert shown.embeds[0]["title"] == "1. Drought cuts wheat harvest by a third"
        assert "**Farmers in the southern plains harvested" in embed_text(shown)

    run_scenario(scenario)
