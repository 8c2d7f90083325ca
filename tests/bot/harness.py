"""Running the real `CitebotBot` against the Discord emulator, and what every test checks.

Each scenario runs in a fresh event loop with a fresh emulator. A bot started with
`running_bot` fails its test on: an app-command error reaching the tree's error handler
(unless the test expects it), an ERROR log record (unless expected), the token appearing in
any log record, a request to a route the emulator does not know, a message sent without
`allowed_mentions` allowing nothing, a message that would ping anyone (mentions in embeds
included), a message over Discord's limits, a request refused by Discord's per-route rate
limits, an interaction answered after the 3-second deadline, blocking engine or SQLite work on
the event loop, and asyncio tasks left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands

from bot.client import CitebotBot
from bot.config import BotSettings
from bot.ratelimit import QuestionRateLimiter
from index.answer.writer import Writer
from index.engine import Engine
from index.feedback import FeedbackStore
from tests.bot.engines import Gate, LoopGuard
from tests.discord_emulator import DiscordEmulator, StoredMessage, discord_pointed_at
from tests.threads import join_all, started_since

STEP_TIMEOUT = 10.0
MESSAGES_PATH = r"^/channels/\d+/messages$"
FOLLOWUP_PATH = r"^/webhooks/\d+/[^/]+$"
CALLBACK_PATH = r"^/interactions/\d+/[^/]+/callback$"
NO_MENTIONS = {"parse": []}
UNKNOWN_INTERACTION = 10062  # Discord's code for a callback after the 3-second deadline


class BotUnderTest(CitebotBot):
    """The product bot, minus discord.py's 5 s sleep before re-identifying."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify at once."""


@dataclass
class Observed:
    """What happened inside the bot that the test may inspect."""

    tree_errors: list[BaseException] = field(default_factory=list)
    records: list[logging.LogRecord] = field(default_factory=list)

    def error_records(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= logging.ERROR]


class _Collect(logging.Handler):
    def __init__(self, observed: Observed) -> None:
        super().__init__(logging.DEBUG)
        self.observed = observed

    def emit(self, record: logging.LogRecord) -> None:
        self.observed.records.append(record)


@contextlib.contextmanager
def capture_logs(observed: Observed) -> Iterator[None]:
    """Collect every record of the bot, the engine and discord.py, DEBUG included."""
    handler = _Collect(observed)
    loggers = [logging.getLogger(name) for name in ("discord", "bot", "index")]
    levels = [lg.level for lg in loggers]
    root = logging.getLogger()
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def bot_settings(emu: DiscordEmulator, **overrides: Any) -> BotSettings:
    """Settings pointing at the emulator's guild; `overrides` by field name."""
    values: dict[str, Any] = {"discord_token": emu.token, "guild_ids": [emu.guild.id]}
    values.update(overrides)
    return BotSettings(_env_file=None, **values)


async def start_bot(bot: discord.Client, token: str) -> asyncio.Task[None]:
    """Start `bot` and return its task once it is ready (raising if start-up failed)."""
    runner = asyncio.create_task(bot.start(token), name="bot-runner")
    ready = asyncio.create_task(bot.wait_until_ready(), name="bot-ready")
    await asyncio.wait({runner, ready}, timeout=STEP_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready.done():
        return runner
    for task in (ready, runner):
        task.cancel()
    failure = (await asyncio.gather(runner, ready, return_exceptions=True))[0]
    if isinstance(failure, BaseException) and not isinstance(failure, asyncio.CancelledError):
        raise failure
    raise TimeoutError("the bot did not become ready")


@contextlib.asynccontextmanager
async def running_bot(
    emu: DiscordEmulator,
    engine: Engine,
    feedback: FeedbackStore,
    *,
    expect_errors: tuple[type[BaseException], ...] = (),
    expect_error_logs: int = 0,
    rate_limiter: QuestionRateLimiter | None = None,
    writer: Writer | None = None,
    heartbeat_timeout: float = STEP_TIMEOUT,
    **settings: Any,
) -> AsyncIterator[BotUnderTest]:
    """A connected `BotUnderTest`; on exit it is closed, the threads it started (a reindex,
    the engine's workers) are joined, and everything it did is checked."""
    observed = Observed()
    before = threading.enumerate()
    bot = BotUnderTest(
        engine=engine,
        settings=bot_settings(emu, **settings),
        feedback=feedback,
        rate_limiter=rate_limiter,
        writer=writer,
        guild_ready_timeout=0.05,
        heartbeat_timeout=heartbeat_timeout,
    )
    bot.observed = observed  # type: ignore[attr-defined]
    handler = bot.tree.on_error

    async def on_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        observed.tree_errors.append(error)
        await handler(interaction, error)

    bot.tree.on_error = on_error  # type: ignore[method-assign]
    with capture_logs(observed):
        async with bot:
            runner = await start_bot(bot, emu.token)
            try:
                yield bot
            finally:
                Gate.open_all()  # a test that failed while holding its engine lets it go
                await ready_sequence_done(bot)
                await bot.close()
                await asyncio.wait_for(runner, STEP_TIMEOUT)
                await join_bot_threads(before)
    check_bot_behaviour(emu, observed, expect_errors, expect_error_logs)
    guard = getattr(engine, "guard", None)
    if isinstance(guard, LoopGuard):
        assert not guard.violations, f"blocking calls on the event loop: {guard.violations}"


async def ready_sequence_done(bot: discord.Client) -> None:
    """Wait (bounded) for the ready sequence a READY starts (discord.py waits
    `guild_ready_timeout` for GUILD_CREATEs in a task that `close()` does not cancel): after a
    fresh IDENTIFY mid-test, a bot closed too soon would leave that task pending."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while getattr(bot._connection, "_ready_task", None) is not None:
        if time.monotonic() > deadline:
            raise AssertionError("the bot's ready sequence did not end")
        await asyncio.sleep(0.01)


async def join_bot_threads(before: list[threading.Thread]) -> None:
    """Wait for the threads a closed bot started (the event loop's own executor aside, which
    `asyncio.run` joins): a reindex it began ends before the test does."""
    started = [t for t in started_since(before) if not t.name.startswith("asyncio_")]
    running = await asyncio.to_thread(join_all, started)
    assert not running, f"threads the bot started are still running: {running}"


def check_bot_behaviour(
    emu: DiscordEmulator,
    observed: Observed,
    expect_errors: tuple[type[BaseException], ...],
    expect_error_logs: int,
) -> None:
    """The checks every scenario must pass (see the module docstring)."""
    raised = [
        e.original if isinstance(e, app_commands.CommandInvokeError) else e
        for e in observed.tree_errors
    ]
    unexpected = [e for e in raised if not isinstance(e, expect_errors)]
    assert not unexpected, f"app-command errors: {unexpected!r}"
    errors = observed.error_records()
    assert len(errors) == expect_error_logs, [r.getMessage() for r in errors]
    leaked = [r.getMessage() for r in observed.records if emu.token in _full_text(r)]
    assert not leaked, f"the token appears in the logs: {leaked}"
    unrouted = [f"{r.method} {r.path}" for r in emu.requests if r.route is None]
    assert not unrouted, f"requests to routes the emulator does not know: {unrouted}"
    for request, body in message_bodies(emu):
        assert body.get("allowed_mentions") == NO_MENTIONS, (request.method, request.path, body)
    for message in emu.messages:
        if message.author_id == emu.bot_user.id:
            assert_within_limits(message)
            assert not message.pings, f"message {message.id} pings: {message.pings}"
    limited = [f"{r.method} {r.path}" for r in emu.requests if r.rate_limited]
    assert not limited, f"the bot ran into Discord's rate limits: {limited}"
    late = [r.path for r in emu.requests if _error_code(r.response) == UNKNOWN_INTERACTION]
    assert not late, f"interactions answered after Discord's 3-second deadline: {late}"


def _error_code(body: Any) -> int | None:
    return body.get("code") if isinstance(body, dict) else None


def _full_text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text


def message_bodies(emu: DiscordEmulator) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Every request body that creates or edits a message."""
    for request in emu.requests:
        body = request.json
        if request.method not in ("POST", "PATCH") or not isinstance(body, dict):
            continue
        if re.search(CALLBACK_PATH, request.path):
            body = body.get("data") or {}
        if any(key in body for key in ("content", "embeds", "components")):
            yield request, body


def assert_within_limits(message: StoredMessage) -> None:
    """Discord's limits: 2,000 of content, 4,096 per description, 256 per title and author,
    2,048 per footer, 6,000 over all embeds."""
    assert len(message.content) <= 2000
    total = 0
    for embed in message.embeds:
        assert len(embed.get("description") or "") <= 4096
        assert len(embed.get("title") or "") <= 256
        total += sum(len(embed.get(k) or "") for k in ("title", "description"))
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        assert len(footer) <= 2048 and len(author) <= 256
        total += len(footer) + len(author)
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields") or [])
    assert total <= 6000


def run_scenario(
    scenario: Callable[[DiscordEmulator], Awaitable[None]], **emu_options: Any
) -> None:
    """Run `scenario` against a fresh emulator in a fresh loop; fail on leaks and stray errors."""
    loop_errors: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, context: loop_errors.append(context["message"]))
        async with DiscordEmulator(**emu_options) as emu:
            with discord_pointed_at(emu.api_base, emu.gateway_url):
                await scenario(emu)
        gc.collect()  # an unclosed aiohttp session reports itself when collected
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not leftover, f"tasks still pending after shutdown: {leftover}"

    asyncio.run(main())
    assert not loop_errors, f"event loop reported: {loop_errors}"


# -- reading what the bot sent ---------------------------------------------------------------


def replies_to(message: dict[str, Any]) -> Callable[[StoredMessage], bool]:
    """Predicate: a stored message that replies to `message`."""
    return lambda m: (m.payload.get("message_reference") or {}).get("message_id") == message["id"]


def embed_text(message: StoredMessage) -> str:
    """Everything a reader sees in a message: content and every embed's text."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("url") or "", embed.get("description") or ""]
        parts.append((embed.get("footer") or {}).get("text") or "")
    return "\n".join(parts)


def custom_id(message: StoredMessage, prefix: str) -> str:
    """The custom_id on `message` that starts with `prefix`."""
    (found,) = [c for c in message.custom_ids() if c.startswith(prefix)]
    return found


async def ask_by_mention(
    emu: DiscordEmulator, question: str, **kwargs: Any
) -> tuple[dict[str, Any], StoredMessage]:
    """Mention the bot with `question`; return the question and the bot's reply."""
    sent = await emu.send_message(f"{emu.bot_user.mention} {question}", **kwargs)
    channel_id = kwargs.get("channel_id") or emu.channel.id
    reply = await emu.wait_for_message(channel_id, replies_to(sent), timeout=STEP_TIMEOUT)
    return sent, reply
