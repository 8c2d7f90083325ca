"""End to end: commands are registered, and questions asked by mention, reply, answer channel
or `/ask` are answered with quotes from the right article and a link to it.

The real discord.py client talks to the Discord emulator; the engine is the real one over the
four fixture articles (see conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import UserError
from index.answer.compose import NOT_COVERED
from tests.bot.harness import (
    FOLLOWUP_PATH,
    STEP_TIMEOUT,
    ask_by_mention,
    custom_id,
    embed_text,
    replies_to,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator

BRIDGE_URL = "https://example.org/news/harbour-bridge-reopens"
ROBOTS_URL = "https://example.org/news/library-robots"

pytestmark = pytest.mark.timeout(60)


def test_commands_are_registered_in_the_configured_guild(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            pass
        commands = {c["name"]: c for c in emu.commands()}
        assert set(commands) == {"ask", "sources", "reindex", "Find sources"}
        assert commands["Find sources"]["type"] == 3  # a message context menu
        assert emu.commands(guild=False) == []
        ask = {o["name"]: o for o in commands["ask"]["options"]}
        assert ask["question"]["required"] and ask["source"]["autocomplete"]
        assert not ask["since"]["required"] and not ask["until"]["required"]
        subcommands = {o["name"]: o["type"] for o in commands["sources"]["options"]}
        assert subcommands == {
            "search": 1, "list": 1, "last": 1, "gaps": 1,
            "add": 1, "feeds": 1, "feed-add": 1, "feed-remove": 1,
        }  # fmt: skip
        assert ask["private"]["type"] == 5 and not ask["private"]["required"]
        assert str(commands["reindex"]["default_member_permissions"]) == "32"  # Manage Server

    run_scenario(scenario)


def test_commands_are_synced_globally_only_when_they_change(own_engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        for _ in range(2):
            async with running_bot(emu, own_engine, feedback, guild_ids=[]):
                pass
        names = sorted(c["name"] for c in emu.commands(guild=False))
        assert names == ["Find sources", "ask", "reindex", "sources"] and emu.commands() == []
        syncs = emu.requests_to("PUT", r"^/applications/\d+/commands$")
        assert len(syncs) == 1  # the second start found nothing to change

    run_scenario(scenario)


def test_a_mention_is_answered_with_a_quote_and_a_link(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, "@everyone when did the harbour bridge reopen?")
        text = embed_text(reply)
        assert "The Eastport harbour bridge reopened to traffic on Thursday" in text
        assert "[1]" in text and f"({BRIDGE_URL})" in text
        assert "Port Gazette" in text and "2024-03-14" in text
        assert reply.custom_ids()[0].startswith("citebot:sources:")
        assert {c.split(":")[2] for c in reply.custom_ids()[1:]} == {"up", "down"}
        assert not reply.payload["mention_everyone"] and reply.payload["mentions"] == []
        assert reply.embeds[0]["title"].startswith("@everyone") and reply.pings == []

    run_scenario(scenario)


def test_slash_ask_defers_then_answers(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            command = await emu.run_slash_command(
                "ask", {"question": "How much is the toll for cars on the bridge?"}
            )
            answer = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        assert command.callback_type == 5 and answer.id == command.original_message_id
        assert not answer.ephemeral
        text = embed_text(answer)
        assert "toll of one euro for cars" in text and BRIDGE_URL in text
        assert emu.requests_to("POST", FOLLOWUP_PATH)

    run_scenario(scenario)


def test_slash_ask_with_filters_and_a_bad_date(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, expect_errors=(UserError,)):
            filtered = await emu.run_slash_command(
                "ask", {"question": "What can children borrow?", "since": "2024-04-01"}
            )
            answer = await emu.wait_for_message(interaction=filtered, timeout=STEP_TIMEOUT)
            bad = await emu.run_slash_command(
                "ask", {"question": "robots?", "since": "last spring"}
            )
            refusal = await emu.wait_for_message(interaction=bad)
        text = embed_text(answer)
        assert ROBOTS_URL in text and BRIDGE_URL not in text
        assert "Only articles published on or after 2024-04-01" in text
        assert bad.callback_type == 4 and refusal.ephemeral
        assert refusal.content.startswith("'last spring' is not a date")

    run_scenario(scenario)


def test_replies_and_answer_channels_are_questions_other_talk_is_not(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        answers = emu.add_text_channel("ask-here")
        async with running_bot(emu, engine, feedback, answer_channel_ids=[answers.id]):
            since = emu.checkpoint()
            await emu.send_message("lovely weather for a bridge walk")
            await emu.send_message(f"{emu.bot_user.mention} robots?", author=emu.other_bot)
            plain = await emu.send_message("Who discovered the comet?", channel_id=answers.id)
            in_thread = await emu.wait_for_message(int(plain["id"]))  # its own thread
            _, first = await ask_by_mention(emu, "How many robots did the library buy?")
            follow_up = await emu.send_message(
                "And what about the wheat harvest?", referenced_message=first, reply_ping=False
            )
            second = await emu.wait_for_message(emu.channel.id, replies_to(follow_up))
            bare = await emu.send_message(emu.bot_user.mention)
            hint = await emu.wait_for_message(emu.channel.id, replies_to(bare))
        assert "discovered a new comet" in embed_text(in_thread)
        assert emu.thread(in_thread.channel_id).parent_id == answers.id
        assert "harvested a third less wheat" in embed_text(second)
        assert "/ask" in hint.content
        answered = [m for m in emu.messages if m.stamp > since and m.author_id == emu.bot_user.id]
        assert len(answered) == 4  # the weather talk and the other bot got nothing


def test_an_abstention_is_said_plainly(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, "quantum chromodynamics")
        (embed,) = reply.embeds
        assert embed["description"].startswith(NOT_COVERED)
        assert not any(c.startswith("citebot:sources:") for c in reply.custom_ids())

    run_scenario(scenario)


def test_votes_are_stored_one_per_user(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, "How much did the bridge repair cost?")
            up, down = custom_id(reply, "citebot:vote:up:"), custom_id(reply, "citebot:vote:down:")
            first = await emu.press_button(reply, up, user=emu.member)
            thanks = await emu.wait_for_message(interaction=first, predicate=lambda m: m.ephemeral)
            for press in (
                await emu.press_button(reply, up, user=emu.admin),
                await emu.press_button(reply, down, user=emu.member),
            ):
                await emu.wait_for_message(interaction=press, predicate=lambda m: m.ephemeral)
        answer_id = up.rsplit(":", 1)[1]
        counts = feedback.counts(answer_id)
        assert (counts.up, counts.down) == (1, 1)
        assert first.callback_type == 6 and "👍 is recorded" in thanks.content
        labels = {b.get("custom_id"): b.get("label") for b in reply.components[0]["components"]}
        assert (labels[up], labels[down]) == ("1", "1")

    run_scenario(scenario)


def test_the_sources_button_shows_the_passages_to_the_presser(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, "When did the harbour bridge reopen?")
            press = await emu.press_button(reply, custom_id(reply, "citebot:sources:"))
            shown = await emu.wait_for_message(interaction=press)
        assert press.callback_type == 5 and shown.ephemeral
        first = shown.embeds[0]
        assert first["title"] == "1. Harbour bridge reopens after two-year repair"
        assert first["url"] == BRIDGE_URL
        assert "**The Eastport harbour bridge reopened to traffic" in first["description"]
        assert "Port Gazette · 2024-03-14 · score" in first["footer"]["text"]
        assert "When did the harbour bridge reopen?" in shown.content

    run_scenario(scenario)


def test_buttons_keep_working_after_a_restart(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, "Why was the bridge closed?")
        async with running_bot(emu, engine, feedback):
            press = await emu.press_button(reply, custom_id(reply, "citebot:sources:"))
            shown = await emu.wait_for_message(interaction=press)
        assert shown.ephemeral and "**The bridge was closed in March 2022" in embed_text(shown)

    run_scenario(scenario)
