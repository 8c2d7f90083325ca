"""`/reindex`: bring the index up to date with the articles folder, showing progress."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.permissions import admin_only
from index.progress import Progress
from index.store.indexer import IndexReport
from index.store.writer_lock import ReindexClaim

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 2.0  # seconds between progress edits (Discord allows 5 edits per 5 s)
TOKEN_LIFETIME = 14 * 60.0  # an interaction token lasts 15 minutes
DID_NOT_FINISH = "The reindex did not finish; the previous index is still in use."
TOKEN_GONE = (50027, 10015)  # Discord's "Invalid Webhook Token", "Unknown Webhook"


class ProgressTracker:
    """The reindex's latest (stage, done, total), written from its thread, read by the loop."""

    def __init__(self) -> None:
        self.latest: tuple[str | None, int, int] = (None, 0, 0)

    def __call__(self, progress: Progress) -> None:
        self.latest = (progress.stage, progress.done, progress.total)  # one atomic assignment


class ProgressMessage:
    """The public message a reindex keeps up to date.

    It is edited through the interaction while its token lives (15 minutes), then through the
    channel, so a long reindex still reports how it ended. Discord's clock decides: once it
    calls the token invalid, the channel is used even if ours says the token still lives.
    """

    def __init__(
        self, interaction: discord.Interaction[CitebotBot], token_lifetime: float = TOKEN_LIFETIME
    ) -> None:
        self.interaction = interaction
        self.token_lifetime = token_lifetime
        self.started = time.monotonic()
        self.message_id: int | None = None
        self.shown = ""
        self.token_expired = False

    async def start(self, text: str) -> None:
        response = await self.interaction.response.send_message(text)
        self.message_id = response.message_id
        self.shown = text

    async def show(self, text: str) -> None:
        """Replace the message's text (nothing is sent when it is unchanged)."""
        if text == self.shown:
            return
        try:
            if self.message_id is None or self._token_fresh():
                try:
                    await self.interaction.edit_original_response(content=text)
                except discord.HTTPException as exc:
                    if exc.code not in TOKEN_GONE or self.message_id is None:
                        raise
                    log.info("the interaction token has expired: editing through the channel")
                    self.token_expired = True
                    await self._edit_in_channel(self.message_id, text)
            else:
                await self._edit_in_channel(self.message_id, text)
        except Exception as exc:  # showing progress must never raise (e.g. while shutting down)
            log.warning("could not update the reindex message: %s", exc)
            return
        self.shown = text

    def _token_fresh(self) -> bool:
        """Whether the interaction token still works, as far as we know."""
        young = time.monotonic() - self.started < self.token_lifetime
        return young and not self.token_expired

    async def _edit_in_channel(self, message_id: int, text: str) -> None:
        channel = self.interaction.client.get_partial_messageable(self.interaction.channel_id or 0)
        await channel.get_partial_message(message_id).edit(content=text)


class Admin(commands.Cog):
    """Keeping the index up to date."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self.token_lifetime = TOKEN_LIFETIME

    @app_commands.command(name="reindex")
    @admin_only()
    async def reindex(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """Index new and changed articles (admins only); questions are answered meanwhile."""
        claim = self.bot.engine.claim_reindex()  # before the first await: no double start
        try:
            log.info("reindex started by user %d", interaction.user.id)
            progress = ProgressMessage(interaction, self.token_lifetime)
            await progress.start(render.reindex_progress(None))
        except BaseException:
            claim.release()
            raise
        report = await self._reindex(progress, claim)
        log.info("reindex finished: %s", report.as_json())
        await progress.show(render.reindex_report(report))

    async def _reindex(self, progress: ProgressMessage, claim: ReindexClaim) -> IndexReport:
        """Run the reindex (which releases `claim`), showing its progress every few seconds."""
        tracker = ProgressTracker()
        task = asyncio.ensure_future(self.bot.engine.reindex(tracker, claim=claim))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=PROGRESS_INTERVAL)
                if not task.done():
                    await progress.show(render.reindex_progress(*tracker.latest))
            return task.result()
        except asyncio.CancelledError:  # the bot is shutting down
            task.cancel()
            raise
        except Exception:
            await progress.show(DID_NOT_FINISH)
            raise


async def setup(bot: CitebotBot) -> None:
    """Load the extension."""
    await bot.add_cog(Admin(bot))
