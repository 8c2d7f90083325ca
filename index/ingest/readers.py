"""Load a folder of articles (.txt, .md, .html, .json, .jsonl, .pdf) into Article records.

A bad file never stops a load: it becomes an IngestFailure and every good article is kept.
Files are found and decoded here; each format is parsed in `formats`.
"""

from __future__ import annotations

import codecs
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.errors import ArticlesFolderError
from index.ingest import formats
from index.ingest.article import Article, NotAnArticle
from index.ingest.files import list_article_files, too_large
from index.ingest.text import normalize_text

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf"}
)

# Files holding many articles: for these the size limit applies to each article's text.
COLLECTION_SUFFIXES = frozenset({".json", ".jsonl"})
MAX_ARTICLE_MB = 5.0  # the default of CITEBOT_MAX_ARTICLE_MB

_BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class IngestFailure:
    """A file (or one JSON record, as ``file.jsonl#LINE``) that could not become an article."""

    path: str
    error: str


@dataclass
class IngestResult:
    """Every article that loaded, and every file or record that did not."""

    articles: list[Article]
    failures: list[IngestFailure]


@dataclass(frozen=True)
class UnchangedFile:
    """A file the caller already knows (see `iter_articles`), with the article ids it holds."""

    path: str
    article_ids: tuple[str, ...]


# Given a file's path (relative to the folder, "/"-separated) and its os.stat result: the ids
# of the articles it held when last read if it is known to be unchanged, else None.
KnownFile = Callable[[str, os.stat_result], Sequence[str] | None]


def load_articles(
    folder: str | Path,
    *,
    max_article_mb: float = MAX_ARTICLE_MB,
    indexed_paths: Mapping[str, str] | None = None,
) -> IngestResult:
    """Load every article file under ``folder``; bad files are reported, never raised.

    A file larger than ``max_article_mb`` (in a .json/.jsonl file: an article whose text is)
    is skipped. When two files give the same article id, the file the index already holds it
    from (``indexed_paths``: article id -> file) keeps it, else the first file in order.
    """
    articles: list[Article] = []
    failures: list[IngestFailure] = []
    found = iter_articles(folder, max_article_mb=max_article_mb, indexed_paths=indexed_paths)
    for _, item in found:
        if isinstance(item, Article):
            articles.append(item)
        elif isinstance(item, IngestFailure):
            failures.append(item)
    for failure in failures:
        log.debug("Skipped %s: %s", failure.path, failure.error)
    log.info("Loaded %d articles from %s (%d failures)", len(articles), folder, len(failures))
    return IngestResult(articles=articles, failures=failures)


def iter_articles(
    folder: str | Path,
    *,
    max_article_mb: float = MAX_ARTICLE_MB,
    indexed_paths: Mapping[str, str] | None = None,
    known: KnownFile | None = None,
) -> Iterator[tuple[str, Article | IngestFailure | UnchangedFile]]:
    """(file, article or failure) for every article and bad file or record under ``folder``,
    one file at a time, so that memory does not grow with the folder (see `load_articles`).

    A file for which ``known(path, stat)`` returns article ids is not read: it yields one
    `UnchangedFile` instead (its ids still count for duplicate detection).
    """
    root = articles_folder(folder)
    files, failures = _walk(root)
    for failure in failures:
        yield failure.path, failure
    max_bytes = int(max_article_mb * 1024 * 1024)
    # Relative paths by slicing strings: pathlib's relative_to was most of the cost of a
    # reindex with nothing to do at 115k files.
    cut = 0 if str(root) == "." else len(os.path.join(str(root), ""))  # Path("./a") is "a"
    rels = [str(path)[cut:].replace(os.sep, "/") for path in files]
    present = set(rels)
    # An id whose file is still here stays with it (if that file no longer holds the id, the
    # other file gets it on the next run, once the index has forgotten the old one).
    owners = {aid: rel for aid, rel in (indexed_paths or {}).items() if rel in present}
    first_seen: dict[str, str] = {}  # article id -> where it was loaded from
    for path, rel in zip(files, rels, strict=True):
        ids = _known_ids(path, rel, known)
        if ids is not None:
            first_seen.update((article_id, rel) for article_id in ids)
            yield rel, UnchangedFile(rel, tuple(ids))
            continue
        for location, item in _read_file(path, rel, max_bytes):
            if isinstance(item, Article):
                item = _within_limit(item, max_bytes)
            if isinstance(item, str):
                yield rel, _failure(location, item)
            elif item.id in first_seen or owners.get(item.id, rel) != rel:
                also = first_seen.get(item.id) or owners[item.id]
                reason = f"duplicate article id '{item.id}' (also in {also})"
                yield rel, _failure(location, reason)
            else:
                first_seen[item.id] = location
                yield rel, item


def articles_folder(folder: str | Path) -> Path:
    """``folder`` as a path, or one clear error if it is not an existing folder."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        what = " (that is a file, not a folder)" if root.exists() else ""
        raise ArticlesFolderError(
            f"Articles folder not found: {root}{what}. Create it, or point citebot at an "
            "existing folder of .txt, .md, .html or .json articles."
        )
    return root


def read_article_file(
    folder: str | Path, rel: str, *, max_article_mb: float = MAX_ARTICLE_MB
) -> list[Article]:
    """The good articles of one file of ``folder`` (``rel`` as `iter_articles` gives it)."""
    root, max_bytes = Path(folder).expanduser(), int(max_article_mb * 1024 * 1024)
    found = [item for _, item in _read_file(root / rel, rel, max_bytes)]
    kept = [_within_limit(item, max_bytes) for item in found if isinstance(item, Article)]
    return [item for item in kept if isinstance(item, Article)]


def _known_ids(path: Path, rel: str, known: KnownFile | None) -> Sequence[str] | None:
    if known is None:
        return None
    try:
        return known(rel, path.stat())
    except OSError:
        return None


def iter_article_files(folder: Path) -> list[Path]:
    """Article files under ``folder``, recursively and sorted, skipping hidden files and folders."""
    return _walk(folder)[0]


def _walk(root: Path) -> tuple[list[Path], list[IngestFailure]]:
    listing = list_article_files(root, ARTICLE_SUFFIXES)
    return listing.files, [_failure(where, reason) for where, reason in listing.skipped]


def _read_file(path: Path, rel: str, max_bytes: int) -> list[tuple[str, Article | str]]:
    """(location, article or error) for each article the file holds."""
    try:
        if path.suffix.lower() not in COLLECTION_SUFFIXES:
            reason = too_large(path.stat().st_size, max_bytes)
            if reason:
                raise NotAnArticle(reason)
        if path.suffix.lower() == ".pdf":
            return list(formats.parse_pdf(path.read_bytes(), rel))
        text = _decode(path.read_bytes())
        return list(formats.PARSERS[path.suffix.lower()](text, rel))
    except OSError as exc:
        return [(rel, f"cannot read file: {exc.strerror or exc}")]
    except NotAnArticle as exc:
        return [(rel, str(exc))]
    except Exception as exc:  # one odd file must not stop the whole load
        log.exception("Unexpected error while loading %s", rel)
        return [(rel, f"unexpected error: {type(exc).__name__}: {exc}")]


def _within_limit(article: Article, max_bytes: int) -> Article | str:
    """The article, or why it is skipped: its text is larger than the limit."""
    return too_large(len(article.text.encode("utf-8")), max_bytes, "text of ") or article


def _decode(raw: bytes) -> str:
    # UTF-16 text is full of NUL bytes, so its BOM is checked before the binary sniff.
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NotAnArticle("invalid UTF-16 text") from exc
    elif b"\x00" in raw[:_BINARY_SNIFF_BYTES]:
        raise NotAnArticle("binary file (not text)")
    else:
        text = _decode_8bit(raw)
    if not normalize_text(text):
        raise NotAnArticle("empty file")
    return text


def _decode_8bit(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # maps every byte, so it cannot fail


def _failure(location: str, error: str) -> IngestFailure:
    return IngestFailure(path=location, error=" ".join(error.split()))
