"""`citebot serve`: read the settings, build the engine once, run the bot until it is stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from pydantic import ValidationError

from bot.async_engine import REINDEX_THREAD_NAME
from bot.client import CitebotBot
from bot.config import BotSettings, settings_error
from index.engine import Engine
from index.errors import WriterSettingsError
from index.feedback import FEEDBACK_FILE, FeedbackStore
from index.settings import EngineSettings, load_writer_settings

if TYPE_CHECKING:
    from index.answer.writer import Writer

log = logging.getLogger(__name__)

TOKEN_REJECTED = (
    "Discord rejected DISCORD_TOKEN: copy the bot token again from the Developer Portal "
    "(Bot > Reset Token) into the environment or .env."
)
INTENT_REFUSED = (
    "Discord refused the Message Content intent: enable it in the Developer Portal "
    "(Bot > Privileged Gateway Intents > Message Content Intent)."
)
GATEWAY_AUTH_FAILED = 4004
REINDEX_STOP_SECONDS = 20  # systemd's default stop timeout is 90 s


def serve(settings: EngineSettings) -> int:
    """Run the bot: 0 after a clean stop, 2 (and one sentence on stderr) if it cannot start."""
    try:
        bot_settings = BotSettings()
    except ValidationError as exc:
        return _fail(settings_error(exc))
    try:
        writer = _writer()
    except WriterSettingsError as exc:
        return _fail(str(exc))
    point_discord_at(bot_settings.discord_api_base, bot_settings.discord_gateway_url)
    _show_bot_progress()
    if writer is not None:
        log.info("answers are also written by %s, quotes checked", writer.model)
    engine = Engine(settings)
    feedback = feedback_store(settings)
    try:
        asyncio.run(_run(bot_settings, engine, feedback, writer))
        _exit_now_if_a_reindex_thread_remains()
    except discord.LoginFailure:
        return _fail(TOKEN_REJECTED)
    except discord.PrivilegedIntentsRequired:
        return _fail(INTENT_REFUSED)
    except discord.ConnectionClosed as exc:
        if exc.code != GATEWAY_AUTH_FAILED:
            raise
        return _fail(TOKEN_REJECTED)
    except aiohttp.ClientConnectionError as exc:
        where = bot_settings.discord_api_base or "discord.com"
        return _fail(
            f"Cannot reach Discord at {where} ({exc.__class__.__name__}): check the network."
        )
    return 0


def feedback_store(settings: EngineSettings) -> FeedbackStore:
    """The answers-and-votes store in the data directory, keeping CITEBOT_KEEP_QUESTIONS_DAYS."""
    return FeedbackStore(
        Path(settings.data_dir) / FEEDBACK_FILE, keep_days=settings.keep_questions_days
    )


def _writer() -> Writer | None:
    """The LLM writer, when CITEBOT_LLM_BASE_URL is set (its client is imported only then)."""
    settings = load_writer_settings()
    if not settings.enabled:
        return None
    from index.answer.writer import Writer

    return Writer(settings)


def point_discord_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST calls and gateway connection elsewhere (None keeps Discord)."""
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def _run(
    settings: BotSettings, engine: Engine, feedback: FeedbackStore, writer: Writer | None
) -> None:
    async with CitebotBot(
        engine=engine, settings=settings, feedback=feedback, writer=writer
    ) as bot:
        loop = asyncio.get_running_loop()
        stopping: set[asyncio.Task[None]] = set()  # a reference, so the task is not collected

        def on_sigterm() -> None:
            if not stopping:
                stopping.add(asyncio.create_task(stop(bot), name="citebot-stop"))

        # Not on Windows, nor outside the main thread: then only Ctrl-C stops the bot.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        await bot.start(settings.discord_token.get_secret_value())


async def stop(bot: CitebotBot) -> None:
    """Stop on SIGTERM: abandon a running reindex (waiting up to REINDEX_STOP_SECONDS for it to
    reach a safe point), then let answers being posted finish and disconnect."""
    log.info("stopping (SIGTERM)")
    if not await bot.engine.stop(REINDEX_STOP_SECONDS):
        log.warning(
            "the reindex did not stop within %d s: it is left unfinished (the previous index "
            "stays in use; the next reindex removes what it wrote)",
            REINDEX_STOP_SECONDS,
        )
    await bot.close()


def _exit_now_if_a_reindex_thread_remains() -> None:
    """A reindex thread still running (it did not reach a safe point in time) would be torn
    down with the interpreter, inside native code; leave at once instead, which the index
    survives as it survives a kill."""
    if any(t.name == REINDEX_THREAD_NAME and t.is_alive() for t in threading.enumerate()):
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _show_bot_progress() -> None:
    """The bot's own INFO lines (logged in, commands synced) even without `-v`."""
    bot_log = logging.getLogger("bot")
    if bot_log.getEffectiveLevel() > logging.INFO:
        bot_log.setLevel(logging.INFO)


def _fail(sentence: str) -> int:
    print(f"citebot: {sentence}", file=sys.stderr)
    return 2
