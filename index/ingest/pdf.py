"""Text and metadata of a PDF, read with pypdf: page breaks become paragraph breaks.

Within a page, PDF text comes as visual lines; they are joined back into paragraphs (wrapped
lines run nearly the full width, so a clearly shorter line, a heading or a paragraph's last
line, ends one). A PDF without a text layer (a scan) is refused
with a sentence saying so, since there is nothing to quote.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime

log = logging.getLogger(__name__)
# pypdf warns on stderr about every oddity it repairs; a file it cannot read is reported anyway.
logging.getLogger("pypdf").setLevel(logging.ERROR)

PDF_MAGIC = b"%PDF-"
_TITLE_CHARS = 200
_SHORT_LINE = 0.75  # of a page's typical line length: a shorter line ends its paragraph
_NO_TITLES = frozenset({"untitled", "title", "document", "microsoft word"})


class PdfError(ValueError):
    """The PDF cannot become an article; the message says why in one sentence."""


@dataclass(frozen=True)
class PdfText:
    """What a PDF holds: its text (paragraphs separated by blank lines) and metadata."""

    title: str | None
    text: str
    author: str | None
    published: str | None
    pages: int


def read_pdf(raw: bytes) -> PdfText:
    """Read a PDF's text and metadata, or raise PdfError."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if PDF_MAGIC not in raw[:1024]:
        raise PdfError("not a PDF file (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfError("encrypted PDF: it needs a password, so its text cannot be read")
        texts = [_extract(page) for page in reader.pages]
        meta = reader.metadata
    except PdfError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise PdfError(f"damaged PDF ({type(exc).__name__}: {exc})") from exc
    paragraphs = [p for text in texts for p in _paragraphs(text)]
    if not paragraphs:
        what = "its page has" if len(texts) == 1 else f"its {len(texts)} pages have"
        raise PdfError(
            f"scanned PDF with no text layer ({what} no text): run OCR on it to index it"
        )
    first_line = next(line for text in texts for line in _lines(text) if line)
    title = _meta_title(meta.title if meta else None) or first_line[:_TITLE_CHARS]
    return PdfText(
        title=title,
        text="\n\n".join(paragraphs),
        author=_clean(meta.author) if meta else None,
        published=_date(meta) if meta else None,
        pages=len(texts),
    )


def _extract(page: object) -> str:
    """One page's text as pypdf lays it out, or nothing when the page cannot be read."""
    try:
        return page.extract_text() or ""  # type: ignore[attr-defined]
    except Exception as exc:  # pypdf raises many kinds on odd pages; keep the rest
        log.debug("a PDF page could not be read: %s", exc)
        return ""


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]


def _paragraphs(text: str) -> list[str]:
    """The paragraphs of one page's text."""
    lines = _lines(text)
    typical = _typical_length([line for line in lines if line])
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            paragraphs.append(current)
            current = ""
            continue
        current = _join(current, line)
        if len(line) < _SHORT_LINE * typical:
            paragraphs.append(current)
            current = ""
    paragraphs.append(current)
    return [p for p in paragraphs if p]


def _join(current: str, line: str) -> str:
    """Append a visual line; a line broken after a hyphen is joined without a space."""
    if not current:
        return line
    if current.endswith("-") and not current.endswith(" -"):
        return current + line
    return f"{current} {line}"


def _typical_length(lines: list[str]) -> float:
    if not lines:
        return 0.0
    lengths = sorted(len(line) for line in lines)
    return float(lengths[int(0.8 * (len(lengths) - 1))])


def _meta_title(value: object) -> str | None:
    title = _clean(value)
    if title is None or not any(ch.isalpha() for ch in title):
        return None
    if title.lower() in _NO_TITLES or title.lower().endswith((".doc", ".docx", ".pdf")):
        return None
    return title[:_TITLE_CHARS]


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("\x00", "").split())
    return text or None


def _date(meta: object) -> str | None:
    try:
        created = meta.creation_date  # type: ignore[attr-defined]
    except Exception:  # a malformed date string in the metadata
        return None
    return created.date().isoformat() if isinstance(created, datetime) else None
