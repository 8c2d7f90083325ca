"""Load a folder of articles (.txt, .md, .html, .json, .jsonl, .pdf) into Article records.

A bad file never stops a load: it becomes an IngestFailure and every good article is kept.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from index.errors import ArticlesFolderError
from index.ingest.dates import parse_published
from index.ingest.files import list_article_files, too_large
from index.ingest.library_logs import route_to_debug
from index.ingest.text import normalize_text

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf"}
)

# Files holding many articles: for these the size limit applies to each article's text.
COLLECTION_SUFFIXES = frozenset({".json", ".jsonl"})
MAX_ARTICLE_MB = 5.0  # the default of CITEBOT_MAX_ARTICLE_MB

_BINARY_SNIFF_BYTES = 8192

_ATX_H1 = re.compile(r"# +(.+?)(?: +#+)?")

# Accepted keys per Article field, in order of preference (front matter and JSON objects).
_METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "url": ("url", "link"),
    "source": ("source", "outlet", "publisher", "site"),
    "author": ("author", "by", "authors"),
    "published": ("published", "date", "published_at"),
}
# trafilatura's baseline fallback would otherwise return menu text for a page with no article.
_HTML_BOILERPLATE_XPATHS = ["//nav", "//footer"]


@dataclass(frozen=True)
class Article:
    """One article: the normalised body that is chunked and quoted, plus its metadata."""

    id: str
    title: str
    text: str
    url: str | None = None
    source: str | None = None
    author: str | None = None
    published: str | None = None
    path: str = ""

    @property
    def content_hash(self) -> str:
        """sha256 hex of the title, text and metadata; the id and path are left out, so a
        moved or renamed file keeps its hash."""
        fields = [self.title, self.text, self.url, self.source, self.author, self.published]
        payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


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


class _Skip(Exception):
    """The file cannot become an article; the message says why, in one line."""


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
                raise _Skip(reason)
        if path.suffix.lower() == ".pdf":
            return list(_parse_pdf(path.read_bytes(), rel))
        text = _decode(path.read_bytes())
        return list(_PARSERS[path.suffix.lower()](text, rel))
    except OSError as exc:
        return [(rel, f"cannot read file: {exc.strerror or exc}")]
    except _Skip as exc:
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
            raise _Skip("invalid UTF-16 text") from exc
    elif b"\x00" in raw[:_BINARY_SNIFF_BYTES]:
        raise _Skip("binary file (not text)")
    else:
        text = _decode_8bit(raw)
    if not normalize_text(text):
        raise _Skip("empty file")
    return text


def _decode_8bit(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")  # maps every byte, so it cannot fail


def _parse_txt(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    title, _, body = normalize_text(text).partition("\n")
    body = body.strip()
    if not body:
        raise _Skip("no body text after the title line")
    yield rel, Article(id=_base_id(rel), title=_one_line(title), text=body, path=rel)


def _parse_markdown(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    front_matter, body = _split_front_matter(text)
    fields = _metadata(front_matter)
    title = fields.pop("title")
    body = normalize_text(body)
    if title is None:
        first_line, _, rest = body.partition("\n")
        heading = _ATX_H1.fullmatch(first_line)
        if heading:
            title, body = _one_line(heading[1]), rest.strip()
            if not body:
                raise _Skip("no body text after the title heading")
    if not body:
        raise _Skip("no body text after the front matter")
    title = title or _title_from_stem(rel)
    yield rel, Article(id=_base_id(rel), title=title, text=body, path=rel, **fields)


def _split_front_matter(text: str) -> tuple[dict[Any, Any], str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0].strip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        raise _Skip("invalid YAML front matter: no closing '---' line")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        raise _Skip(f"invalid YAML front matter: {_yaml_reason(exc)}") from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        kind = type(meta).__name__
        raise _Skip(f"invalid YAML front matter: expected 'key: value' lines, got a {kind}")
    return meta, "\n".join(lines[end + 1 :])


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        # +1 for 0-based lines, +1 for the opening '---': the line number in the file.
        return f"{exc.problem} (line {mark.line + 2})" if mark else exc.problem
    return str(exc)


def _parse_html(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    import trafilatura  # imported here: it costs ~0.5 s and only HTML needs it

    route_to_debug("trafilatura")  # its ERROR lines on bad HTML: this file is reported once
    doc = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        prune_xpath=_HTML_BOILERPLATE_XPATHS,
        # No extensive search: it guesses dates from page text, e.g. a "© 2021" footer.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    # trafilatura puts one block element per line; make each a paragraph, as in .txt and .md.
    body = normalize_text(doc.text.replace("\n", "\n\n")) if doc and doc.text else ""
    if not body:
        raise _Skip("no article text found in HTML")
    yield (
        rel,
        Article(
            id=_base_id(rel),
            title=_meta_str(doc.title) or _title_from_stem(rel),
            text=body,
            url=_meta_str(doc.url),
            source=_meta_str(doc.sitename),
            author=_meta_str(doc.author),
            published=parse_published(doc.date),
            path=rel,
        ),
    )


def _parse_pdf(raw: bytes, rel: str) -> Iterator[tuple[str, Article | str]]:
    from index.ingest.pdf import PdfError, read_pdf  # pypdf is only needed for PDFs

    try:
        pdf = read_pdf(raw)
    except PdfError as exc:
        raise _Skip(str(exc)) from exc
    fields = {"author": pdf.author, "published": parse_published(pdf.published)}
    title = _one_line(pdf.title or "") or _title_from_stem(rel)
    yield (
        rel,
        Article(id=_base_id(rel), title=title, text=normalize_text(pdf.text), path=rel, **fields),
    )


def _parse_json(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Skip(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    base_id = _base_id(rel)
    if isinstance(data, dict):
        yield rel, _article_from_object(data, base_id, rel)
    elif isinstance(data, list) and data:
        for index, obj in enumerate(data, start=1):
            yield f"{rel}#{index}", _article_from_object(obj, f"{base_id}#{index}", rel)
    elif isinstance(data, list):
        raise _Skip("empty JSON list")
    else:
        raise _Skip(f"expected a JSON object or a list of objects, got {_json_type(data)}")


def _parse_jsonl(text: str, rel: str) -> Iterator[tuple[str, Article | str]]:
    base_id = _base_id(rel)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        location = f"{rel}#{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield location, f"invalid JSON at line {lineno}: {exc.msg}"
            continue
        yield location, _article_from_object(obj, f"{base_id}#{lineno}", rel)


def _article_from_object(obj: object, default_id: str, rel: str) -> Article | str:
    """The article a JSON object describes, or why it cannot be one."""
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {_json_type(obj)}"
    raw_text = obj.get("text")
    if raw_text is None:
        return "no 'text' field"
    if not isinstance(raw_text, str):
        return f"'text' must be a string, got {_json_type(raw_text)}"
    text = normalize_text(raw_text)
    if not text:
        return "empty 'text' field"
    raw_id = obj.get("id")
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, str | int)):
        return f"'id' must be a string or an integer, got {_json_type(raw_id)}"
    article_id = (_one_line(str(raw_id)) if raw_id is not None else "") or default_id
    fields = _metadata(obj)
    title = fields.pop("title") or article_id
    return Article(id=article_id, title=title, text=text, path=rel, **fields)


def _metadata(obj: dict[Any, Any]) -> dict[str, str | None]:
    """title, url, source, author and published from a front-matter or JSON mapping."""
    lowered = {str(key).strip().lower(): value for key, value in obj.items()}
    fields: dict[str, str | None] = {}
    for name, keys in _METADATA_KEYS.items():
        value = next((lowered[k] for k in keys if lowered.get(k) not in (None, "", [])), None)
        fields[name] = parse_published(value) if name == "published" else _meta_str(value)
    return fields


def _meta_str(value: object) -> str | None:
    """A one-line metadata string; a list (of authors, say) is joined with ", "."""
    if isinstance(value, list | tuple):
        return ", ".join(filter(None, (_meta_str(item) for item in value))) or None
    if isinstance(value, str | int | float | dt.date) and not isinstance(value, bool):
        return _one_line(str(value)) or None
    return None


def _one_line(text: str) -> str:
    return " ".join(normalize_text(text).split())


def _base_id(rel: str) -> str:
    return PurePosixPath(rel).with_suffix("").as_posix()


def _title_from_stem(rel: str) -> str:
    return _one_line(PurePosixPath(rel).stem.replace("_", " ").replace("-", " "))


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "null" if value is None else "a number")


def _failure(location: str, error: str) -> IngestFailure:
    return IngestFailure(path=location, error=" ".join(error.split()))


_PARSERS = {
    ".txt": _parse_txt,
    ".md": _parse_markdown,
    ".markdown": _parse_markdown,
    ".html": _parse_html,
    ".htm": _parse_html,
    ".json": _parse_json,
    ".jsonl": _parse_jsonl,
}
