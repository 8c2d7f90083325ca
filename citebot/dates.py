"""Dates as people type them on the command line: a year, a month or a day."""

from __future__ import annotations

import argparse
import calendar
import re
from collections.abc import Callable
from datetime import date

DATE_FORMAT = "YYYY, YYYY-MM or YYYY-MM-DD"
_PATTERN = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def period(text: str) -> tuple[date, date]:
    """The first and last day of `2023`, `2023-05` or `2023-05-14`; ValueError otherwise."""
    match = _PATTERN.fullmatch(text.strip())
    try:
        if match is None:
            raise ValueError(text)
        year, month, day = match.groups()
        if month is None:
            return date(int(year), 1, 1), date(int(year), 12, 31)
        if day is None:
            last = calendar.monthrange(int(year), int(month))[1]  # ValueError past month 12
            return date(int(year), int(month), 1), date(int(year), int(month), last)
        one = date(int(year), int(month), int(day))
        return one, one
    except (ValueError, calendar.IllegalMonthError):
        raise ValueError(f"{text!r} is not a date: use {DATE_FORMAT}, e.g. 2024-03-14") from None


def first_day(text: str) -> date:
    """The first day of the period `text` names (for --since: a year means 1 January)."""
    return period(text)[0]


def last_day(text: str) -> date:
    """The last day of the period `text` names (for --until: a year means 31 December)."""
    return period(text)[1]


def since_arg(text: str) -> date:
    """argparse type for --since."""
    return _as_argument_error(first_day, text)


def until_arg(text: str) -> date:
    """argparse type for --until and --as-of."""
    return _as_argument_error(last_day, text)


def _as_argument_error(parse: Callable[[str], date], text: str) -> date:
    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
