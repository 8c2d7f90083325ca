"""The feeds file (one feed URL per line, `#` comments) and reading RSS / Atom feeds."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.errors import CitebotError
from index.ingest.dates import parse_published
from index.ingest.web.guard import AddressPolicy, BlockedAddressError, check_url
from index.ingest.web.pages import EntryHints
from index.ingest.web.writer import write_text_atomic

log = logging.getLogger(__name__)

FEEDS_FILE_HEADER = (
    "# Feeds citebot follows: one RSS or Atom URL per line; lines starting with # are ignored.\n"
)


class FeedsFileError(CitebotError):
    """The feeds file cannot be read or written, or a feed URL in it is not valid."""


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed: the page it links to and what the feed says about it."""

    key: str  # the entry's id (guid), else its link
    link: str
    hints: EntryHints


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's title and entries."""

    title: str | None
    entries: list[FeedEntry]


def read_feeds(path: Path) -> list[str]:
    """The feed URLs listed in the feeds file (none when it does not exist), in order."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedsFileError(f"Cannot read the feeds file {path}: {exc}.") from exc
    urls = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] not in urls:  # anything after the URL is a comment
            urls.append(words[0])
    return urls


def add_feed(path: Path, url: str, policy: AddressPolicy) -> bool:
    """Append `url` to the feeds file (created if needed); False when it is already there."""
    url = normalise_feed_url(url, policy)
    if url in read_feeds(path):
        return False
    try:
        text = path.read_text(encoding="utf-8-sig") if path.exists() else FEEDS_FILE_HEADER
        if text and not text.endswith("\n"):
            text += "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, f"{text}{url}\n")
    except OSError as exc:
        raise FeedsFileError(f"Cannot write the feeds file {path}: {exc.strerror or exc}.") from exc
    return True


def remove_feed(path: Path, url: str) -> bool:
    """Remove `url`'s line from the feeds file (comments kept); False when it is not there."""
    url = url.strip()
    if url not in read_feeds(path):
        return False
    lines = path.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    kept = [line for line in lines if line.strip() != url]
    try:
        write_text_atomic(path, "".join(kept))
    except OSError as exc:
        raise FeedsFileError(f"Cannot write the feeds file {path}: {exc.strerror or exc}.") from exc
    return True


def normalise_feed_url(url: str, policy: AddressPolicy) -> str:
    """The URL as it will be stored, if it may be fetched at all; else FeedsFileError."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url) or "#" in url:
        raise FeedsFileError(f"Not a feed URL: {url[:200]!r} (one http(s) URL, no spaces).")
    try:
        return str(check_url(url, policy))
    except BlockedAddressError as exc:
        raise FeedsFileError(f"Cannot follow {url[:200]}: {exc}.") from exc


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """The entries of an RSS or Atom document; ValueError when it is not a feed."""
    import feedparser

    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(body, response_headers=headers)
    if parsed.get("bozo") and not parsed.entries and not parsed.feed.get("title"):
        reason = parsed.get("bozo_exception")
        raise ValueError(f"not an RSS or Atom feed ({reason})")
    entries = []
    for item in parsed.entries:
        link = (item.get("link") or "").strip()
        if not link:
            continue
        entries.append(
            FeedEntry(
                key=(item.get("id") or link).strip(),
                link=link,
                hints=EntryHints(
                    title=item.get("title"),
                    author=item.get("author"),
                    published=_entry_date(item),
                ),
            )
        )
    return ParsedFeed(title=parsed.feed.get("title"), entries=entries)


def _entry_date(item: dict) -> str | None:
    for key in ("published_parsed", "updated_parsed"):
        value = item.get(key)
        if isinstance(value, time.struct_time):
            return parse_published(datetime(*value[:6], tzinfo=UTC))
    return parse_published(item.get("published") or item.get("updated"))
