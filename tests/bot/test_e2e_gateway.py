"""End to end: the gateway misbehaves as Discord's does, and the bot carries on answering.

Discord may ask the bot to reconnect (op 7 RECONNECT), end its session (op 9 INVALID_SESSION,
resumable or not), refuse a RESUME, or let a connection die without a close frame (heartbeat
ACKs stop). Each time the real discord.py client must reconnect, RESUME when it may (replaying
what it missed) or IDENTIFY afresh when it may not, and answer the next question.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.harness import STEP_TIMEOUT, embed_text, replies_to, run_scenario, running_bot
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(60)

IDENTIFY, RESUME = 2, 6
QUESTION = "When did the harbour bridge reopen?"
BRIDGE_QUOTE = "The Eastport harbour bridge reopened to traffic on Thursday"
DEAD_AFTER = 2.0  # heartbeat_timeout: how long the bot waits for any frame before reconnecting


def connects(emu: DiscordEmulator) -> list[int]:
    """The bot's IDENTIFY and RESUME frames, in order."""
    return [f.op for f in emu.gateway_frames if f.op in (IDENTIFY, RESUME)]


async def answered(emu: DiscordEmulator, question: str = QUESTION) -> str:
    """Ask by mention and return the text of the answer (replayed or sent live)."""
    sent = await emu.send_message(f"{emu.bot_user.mention} {question}")
    reply = await emu.wait_for_message(emu.channel.id, replies_to(sent), timeout=STEP_TIMEOUT)
    return embed_text(reply)


@pytest.mark.parametrize("how", ["reconnect", "resumable-invalid-session"])
def test_asked_to_reconnect_the_bot_resumes_and_misses_nothing(
    how: str, engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            since = emu.checkpoint()
            if how == "reconnect":
                emu.send_reconnect()  # op 7
            else:
                emu.invalidate_session(resumable=True)  # op 9, d: true
            text = await answered(emu)  # asked while the bot reconnects
            resume = await emu.wait_for_gateway_frame(RESUME, since=since)
        assert BRIDGE_QUOTE in text
        assert resume.path == "/resume-gateway/" and connects(emu) == [IDENTIFY, RESUME]

    run_scenario(scenario)


def test_an_invalid_session_makes_the_bot_identify_again(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            since = emu.checkpoint()
            emu.invalidate_session(resumable=False)  # op 9, d: false
            identify = await emu.wait_for_gateway_frame(IDENTIFY, since=since)
            text = await answered(emu)
        assert BRIDGE_QUOTE in text
        assert identify.path == "/gateway/" and connects(emu) == [IDENTIFY, IDENTIFY]

    run_scenario(scenario)


def test_a_rejected_resume_makes_the_bot_identify_again(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            since = emu.checkpoint()
            emu.reject_next_resume()
            await emu.drop_gateway(4000)
            identify = await emu.wait_for_gateway_frame(IDENTIFY, since=since)
            text = await answered(emu)
        assert BRIDGE_QUOTE in text and identify.d["token"] == emu.token
        assert connects(emu) == [IDENTIFY, RESUME, IDENTIFY]  # tried to resume, was refused

    run_scenario(scenario)


def test_a_connection_that_dies_without_a_close_frame_is_replaced(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, heartbeat_timeout=DEAD_AFTER):
            since = emu.checkpoint()
            emu.silence_gateway()  # no more heartbeat ACKs, no events, the socket stays open
            text = await answered(emu)  # delivered only by the RESUME's replay
            resume = await emu.wait_for_gateway_frame(RESUME, since=since)
            heartbeats = [f for f in emu.gateway_frames if f.op == 1 and f.stamp > since]
        assert BRIDGE_QUOTE in text
        assert resume.path == "/resume-gateway/" and connects(emu) == [IDENTIFY, RESUME]
        old = resume.connection_id - 1
        assert any(f.connection_id == old for f in heartbeats)  # it kept beating, unanswered

    run_scenario(scenario)
