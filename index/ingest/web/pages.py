"""A fetched page or PDF made into an article: decoded text, main content, metadata."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from index.ingest.dates import parse_published
from index.ingest.formats import extract_html
from index.ingest.pdf import PdfError, read_pdf
from index.ingest.readers import normalize_text
from index.ingest.web.fetch import Page

log = logging.getLogger(__name__)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.:-]+)""", re.I)
# What browsers do (WHATWG Encoding): these labels mean windows-1252 in practice.
_AS_CP1252 = frozenset({"latin1", "iso8859-1", "ascii", "cp1252"})
_TITLE_CHARS = 300


class ExtractError(ValueError):
    """The page holds no article; the message says why in one sentence."""


@dataclass(frozen=True)
class EntryHints:
    """What a feed entry says about the page it links to (used where the page is silent)."""

    title: str | None = None
    author: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class WebArticle:
    """An article fetched from the web, ready to be written into the articles folder."""

    url: str
    title: str
    text: str
    source: str | None
    author: str | None
    published: str | None
    fetched: str


def decode_html(body: bytes, header_charset: str | None) -> str:
    """Decode a page as a browser would: BOM, then the HTTP charset, then <meta>, then
    UTF-8, then windows-1252."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16")):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace").lstrip("\ufeff")
    if body.startswith(codecs.BOM_UTF16_BE):
        return body.decode("utf-16", errors="replace").lstrip("\ufeff")
    head = body[:4096]
    declared = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    for label in (header_charset, declared[1].decode("ascii") if declared else None):
        encoding = _codec(label)
        if encoding is not None:
            return body.decode(encoding, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, None when unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        log.debug("unknown charset %r", label)
        return None
    if name in _AS_CP1252:
        return "cp1252"
    return "utf-8" if name in ("utf-16", "utf-16-le", "utf-16-be") else name  # a lie in <meta>


def page_article(page: Page, hints: EntryHints | None = None) -> WebArticle:
    """The article a fetched page or PDF holds, or ExtractError."""
    hints = hints or EntryHints()
    host = _host(page.url)
    fetched = datetime.now(UTC).isoformat(timespec="seconds")
    if page.kind == "pdf":
        try:
            pdf = read_pdf(page.body)
        except PdfError as exc:
            raise ExtractError(str(exc)) from exc
        return WebArticle(
            url=page.url,
            title=_line(hints.title) or _line(pdf.title) or host,
            text=normalize_text(pdf.text),
            source=host,
            author=_line(pdf.author) or _line(hints.author),
            published=hints.published or parse_published(pdf.published),
            fetched=fetched,
        )
    return _html_article(page, hints, host, fetched)


def _html_article(page: Page, hints: EntryHints, host: str, fetched: str) -> WebArticle:
    doc, text = extract_html(decode_html(page.body, page.charset), url=page.url)
    if not text:
        raise ExtractError("no article text found on the page")
    return WebArticle(
        url=page.url,
        title=_line(hints.title) or _line(doc.title) or host,
        text=text,
        source=_line(doc.sitename) or host,
        author=_line(doc.author) or _line(hints.author),
        published=hints.published or parse_published(doc.date),
        fetched=fetched,
    )


def _line(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(normalize_text(value).split())[:_TITLE_CHARS]
    return text or None


def _host(url: str) -> str:
    from yarl import URL

    host = URL(url).host or "unknown"
    return host.removeprefix("www.")
