"""Publication dates from article metadata, normalised to ISO 8601."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import logging

log = logging.getLogger(__name__)

_DATE_FORMATS = (
    "%Y/%m/%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%d %B, %Y",
)


def parse_published(value: object) -> str | None:
    """An ISO 8601 date ("YYYY-MM-DD") or UTC datetime for ``value``, or None if unparseable.

    Accepts date/datetime objects, ISO strings (also with Z), "YYYY/MM/DD", RFC 2822 and
    "March 5, 2024" / "5 March 2024". A datetime without a zone is taken as UTC.
    """
    if isinstance(value, dt.datetime):
        return _iso_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = _parse_date_string(" ".join(value.split())) if isinstance(value, str) else None
    if parsed is None:
        log.debug("Ignoring unparseable published date %r", value)
    return parsed


def _parse_date_string(text: str) -> str | None:
    with contextlib.suppress(ValueError):
        return dt.date.fromisoformat(text).isoformat()
    with contextlib.suppress(ValueError):
        return _iso_datetime(dt.datetime.fromisoformat(text))
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    # RFC 2822 dates carry a time; without one, email.utils would invent midnight.
    if ":" in text:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            return _iso_datetime(email.utils.parsedate_to_datetime(text))
    return None


def _iso_datetime(value: dt.datetime) -> str:
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=0).isoformat()
