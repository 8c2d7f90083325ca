"""`CitebotBot`: the Discord client, handed its engine, settings and feedback store."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot import errors
from bot.async_engine import AsyncEngine
from bot.config import BotSettings
from bot.ratelimit import QuestionRateLimiter
from bot.sync import sync_commands
from bot.views import KeyedLocks
from bot.written import AnswerWriter
from index.engine import Engine
from index.feedback import FeedbackStore

if TYPE_CHECKING:
    from index.answer.writer import Writer

log = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0  # how long closing waits for answers being posted
EXTENSIONS = (
    "bot.exts.ask",
    "bot.exts.sources",
    "bot.exts.admin",
    "bot.exts.feeds",
    "bot.exts.find_sources",
)


def intents() -> discord.Intents:
    """Servers and their messages, with content (for answer channels and replies)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


class CitebotBot(commands.Bot):
    """Answers questions over the indexed articles; one extension per feature area.

    `writer` (optional) writes answers in prose once the quoted answer has been sent.
    `options` go to `discord.Client` (e.g. `heartbeat_timeout`). Every message the bot sends
    allows no mentions, so quoted text or a question containing @everyone never pings.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        settings: BotSettings,
        feedback: FeedbackStore,
        rate_limiter: QuestionRateLimiter | None = None,
        writer: Writer | None = None,
        **options: Any,
    ) -> None:
        # citebot never joins voice: warnings about missing voice libraries are only noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.engine = AsyncEngine(engine)
        self.settings = settings
        self.feedback = feedback
        self.rate_limiter = rate_limiter or QuestionRateLimiter(
            settings.rate_limit_questions, settings.rate_limit_seconds
        )
        # With an LLM configured, answers are first sent as quotes, then rewritten (bot/written.py).
        self.writer = AnswerWriter(writer) if writer is not None else None
        self.tree.error(errors.on_app_command_error)
        self._answering: set[asyncio.Task[Any]] = set()
        self.vote_locks = KeyedLocks()

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Mark the current task as answering a question: `close` lets it finish first."""
        task = asyncio.current_task()
        if task is not None:
            self._answering.add(task)
        try:
            yield
        finally:
            self._answering.discard(task)  # type: ignore[arg-type]

    async def setup_hook(self) -> None:
        """Load the extensions (one failing never stops the rest), the model, then sync."""
        for extension in EXTENSIONS:
            try:
                await self.load_extension(extension)
            except Exception:
                log.exception("failed to load extension %s", extension)
        await self.engine.warm_up()
        await sync_commands(self.tree, self.settings.guild_ids, self.engine.data_dir)

    async def on_ready(self) -> None:
        """Log who we are and where we answer."""
        assert self.user is not None
        log.info(
            "logged in as %s (%d) in %d servers; answer channels: %s",
            self.user,
            self.user.id,
            len(self.guilds),
            self.settings.answer_channel_ids or "none",
        )

    async def on_message(self, message: discord.Message, /) -> None:
        """Prefix commands are not used: questions are handled by the ask extension."""

    async def close(self) -> None:
        """Let answers being posted finish (briefly), disconnect, then stop the engine."""
        pending = self._answering - {asyncio.current_task()}
        if pending:
            log.info("letting %d answers finish before closing", len(pending))
            await asyncio.wait(pending, timeout=DRAIN_SECONDS)
        await super().close()
        self.engine.close()
        if self.writer is not None:
            self.writer.close()
