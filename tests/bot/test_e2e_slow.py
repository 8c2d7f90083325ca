"""End to end with a slow engine: every interaction is acknowledged within Discord's 3 seconds,
before the slow work, even when every worker is busy answering other questions.

The engine's index reads and the feedback store's connections wait at a `Slowdown` while the
test runs `/ask`, `/sources last`, the Sources button or a vote button and waits for the
interaction's acknowledgement. Only then is the emulated clock moved 10 s ahead, as if the
work had taken that long, and the engine let go: an interaction the bot acknowledged only after
the slow work would find Discord's 3-second deadline long past (the emulator enforces it on
its clock), and nothing here waits in real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.async_engine import QUERY_WORKERS
from bot.ratelimit import QuestionRateLimiter
from tests.bot.engines import (
    Slowdown,
)
from tests.bot.harness import (
    STEP_TIMEOUT,
    custom_id,
    embed_text,
    replies_to,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator, InteractionRecord, StoredMessage

pytestmark = pytest.mark.timeout(120)

QUESTION = "When did the harbour bridge reopen?"
BRIDGE_QUOTE = "The Eastport harbour bridge reopened to traffic on Thursday"
SLOW_SECONDS = 10.0  # how long the held work "takes", on Discord's clock
Start = Callable[[DiscordEmulator, StoredMessage], Awaitable[InteractionRecord]]


async def run_ask(emu: DiscordEmulator, answer: StoredMessage) -> InteractionRecord:
    return await emu.run_slash_command("ask", {"question": QUESTION})


async def run_sources_last(emu: DiscordEmulator, answer: StoredMessage) -> InteractionRecord:
    return await emu.run_slash_command("sources", subcommand="last")


async def press_sources(emu: DiscordEmulator, answer: StoredMessage) -> InteractionRecord:
    return await emu.press_button(answer, custom_id(answer, "citebot:sources:"))


async def press_vote(emu: DiscordEmulator, answer: StoredMessage) -> InteractionRecord:
    return await emu.press_button(answer, custom_id(answer, "citebot:vote:up:"), user=emu.admin)


ACTIONS: dict[str, Start] = {
    "ask": run_ask,
    "sources-last": run_sources_last,
    "sources-button": press_sources,
    "vote-button": press_vote,
}


def shows_the_result(action: str) -> Callable[[StoredMessage], bool]:
    """What the user must end up seeing for each action."""
    if action == "ask":
        return lambda m: BRIDGE_QUOTE in embed_text(m)
    if action == "vote-button":
        return lambda m: m.ephemeral and "👍 is recorded" in m.content
    return lambda m: m.ephemeral and BRIDGE_QUOTE in embed_text(m)


async def held_calls(slowdown: Slowdown, count: int) -> None:
    """Wait until `count` engine or feedback calls are held by the slowdown."""
    if not await asyncio.to_thread(slowdown.wait_for_waiting, count, STEP_TIMEOUT):
        raise TimeoutError(f"fewer than {count} calls reached the slow engine")


@pytest.mark.parametrize("busy", [False, True], ids=["slow", "slow-and-every-worker-busy"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_an_interaction_is_acknowledged_before_the_slow_work(
    action: str, busy: bool, slow_engine: Any, slow_feedback: Any, slowdown: Slowdown
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        limiter = QuestionRateLimiter(100, 60.0)  # the questions that keep the workers busy
        async with running_bot(emu, slow_engine, slow_feedback, rate_limiter=limiter):
            # The first answer by /ask: its follow-up leaves the channel's message bucket (5
            # per 5 s) to the answers below, none of which must wait for Discord's window.
            first = await emu.run_slash_command("ask", {"question": QUESTION})
            answer = await emu.wait_for_message(interaction=first, timeout=STEP_TIMEOUT)
            assert await asyncio.to_thread(slow_feedback.was_posted.wait, STEP_TIMEOUT)
            with slowdown.held():
                others = [
                    await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
                    for _ in range(QUERY_WORKERS if busy else 0)
                ]
                await held_calls(slowdown, len(others))  # every worker is held
                interaction = await ACTIONS[action](emu, answer)
                await emu.wait_for_ack(interaction)  # within the deadline, the work held
                if not busy:
                    await held_calls(slowdown, 1)  # the interaction's own work has begun
                emu.advance_clock(SLOW_SECONDS)
            shown = await emu.wait_for_message(
                interaction=interaction, predicate=shows_the_result(action), timeout=STEP_TIMEOUT
            )
            for question in others:  # the questions that held the workers are answered too
                await emu.wait_for_message(
                    emu.channel.id, replies_to(question), timeout=STEP_TIMEOUT
                )
        assert interaction.callback_type in (5, 6)  # deferred: "thinking", or a quiet update
        if action == "ask":
            assert shown.id == interaction.original_message_id and not shown.ephemeral
        if action in ("sources-last", "sources-button"):
            assert QUESTION in shown.content  # the heading names the question answered
        if action == "vote-button":
            buttons = emu.message(answer).components[0]["components"]
            labels = {b["custom_id"].split(":")[2]: b.get("label") for b in buttons}
            assert (labels["up"], labels["down"]) == ("1", None)  # the count the answer shows

    run_scenario(scenario)
