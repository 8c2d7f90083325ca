"""End to end: Discord's REST API refuses or fails, and the bot copes as a user would want.

Rate limits on the interaction callback, on a follow-up and globally are waited out; a server
error that outlasts discord.py's retries, or one it does not retry, ends in an apology rather
than silence or a crash; a channel the bot may not write in is skipped with a warning while
other channels keep being answered; and the bot keeps within a route's rate limit as its
`X-RateLimit-*` headers tell it to.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import discord
import pytest

from bot.async_engine import QUERY_WORKERS
from bot.errors import APOLOGY
from bot.ratelimit import QuestionRateLimiter
from tests.bot.engines import Slowdown
from tests.bot.harness import (
    CALLBACK_PATH,
    FOLLOWUP_PATH,
    MESSAGES_PATH,
    STEP_TIMEOUT,
    ask_by_mention,
    embed_text,
    replies_to,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator
from tests.discord_emulator.models import (
    CREATE_PUBLIC_THREADS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
)
from tests.discord_emulator.ratelimits import MESSAGES as MESSAGES_ROUTE
from tests.discord_emulator.ratelimits import RouteLimit

pytestmark = pytest.mark.timeout(90)

QUESTION = "When did the harbour bridge reopen?"
BRIDGE_QUOTE = "The Eastport harbour bridge reopened to traffic on Thursday"
DISCORD_PY_TRIES = 5  # discord.py gives up on a 5xx after five attempts (1+3+5+7+9 s apart)


@contextmanager
def logged(logger: str, start: str) -> Iterator[asyncio.Event]:
    """An event set (from any thread) once `logger` logs a message starting with `start`."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith(start):
                loop.call_soon_threadsafe(event.set)

    handler = Watch()
    logging.getLogger(logger).addHandler(handler)
    try:
        yield event
    finally:
        logging.getLogger(logger).removeHandler(handler)


@pytest.mark.parametrize("path", [CALLBACK_PATH, FOLLOWUP_PATH], ids=["callback", "follow-up"])
def test_a_rate_limited_interaction_response_is_retried(
    path: str, engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            since = emu.checkpoint()
            emu.fail_next("POST", path, status=429, retry_after=0.3)
            command = await emu.run_slash_command("ask", {"question": QUESTION})
            answer = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        first, retry = emu.requests_to("POST", path, since=since)
        assert (first.status, retry.status) == (429, 200)
        assert retry.time - first.time >= 0.3 - 0.01  # it waited retry_after
        assert command.callback_type == 5 and BRIDGE_QUOTE in embed_text(answer)

    run_scenario(scenario)


def test_a_global_rate_limit_holds_every_request(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        elsewhere = emu.add_text_channel("elsewhere")
        async with running_bot(emu, engine, feedback):
            here = rf"^/channels/{emu.channel.id}/messages$"
            emu.fail_next("POST", here, status=429, retry_after=1.0, is_global=True)
            with logged("discord.http", "Global rate limit has been hit") as hit:
                first = await emu.send_message(f"{emu.bot_user.mention} {QUESTION}")
                await asyncio.wait_for(hit.wait(), STEP_TIMEOUT)
            limited = emu.requests_to("POST", here)[0]
            _, second = await ask_by_mention(
                emu, "Who discovered the comet?", channel_id=elsewhere.id
            )
            reply = await emu.wait_for_message(
                emu.channel.id, replies_to(first), timeout=STEP_TIMEOUT
            )
        there = emu.requests_to("POST", rf"^/channels/{elsewhere.id}/")  # typing, then the answer
        assert limited.status == 429 and limited.response["global"] is True
        assert min(r.time for r in there) - limited.time >= 1.0 - 0.01  # held by the global limit
        assert BRIDGE_QUOTE in embed_text(reply) and "comet" in embed_text(second)

    run_scenario(scenario)


def test_a_server_error_that_outlasts_the_retries_gets_an_apology(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        expected = (discord.DiscordServerError,)
        async with running_bot(emu, engine, feedback, expect_errors=expected, expect_error_logs=1):
            since = emu.checkpoint()
            emu.fail_next("POST", FOLLOWUP_PATH, status=500, count=DISCORD_PY_TRIES)
            command = await emu.run_slash_command("ask", {"question": QUESTION})
            apology = await emu.wait_for_message(
                interaction=command, predicate=lambda m: m.content == APOLOGY, timeout=40
            )
            again = await emu.run_slash_command("ask", {"question": QUESTION})
            answer = await emu.wait_for_message(interaction=again, timeout=STEP_TIMEOUT)
        statuses = [r.status for r in emu.requests_to("POST", FOLLOWUP_PATH, since=since)]
        assert statuses[: DISCORD_PY_TRIES + 1] == [500] * DISCORD_PY_TRIES + [200]
        assert apology.id == command.original_message_id  # in place of "thinking…"
        assert BRIDGE_QUOTE in embed_text(answer)  # and the next question is answered

    run_scenario(scenario)


def test_a_server_error_discord_py_does_not_retry_gets_an_apology(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, expect_error_logs=1):
            since = emu.checkpoint()
            here = rf"^/channels/{emu.channel.id}/messages$"
            emu.fail_next("POST", here, status=503)
            question, reply = await ask_by_mention(emu, QUESTION)
            _, answer = await ask_by_mention(emu, QUESTION)
        assert [r.status for r in emu.requests_to("POST", here, since=since)][:2] == [503, 200]
        assert reply.content == APOLOGY and replies_to(question)(reply)
        assert BRIDGE_QUOTE in embed_text(answer)

    run_scenario(scenario)


def test_an_answer_channel_the_bot_may_not_write_in_is_skipped(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        denied = SEND_MESSAGES | SEND_MESSAGES_IN_THREADS | CREATE_PUBLIC_THREADS
        overwrite = {"id": str(emu.bot_user.id), "type": 1, "allow": "0", "deny": str(denied)}
        closed = emu.add_text_channel("read-only", overwrites=[overwrite])
        async with running_bot(emu, engine, feedback, answer_channel_ids=[closed.id]) as bot:
            with logged("bot.exts.ask", "cannot answer in channel") as warned:
                await emu.send_message(QUESTION, channel_id=closed.id)
                await asyncio.wait_for(warned.wait(), STEP_TIMEOUT)
            _, answer = await ask_by_mention(emu, QUESTION)  # other channels are answered
        refused = [r for r in emu.requests if f"/channels/{closed.id}/" in r.path]
        assert refused and all(r.status == 403 for r in refused)
        assert not [
            m for m in emu.messages if m.channel_id == closed.id and m.author_id == emu.bot_user.id
        ]
        assert BRIDGE_QUOTE in embed_text(answer)
        warnings = [r for r in bot.observed.records if r.levelname == "WARNING"]  # type: ignore[attr-defined]
        assert any("cannot answer in channel" in r.getMessage() for r in warnings)

    run_scenario(scenario)


def test_the_bot_keeps_within_a_routes_rate_limit(
    slow_engine: Any, feedback: Any, slowdown: Slowdown
) -> None:
    tight = {("POST", MESSAGES_ROUTE): RouteLimit(2, 1.0)}  # 2 messages per second per channel

    async def scenario(emu: DiscordEmulator) -> None:
        limiter = QuestionRateLimiter(10, 60.0)
        async with running_bot(emu, slow_engine, feedback, rate_limiter=limiter):
            since = emu.checkpoint()
            with slowdown.held():  # the answers are ready at the same moment
                asked = [
                    await emu.send_message(f"{emu.bot_user.mention} {QUESTION}") for _ in range(5)
                ]
                await asyncio.to_thread(slowdown.wait_for_waiting, QUERY_WORKERS, STEP_TIMEOUT)
            for question in asked:  # at 2 per second, the last comes 2 s after the first
                await emu.wait_for_message(
                    emu.channel.id, replies_to(question), timeout=STEP_TIMEOUT
                )
        sends = emu.requests_to("POST", MESSAGES_PATH, since=since)
        assert [r.status for r in sends] == [200] * 5  # no 429 (nor anywhere: the harness)
        remaining = [r.response_headers["X-RateLimit-Remaining"] for r in sends]
        assert remaining[:2] == ["1", "0"]  # the bunched answers exhaust the window at once
        for earlier, later in itertools.pairwise(sends):
            if earlier.response_headers["X-RateLimit-Remaining"] == "0":
                reset_after = float(earlier.response_headers["X-RateLimit-Reset-After"])
                assert later.time - earlier.time >= reset_after  # waited, as the headers said

    run_scenario(scenario, route_limits=tight)
