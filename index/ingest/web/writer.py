"""Fetched articles as Markdown files under `web/<host>/` in the articles folder.

The articles folder stays the single source of truth: a fetched article is an ordinary
Markdown file with YAML front matter (`title`, `url`, `source`, `author`, `published`,
`fetched`) that can be read, edited or deleted like any other; the next reindex picks it up.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Literal

import yaml
from yarl import URL

from index.ingest.dates import parse_published
from index.ingest.web.pages import WebArticle

log = logging.getLogger(__name__)

WEB_FOLDER = "web"
FRONT_MATTER_KEYS = ("title", "url", "source", "author", "published", "fetched")
_SLUG_CHARS = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")

Written = Literal["added", "updated", "unchanged"]


def article_path(url: str) -> PurePosixPath:
    """Where the article fetched from `url` lives, relative to the articles folder.

    `web/<host>/<slug of the path>-<8 hex of the URL>.md`: readable, stable for a URL, and two
    URLs never share a file.
    """
    parsed = URL(url)
    host = (parsed.host or "unknown").lower()
    if parsed.explicit_port:
        host = f"{host}_{parsed.port}"
    path = PurePosixPath(parsed.path.lower())
    stem = path.with_suffix("").as_posix() if path.suffix else path.as_posix()
    slug = _NOT_SLUG.sub("-", stem).strip("-")[-_SLUG_CHARS:].strip("-")
    digest = hashlib.sha256(str(parsed.with_fragment(None)).encode()).hexdigest()[:8]
    return PurePosixPath(WEB_FOLDER, host, f"{slug or 'index'}-{digest}.md")


def render_markdown(article: WebArticle) -> str:
    """The file's text: YAML front matter, then the body (paragraphs separated by blank lines)."""
    meta = {key: getattr(article, key) for key in FRONT_MATTER_KEYS}
    meta = {key: value for key, value in meta.items() if value}
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1_000_000)
    return f"---\n{front}---\n\n{article.text}\n"


def write_article(articles_dir: Path, article: WebArticle, rel: PurePosixPath) -> Written:
    """Write `article` at `rel` unless the file already says the same (then leave it be)."""
    path = articles_dir / rel
    text = render_markdown(article)
    try:
        existing = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = None
    if existing is not None and _same_article(existing, text):
        return "unchanged"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text)
    return "added" if existing is None else "updated"


def _same_article(old: str, new: str) -> bool:
    """Equal but for the `fetched` time, which alone must not rewrite (or reindex) a file."""
    return _without_fetched(old) == _without_fetched(new)


def _without_fetched(text: str) -> str:
    return re.sub(r"(?m)^fetched: .*\n", "", text, count=1)


def write_text_atomic(path: Path, text: str) -> None:
    """Write through a temporary (hidden) name in the same folder and `os.replace` it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_front_matter(path: Path) -> dict[str, object]:
    """The YAML front matter of a Markdown file ({} when it has none or it is broken)."""
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.readline().strip() != "---":
                return {}
            lines = []
            for line in fh:
                if line.strip() in ("---", "..."):
                    break
                lines.append(line)
        meta = yaml.safe_load("".join(lines))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return meta if isinstance(meta, dict) else {}


def article_date(meta: dict[str, object]) -> date | None:
    """When a fetched article dates from: its publication, else when it was fetched."""
    for key in ("published", "fetched"):
        iso = parse_published(meta.get(key))
        if iso:
            return date.fromisoformat(iso[:10])
    return None


def remove_older_than(articles_dir: Path, keep_days: int, today: date | None = None) -> list[str]:
    """Delete fetched articles (under `web/`, with a `fetched` date) older than `keep_days`.

    Files people put in the folder themselves are never touched. Returns the removed paths.
    """
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=keep_days)
    removed: list[str] = []
    root = articles_dir / WEB_FOLDER
    for path in sorted(root.rglob("*.md")) if root.is_dir() else []:
        meta = read_front_matter(path)
        when = article_date(meta)
        if "fetched" not in meta or when is None or when >= cutoff:
            continue
        path.unlink(missing_ok=True)
        removed.append(path.relative_to(articles_dir).as_posix())
        log.info("removed %s (from %s, older than %d days)", removed[-1], when, keep_days)
    _remove_empty_folders(root)
    return removed


def _remove_empty_folders(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
