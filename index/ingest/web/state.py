"""What citebot remembers between fetches (SQLite in the data directory): each feed's and
page's validators for conditional GET, the feed entries already seen, and each feed's last
refresh with its counts. Losing this file costs only re-fetching: articles live in files."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.ingest.web.feeds import FeedEntry
from index.ingest.web.pages import EntryHints
from index.ingest.web.robots import RobotsRules, parse_robots

log = logging.getLogger(__name__)

STATE_FILE = "web.sqlite"
MAX_ATTEMPTS = 3  # a feed entry whose page failed this often is given up
RETRY_DELAY = 3600.0  # seconds before a failed entry is tried again, times its attempts
ROBOTS_TTL = 24 * 3600.0  # RFC 9309: a robots.txt may be cached for up to 24 hours

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, title TEXT, etag TEXT, last_modified TEXT,
    checked_at TEXT, status TEXT, error TEXT,
    entries INTEGER NOT NULL DEFAULT 0, added INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY, final_url TEXT, path TEXT, etag TEXT, last_modified TEXT,
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS robots (
    host TEXT PRIMARY KEY, allow INTEGER, text TEXT, why_not TEXT, fetched_at REAL
);
CREATE TABLE IF NOT EXISTS entries (
    feed_url TEXT NOT NULL, key TEXT NOT NULL, link TEXT NOT NULL,
    title TEXT, author TEXT, published TEXT, first_seen TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0, next_attempt REAL,
    PRIMARY KEY (feed_url, key)
);
"""


@dataclass(frozen=True)
class FeedRecord:
    """A feed's last refresh: validators, outcome and running totals."""

    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    checked_at: str | None = None
    status: str | None = None  # "ok", "not modified" or "failed"
    error: str | None = None
    entries: int = 0  # in the feed at its last successful read
    added: int = 0  # articles written from it, all time
    failed: int = 0  # pages that failed, all time


@dataclass(frozen=True)
class PageRecord:
    """A page fetched before: where it ended up, and its validators."""

    url: str
    final_url: str | None
    path: str | None
    etag: str | None
    last_modified: str | None


class WebState:
    """The fetch state in `data_dir/web.sqlite`; every call is a short transaction."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / STATE_FILE

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            conn.executescript(_SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def feed(self, url: str) -> FeedRecord | None:
        """The feed's record, None before its first refresh."""
        with self._db() as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedRecord(**dict(row)) if row else None

    def feeds(self) -> dict[str, FeedRecord]:
        """Every feed ever refreshed, by URL."""
        with self._db() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM feeds").fetchall()
        return {row["url"]: FeedRecord(**dict(row)) for row in rows}

    def record_feed(self, record: FeedRecord) -> None:
        """Store a feed's latest refresh (validators kept when the new ones are empty)."""
        with self._db() as db:
            db.execute(
                "INSERT INTO feeds VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(url) DO UPDATE SET"
                " title = COALESCE(excluded.title, title),"
                " etag = COALESCE(excluded.etag, etag),"
                " last_modified = COALESCE(excluded.last_modified, last_modified),"
                " checked_at = excluded.checked_at, status = excluded.status,"
                " error = excluded.error, entries = excluded.entries,"
                " added = added + excluded.added, failed = failed + excluded.failed",
                (
                    record.url,
                    record.title,
                    record.etag,
                    record.last_modified,
                    record.checked_at or now(),
                    record.status,
                    record.error,
                    record.entries,
                    record.added,
                    record.failed,
                ),
            )

    def page(self, url: str) -> PageRecord | None:
        """What is known of a page fetched before from `url`."""
        with self._db() as db:
            row = db.execute(
                "SELECT url, final_url, path, etag, last_modified FROM pages WHERE url = ?",
                (url,),
            ).fetchone()
        return PageRecord(*row) if row else None

    def record_page(self, record: PageRecord) -> None:
        """Remember a page's file and validators."""
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?,?,?,?,?,?)",
                (
                    record.url,
                    record.final_url,
                    record.path,
                    record.etag,
                    record.last_modified,
                    now(),
                ),
            )

    def new_entries(self, feed_url: str, keys: list[str]) -> set[str]:
        """Which of `keys` this feed never had before."""
        with self._db() as db:
            known = {
                row[0]
                for row in db.execute("SELECT key FROM entries WHERE feed_url = ?", (feed_url,))
            }
        return set(keys) - known

    def due_retries(self, feed_url: str, at: float) -> list[FeedEntry]:
        """Entries whose page failed in a way that may pass, due for another try at `at`."""
        with self._db() as db:
            rows = db.execute(
                "SELECT key, link, title, author, published FROM entries WHERE feed_url = ?"
                " AND done = 0 AND attempts < ? AND next_attempt <= ? ORDER BY first_seen, key",
                (feed_url, MAX_ATTEMPTS, at),
            ).fetchall()
        return [FeedEntry(key, link, EntryHints(*hints)) for key, link, *hints in rows]

    def record_entry(self, feed_url: str, entry: FeedEntry, *, done: bool, at: float) -> None:
        """Note an attempt at an entry's page: done (written, or never worth retrying), or to
        be retried after RETRY_DELAY times the attempts so far."""
        hints = entry.hints
        with self._db() as db:
            db.execute(
                "INSERT INTO entries VALUES (?,?,?,?,?,?,?,1,?,?)"
                " ON CONFLICT(feed_url, key) DO UPDATE SET attempts = attempts + 1,"
                " done = excluded.done, link = excluded.link,"
                " next_attempt = ? + ? * (attempts + 1)",
                (
                    feed_url,
                    entry.key,
                    entry.link,
                    hints.title,
                    hints.author,
                    hints.published,
                    now(),
                    int(done),
                    at + RETRY_DELAY,
                    at,
                    RETRY_DELAY,
                ),
            )

    def robots(self, host: str, at: float) -> RobotsRules | None:
        """The host's robots.txt rules read within the last 24 hours of `at`, if any."""
        with self._db() as db:
            row = db.execute(
                "SELECT allow, text, why_not FROM robots WHERE host = ? AND fetched_at > ?",
                (host, at - ROBOTS_TTL),
            ).fetchone()
        if row is None:
            return None
        allow, text, why_not = row
        if text is not None:
            return parse_robots(text)
        return RobotsRules.allow_all() if allow else RobotsRules.disallow_all(why_not)

    def record_robots(self, host: str, rules: RobotsRules, at: float) -> None:
        """Remember a host's robots.txt rules (as read at `at`, a time.time())."""
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO robots VALUES (?,?,?,?,?)",
                (host, int(rules.allow), rules.text, rules.why_not, at),
            )


class StoredRobots:
    """A `RobotsCache` kept in the fetch state (SQLite work off the event loop)."""

    def __init__(self, state: WebState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self.clock = clock

    async def load(self, host: str) -> RobotsRules | None:
        """Rules read for `host` in the last 24 hours."""
        return await asyncio.to_thread(self.state.robots, host, self.clock())

    async def save(self, host: str, rules: RobotsRules) -> None:
        """Remember `host`'s rules."""
        await asyncio.to_thread(self.state.record_robots, host, rules, self.clock())


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
