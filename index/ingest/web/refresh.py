"""Adding pages by URL and refreshing feeds: fetch, extract, write into the articles folder.

Indexing is left to the caller (the CLI runs `update_index`, the bot its engine's reindex), so
what is fetched always goes through the one incremental reindex. One failing feed or page is
reported and never stops the rest. Network work is asynchronous; parsing, extraction and
file and SQLite work run in worker threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from aiohttp.abc import AbstractResolver

from index.errors import CitebotError
from index.ingest.web.feeds import FeedEntry, ParsedFeed, parse_feed, read_feeds
from index.ingest.web.fetch import Fetcher, FetchError, FetchLimits, Page
from index.ingest.web.guard import AddressPolicy
from index.ingest.web.pages import EntryHints, ExtractError, WebArticle, page_article
from index.ingest.web.report import FeedOutcome, FetchReport, PageOutcome
from index.ingest.web.state import FeedRecord, PageRecord, StoredRobots, WebState
from index.ingest.web.writer import article_path, remove_older_than, write_article
from index.settings import EngineSettings

log = logging.getLogger(__name__)

REFRESH_LOCK = ".refresh.lock"
CONCURRENT_FETCHES = 8


class RefreshRunningError(CitebotError):
    """Another refresh of the same feeds is running."""


@dataclass(frozen=True)
class WebConfig:
    """Where fetched articles go and how they are fetched."""

    articles_dir: Path
    data_dir: Path
    feeds_file: Path
    keep_days: int | None = None
    limits: FetchLimits = field(default_factory=FetchLimits)
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    resolver: AbstractResolver | None = None  # the system resolver; tests inject their own

    @classmethod
    def from_settings(
        cls, settings: EngineSettings, resolver: AbstractResolver | None = None
    ) -> WebConfig:
        """The configuration the settings describe."""
        return cls(
            articles_dir=Path(settings.articles_dir),
            data_dir=Path(settings.data_dir),
            feeds_file=Path(settings.feeds_file),
            keep_days=settings.keep_days,
            limits=FetchLimits(
                user_agent=settings.user_agent,
                timeout=settings.fetch_timeout,
                max_bytes=int(settings.max_page_mb * 1024 * 1024),
                per_host_connections=settings.host_connections,
                host_delay=settings.host_delay,
            ),
            policy=AddressPolicy(allow_private=settings.allow_private_urls),
            resolver=resolver,
        )

    def fetcher(self, state: WebState) -> Fetcher:
        """A fetcher under these limits and this policy, caching robots.txt in `state`."""
        return Fetcher(
            self.limits, self.policy, resolver=self.resolver, robots_cache=StoredRobots(state)
        )


async def add_urls(urls: list[str], config: WebConfig) -> FetchReport:
    """Fetch each page (or PDF) and write it as an article; unchanged pages are left be."""
    state = WebState(config.data_dir)
    unique = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
    limit = asyncio.Semaphore(CONCURRENT_FETCHES)

    async def one(fetcher: Fetcher, url: str) -> PageOutcome:
        async with limit:
            return await _add_page(fetcher, state, config, url)

    async with config.fetcher(state) as fetcher:
        outcomes = await asyncio.gather(*(one(fetcher, url) for url in unique))
    return FetchReport(pages=list(outcomes))


async def refresh_feeds(config: WebConfig, now: datetime | None = None) -> FetchReport:
    """Read every feed in the feeds file, fetch the pages of entries not seen before (and
    retry those that failed in a way that may pass), write them, and apply retention.

    `now` (default: the current time) dates retention and retries. Raises
    RefreshRunningError when another refresh of the same data directory is running.
    """
    now = now or datetime.now(UTC)
    with _refresh_lock(config.data_dir):
        feeds = await asyncio.to_thread(read_feeds, config.feeds_file)
        state = WebState(config.data_dir)
        report = FetchReport()
        async with config.fetcher(state) as fetcher:
            run = _Run(config, state, fetcher, now)
            results = await asyncio.gather(*(run.feed(url) for url in feeds))
        for feed, pages in results:
            report.feeds.append(feed)
            report.pages.extend(pages)
        if config.keep_days:
            report.removed = await asyncio.to_thread(
                remove_older_than, config.articles_dir, config.keep_days, now.date()
            )
        log.info("refresh: %s", report.summary())
        return report


async def check_feed(url: str, config: WebConfig) -> ParsedFeed:
    """Fetch and parse `url` once, remembering nothing (its entries are fetched by the next
    refresh): FetchError or ValueError when it is not a feed citebot can follow."""
    async with config.fetcher(WebState(config.data_dir)) as fetcher:
        page = await fetcher.get(url, accept=frozenset({"feed"}))
    return await asyncio.to_thread(parse_feed, page.body, page.url, page.content_type)


@contextmanager
def _refresh_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / REFRESH_LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RefreshRunningError(
                "Another refresh of the feeds is running; try again when it has finished."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class _Run:
    """One refresh: the feeds share a fetcher, the state and a bound on parallel fetches."""

    def __init__(self, config: WebConfig, state: WebState, fetcher: Fetcher, now: datetime) -> None:
        self.config = config
        self.state = state
        self.fetcher = fetcher
        self.now = now
        self.limit = asyncio.Semaphore(CONCURRENT_FETCHES)
        keep = config.keep_days
        self.cutoff = (now.date() - timedelta(days=keep)).isoformat() if keep else None

    async def feed(self, url: str) -> tuple[FeedOutcome, list[PageOutcome]]:
        """Read one feed and fetch its new entries; a failure is reported, never raised."""
        known = await asyncio.to_thread(self.state.feed, url)
        try:
            async with self.limit:
                page = await self.fetcher.get(
                    url,
                    accept=frozenset({"feed"}),
                    etag=known.etag if known else None,
                    last_modified=known.last_modified if known else None,
                )
            parsed = None
            if not page.not_modified:
                parsed = await asyncio.to_thread(parse_feed, page.body, page.url, page.content_type)
        except Exception as exc:  # FetchError, a ValueError from parsing, or a bug: report it
            error = _sentence(exc)
            if not isinstance(exc, FetchError | ValueError):
                log.exception("unexpected error reading the feed %s", url)
            log.warning("feed %s failed: %s", url, error)
            failed = FeedRecord(url, status="failed", error=error, failed=1)
            await asyncio.to_thread(self.state.record_feed, failed)
            return FeedOutcome(url, "failed", error=error), []
        entries = parsed.entries if parsed else []
        todo = await self._entries_to_fetch(url, entries)
        pages = list(await asyncio.gather(*(self.entry(url, entry) for entry in todo)))
        record = FeedRecord(
            url,
            title=parsed.title if parsed else None,
            etag=page.etag,
            last_modified=page.last_modified,
            status="ok" if parsed else "not modified",
            entries=len(entries) if parsed else (known.entries if known else 0),
            added=sum(1 for p in pages if p.status in ("added", "updated")),
            failed=sum(1 for p in pages if p.status == "failed"),
        )
        await asyncio.to_thread(self.state.record_feed, record)
        outcome = FeedOutcome(
            url,
            record.status,  # type: ignore[arg-type]
            title=parsed.title if parsed else (known.title if known else None),
            entries=record.entries,
            new=len(pages),
            seen=max(0, len(entries) - len(pages)),
        )
        return outcome, pages

    async def _entries_to_fetch(self, feed_url: str, entries: list[FeedEntry]) -> list[FeedEntry]:
        """Entries the feed never had, then earlier failures due for another try."""
        keys = [entry.key for entry in entries]
        new = await asyncio.to_thread(self.state.new_entries, feed_url, keys)
        due = await asyncio.to_thread(self.state.due_retries, feed_url, self.now.timestamp())
        todo = {e.key: e for e in entries if e.key in new}
        for entry in due:
            todo.setdefault(entry.key, entry)
        return list(todo.values())

    async def entry(self, feed_url: str, entry: FeedEntry) -> PageOutcome:
        """Fetch and write one entry's page (unless it is older than retention keeps)."""
        published = (entry.hints.published or "")[:10]
        if self.cutoff and published and published < self.cutoff:
            outcome = PageOutcome(
                entry.link,
                "skipped",
                title=entry.hints.title,
                reason=f"published {published}, older than CITEBOT_KEEP_DAYS allows",
            )
        else:
            async with self.limit:
                outcome = await _add_page(
                    self.fetcher, self.state, self.config, entry.link, entry.hints
                )
        await asyncio.to_thread(
            self.state.record_entry,
            feed_url,
            entry,
            done=not outcome.retry,
            at=self.now.timestamp(),
        )
        return replace(outcome, feed=feed_url)


async def _add_page(
    fetcher: Fetcher,
    state: WebState,
    config: WebConfig,
    url: str,
    hints: EntryHints | None = None,
) -> PageOutcome:
    """Fetch one page and write its article; every failure becomes a 'failed' outcome."""
    known = await asyncio.to_thread(state.page, url)
    if known and known.path and not (config.articles_dir / known.path).exists():
        known = None  # its file was deleted: fetch it whole again
    try:
        page = await fetcher.get(
            url,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
        if page.not_modified:
            return PageOutcome(url, "unchanged", path=known.path if known else None)
        article = await asyncio.to_thread(page_article, page, hints)
        rel, written = await asyncio.to_thread(_write, config, article, known)
    except FetchError as exc:
        log.info("page failed: %s", exc)
        return PageOutcome(url, "failed", reason=_sentence(exc), retry=exc.transient)
    except ExtractError as exc:
        return PageOutcome(url, "failed", reason=f"{url}: {_sentence(exc)}")
    except OSError as exc:
        reason = f"{url}: cannot write the article: {exc.strerror or exc}"
        return PageOutcome(url, "failed", reason=reason)
    except Exception as exc:  # one odd page must never stop the others
        log.exception("unexpected error adding %s", url)
        return PageOutcome(url, "failed", reason=f"{url}: unexpected error: {_sentence(exc)}")
    await asyncio.to_thread(state.record_page, _page_record(url, page, rel))
    return PageOutcome(url, written, path=rel.as_posix(), title=article.title)


def _write(
    config: WebConfig, article: WebArticle, known: PageRecord | None
) -> tuple[PurePosixPath, str]:
    rel = article_path(article.url)
    written = write_article(config.articles_dir, article, rel)
    if known and known.path and known.path != rel.as_posix():
        # The page now lives at another URL (a new redirect): keep one file for it.
        (config.articles_dir / known.path).unlink(missing_ok=True)
        if written == "added":
            written = "updated"
    return rel, written


def _page_record(url: str, page: Page, rel: PurePosixPath) -> PageRecord:
    return PageRecord(url, page.url, rel.as_posix(), page.etag, page.last_modified)


def _sentence(exc: Exception) -> str:
    return " ".join(str(exc).split())
