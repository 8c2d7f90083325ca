"""Fresh sources: the scheduled feed refresh, and what `/sources add|feeds|feed-add|
feed-remove` (in `sources.py`) ask of it.

Everything fetched is written into the articles folder and indexed by the engine's one
incremental reindex, which never runs twice at once: a refresh that finds a reindex running
waits for it, and `/reindex` is refused while a refresh's reindex runs. Questions are answered
from the live index all along. Fetching runs on the event loop (aiohttp); parsing, files and
SQLite in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

from bot.errors import UserError
from index.errors import CitebotError, ReindexRunningError
from index.ingest.web.feeds import (
    ParsedFeed,
    add_feed,
    normalise_feed_url,
    read_feeds,
    remove_feed,
)
from index.ingest.web.fetch import FetchError
from index.ingest.web.refresh import WebConfig, add_urls, check_feed, refresh_feeds
from index.ingest.web.report import FetchReport
from index.ingest.web.state import FeedRecord, WebState
from index.store.indexer import IndexReport

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchRun:
    """One add or refresh: what was fetched, and the reindex that followed (if any)."""

    fetched: FetchReport
    index: IndexReport | None
    index_error: str | None
    finished: datetime


class Feeds(commands.Cog):
    """Adding pages by URL, following feeds, and refreshing them on a schedule."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self.config = WebConfig.from_settings(bot.engine.settings)
        self.minutes = bot.settings.refresh_minutes
        self.last_refresh: FetchRun | None = None
        self.refreshed = asyncio.Event()  # set after each refresh, for whoever waits on one
        self._refreshing = asyncio.Lock()
        self._reindex_due = False  # a reindex that could not run yet

    async def cog_load(self) -> None:
        if self.minutes:
            self.scheduled.change_interval(minutes=self.minutes)
            self.scheduled.start()
            log.info("feeds are refreshed every %g minutes", self.minutes)

    async def cog_unload(self) -> None:
        task = self.scheduled.get_task()
        self.scheduled.cancel()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @tasks.loop(minutes=60)
    async def scheduled(self) -> None:
        """Refresh the feeds; a failure is logged and the schedule goes on."""
        try:
            await self.refresh()
        except asyncio.CancelledError:
            raise
        except CitebotError as exc:
            log.warning("scheduled refresh skipped: %s", exc)
        except Exception:
            log.exception("scheduled refresh failed")

    @scheduled.before_loop
    async def _wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()

    async def refresh(self) -> FetchRun:
        """Refresh every feed, then reindex if anything changed."""
        async with self._refreshing:
            fetched = await refresh_feeds(self.config)
            run = await self._index(fetched)
            self.last_refresh = run
            self.refreshed.set()
            log.info("feeds refreshed: %s", fetched.summary())
            return run

    async def add(self, urls: list[str]) -> FetchRun:
        """Fetch pages by URL, write them, and reindex if anything changed."""
        fetched = await add_urls(urls, self.config)
        return await self._index(fetched)

    async def _index(self, fetched: FetchReport) -> FetchRun:
        if not (fetched.changed or self._reindex_due):
            return FetchRun(fetched, None, None, datetime.now(UTC))
        try:
            report = await self.bot.engine.reindex(wait=True)
        except ReindexRunningError as exc:  # another process (`citebot index`) holds the lock
            self._reindex_due = True
            log.warning("fetched articles wait for the next reindex: %s", exc)
            return FetchRun(fetched, None, str(exc), datetime.now(UTC))
        self._reindex_due = False
        return FetchRun(fetched, report, None, datetime.now(UTC))

    async def feeds(self) -> list[tuple[str, FeedRecord | None]]:
        """Each feed in the feeds file with its last refresh (None before the first)."""
        urls = await asyncio.to_thread(read_feeds, self.config.feeds_file)
        records = await asyncio.to_thread(WebState(self.config.data_dir).feeds)
        return [(url, records.get(url)) for url in urls]

    async def follow(self, url: str) -> tuple[str, ParsedFeed | None]:
        """Check that `url` is a feed and add it to the feeds file; its entries are fetched by
        the next refresh. Returns the URL as stored and the feed (None if already followed)."""
        url = normalise_feed_url(url, self.config.policy)
        if url in await asyncio.to_thread(read_feeds, self.config.feeds_file):
            return url, None
        try:
            parsed = await check_feed(url, self.config)
        except (FetchError, ValueError) as exc:
            raise UserError(f"Not added: {_sentence(exc)}") from None
        await asyncio.to_thread(add_feed, self.config.feeds_file, url, self.config.policy)
        log.info("now following %s", url)
        return url, parsed

    async def unfollow(self, url: str) -> bool:
        """Remove `url` from the feeds file (its articles stay); False if it was not there."""
        removed = await asyncio.to_thread(remove_feed, self.config.feeds_file, url)
        if removed:
            log.info("no longer following %s", url)
        return removed


def _sentence(exc: BaseException) -> str:
    return " ".join(str(exc).split())


async def setup(bot: CitebotBot) -> None:
    """Load the extension."""
    await bot.add_cog(Feeds(bot))
