"""End to end: follow-up questions in a thread the answer opened and as replies to the bot's
answers; self-contained questions and replies to people are answered on their own; the date
of asking is the message's.

The real discord.py client talks to the Discord emulator; the engine is the real one over the
four fixture articles (see conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from index.answer.compose import NOT_COVERED
from tests.bot.harness import (
    STEP_TIMEOUT,
    ask_by_mention,
    embed_text,
    replies_to,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator, StoredMessage
from tests.discord_emulator.models import CREATE_PUBLIC_THREADS

pytestmark = pytest.mark.timeout(90)

BRIDGE_QUESTION = "When did the harbour bridge reopen?"
ROBOTS_URL = "https://example.org/news/library-robots"


def footer(message: StoredMessage) -> str:
    (embed,) = message.embeds
    return (embed.get("footer") or {}).get("text") or ""


async def bridge_thread(emu: DiscordEmulator, channel_id: int) -> tuple[int, StoredMessage]:
    """Ask the bridge question in an answer channel: (the thread the bot opened, its answer)."""
    question = await emu.send_message(BRIDGE_QUESTION, channel_id=channel_id)
    thread_id = int(question["id"])  # a thread started from a message has its id
    return thread_id, await emu.wait_for_message(thread_id, timeout=STEP_TIMEOUT)


def test_a_thread_conversation_follows_up_and_a_new_topic_stands_alone(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        answers = emu.add_text_channel("ask-here")
        async with running_bot(emu, engine, feedback, answer_channel_ids=[answers.id]):
            thread_id, first = await bridge_thread(emu, answers.id)
            follow_up = await emu.send_message("when did it open?", channel_id=thread_id)
            second = await emu.wait_for_message(
                thread_id, replies_to(follow_up), timeout=STEP_TIMEOUT
            )
            other = await emu.send_message("Who discovered the comet?", channel_id=thread_id)
            third = await emu.wait_for_message(thread_id, replies_to(other), timeout=STEP_TIMEOUT)
        thread = emu.thread(thread_id)
        assert thread.name == BRIDGE_QUESTION and thread.parent_id == answers.id
        assert thread.owner_id == emu.bot_user.id
        assert not [
            m for m in emu.messages if m.channel_id == answers.id and m.author_id == emu.bot_user.id
        ]
        assert "reopened to traffic on Thursday" in embed_text(first)
        assert "Follow-up" not in footer(first) and "Sources published 2024-03-14" in footer(first)
        # On its own "when did it open?" is not answered (see test_followup.py); here it is,
        # from the article of the conversation, and says what it was read with.
        assert "reopened to traffic on Thursday" in embed_text(second)
        assert "harbour-bridge-reopens" in embed_text(second)
        assert footer(second).startswith(f"Follow-up to: {BRIDGE_QUESTION}")
        assert second.embeds[0]["title"] == "when did it open?"
        assert "discovered a new comet" in embed_text(third)
        assert "harbour-bridge" not in embed_text(third) and "Follow-up" not in footer(third)

    run_scenario(scenario)


def test_a_reply_to_the_bot_follows_up_a_reply_to_a_person_does_not(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            asked, answer = await ask_by_mention(emu, "How many robots did the library buy?")
            to_bot = await emu.send_message(
                "who paid for them?", referenced_message=answer, reply_ping=False
            )
            follow = await emu.wait_for_message(emu.channel.id, replies_to(to_bot))
            again = await emu.send_message(
                "and how long can a child keep one?", referenced_message=follow, reply_ping=False
            )
            chained = await emu.wait_for_message(emu.channel.id, replies_to(again))
            to_person = await emu.send_message(
                f"{emu.bot_user.mention} who paid for them?",
                author=emu.admin,
                referenced_message=asked,
                reply_ping=False,
            )
            alone = await emu.wait_for_message(emu.channel.id, replies_to(to_person))
        assert "grant from the regional education fund" in embed_text(follow)
        assert footer(follow).startswith("Follow-up to: How many robots did the library buy?")
        assert "three weeks" in embed_text(chained)  # the chain goes on
        assert footer(chained).startswith("Follow-up to: who paid for them?")
        assert alone.embeds[0]["description"].startswith(NOT_COVERED)
        assert "Follow-up" not in footer(alone)

    run_scenario(scenario)


def test_without_thread_permission_or_with_threads_off_the_answer_is_a_reply(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        deny = {
            "id": str(emu.bot_user.id),
            "type": 1,
            "allow": "0",
            "deny": str(CREATE_PUBLIC_THREADS),
        }
        no_threads = emu.add_text_channel("no-threads", overwrites=[deny])
        plain = emu.add_text_channel("plain")
        channels = [no_threads.id, plain.id]
        async with running_bot(emu, engine, feedback, answer_channel_ids=channels):
            refused = await emu.send_message(BRIDGE_QUESTION, channel_id=no_threads.id)
            first = await emu.wait_for_message(no_threads.id, replies_to(refused))
        async with running_bot(
            emu, engine, feedback, answer_channel_ids=channels, answer_in_thread=False
        ):
            off = await emu.send_message(BRIDGE_QUESTION, channel_id=plain.id)
            second = await emu.wait_for_message(plain.id, replies_to(off))
        assert "reopened to traffic" in embed_text(first) and "reopened to traffic" in embed_text(
            second
        )
        assert not emu.world.guild.threads
        warnings = emu.requests_to("POST", r"/messages/\d+/threads$")
        assert [r.status for r in warnings] == [403]  # tried once, refused, replied instead

    run_scenario(scenario)


def test_the_date_of_asking_is_the_messages(engine: Any, feedback: Any) -> None:
    question = "What can children borrow from the library?"

    async def in_april(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, question)
            command = await emu.run_slash_command("ask", {"question": question})
            slash = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        for answer in (reply, slash):  # the robots article appeared on 2024-05-02
            assert ROBOTS_URL not in embed_text(answer)
            assert "2024-05-02" not in footer(answer)

    run_scenario(in_april, now=datetime(2024, 4, 1, 12, tzinfo=UTC))
    with feedback.connect() as conn:
        rows = conn.execute("SELECT answer_json FROM answers").fetchall()
    assert len(rows) == 2 and all('"as_of": "2024-04-01"' in row[0] for row in rows)

    async def today(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, question)
        assert ROBOTS_URL in embed_text(reply)
        assert "Sources published 2024-05-02" in footer(reply)

    run_scenario(today)


def test_a_thread_the_bot_started_keeps_its_conversation_across_a_restart(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        answers = emu.add_text_channel("ask-here")
        async with running_bot(emu, engine, feedback, answer_channel_ids=[answers.id]):
            thread_id, _ = await bridge_thread(emu, answers.id)
        # Restarted, and the channel is no longer an answer channel: the bot's own thread is
        # still a conversation with it, remembered in SQLite.
        async with running_bot(emu, engine, feedback, answer_channel_ids=[]):
            follow_up = await emu.send_message("why was it closed?", channel_id=thread_id)
            answer = await emu.wait_for_message(
                thread_id, replies_to(follow_up), timeout=STEP_TIMEOUT
            )
        assert "closed in March 2022 when inspectors found corrosion" in embed_text(answer)
        assert footer(answer).startswith(f"Follow-up to: {BRIDGE_QUESTION}")

    run_scenario(scenario)


def test_ask_run_in_the_thread_follows_up_its_conversation(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        answers = emu.add_text_channel("ask-here")
        async with running_bot(emu, engine, feedback, answer_channel_ids=[answers.id]):
            thread_id, _ = await bridge_thread(emu, answers.id)
            command = await emu.run_slash_command(
                "ask", {"question": "how much did it cost?"}, channel_id=thread_id
            )
            answer = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        # On its own "how much did it cost?" is not answered (see test_cli.py); in the thread
        # it is the bridge's repair.
        assert answer.channel_id == thread_id and not answer.ephemeral
        assert "48 million euros" in embed_text(answer)
        assert footer(answer).startswith(f"Follow-up to: {BRIDGE_QUESTION}")

    run_scenario(scenario)
