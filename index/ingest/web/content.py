"""What a fetched body is: a page, a feed or a PDF, judged by its header and its first bytes.

Only these three are read. A body is sniffed as well as labelled: a PDF is a PDF whatever the
header says, and binary bytes labelled text/html are refused.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["html", "feed", "pdf"]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}
    | {"application/xml", "text/xml"}
)
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
UNLABELLED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_SNIFF = 8192


class ContentError(ValueError):
    """The body is not something citebot reads; the message says what it is."""


def declared_kind(content_type: str) -> Kind | None:
    """The kind the Content-Type header declares; None when it declares nothing useful."""
    if content_type in HTML_TYPES:
        return "html"
    if content_type in FEED_TYPES:
        return "feed"
    if content_type in PDF_TYPES:
        return "pdf"
    if content_type in UNLABELLED:
        return None
    raise ContentError(f"{content_type} is not an HTML page, a feed or a PDF, so it was not read")


def sniffed_kind(
    body: bytes, declared: Kind | None, content_type: str, accept: frozenset[Kind]
) -> Kind:
    """What the body really is, checked against what the header said."""
    head = body[:_SNIFF]
    if head.lstrip().startswith(b"%PDF-"):
        kind: Kind = "pdf"
    elif declared in ("html", "feed") and not _looks_binary(head):
        # Feeds are often served as text/html and pages as application/xml.
        kind = "feed" if "feed" in accept and _looks_like_feed(head) else declared
    elif declared is None and head.lstrip().startswith((b"<", b"\xef\xbb\xbf<")):
        kind = "feed" if "feed" in accept and _looks_like_feed(head) else "html"
    else:
        label = content_type or "no Content-Type"
        raise ContentError(f"binary content labelled {label}, not a page")
    if kind not in accept:
        raise ContentError(_type_refusal(content_type or kind, accept))
    return kind


def _looks_like_feed(head: bytes) -> bool:
    lowered = head[:2048].lower()
    return any(tag in lowered for tag in (b"<rss", b"<feed", b"<rdf:rdf"))


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NUL bytes
        return False
    return b"\x00" in head


def _type_refusal(content_type: str, accept: frozenset[Kind]) -> str:
    wanted = " or ".join(
        name
        for kind, name in (("html", "a page"), ("feed", "a feed"), ("pdf", "a PDF"))
        if kind in accept
    )
    return f"expected {wanted}, got {content_type}"
