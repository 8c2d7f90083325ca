"""Numbers and dates stated in a sentence, so a claim can be compared with a quote.

A `Figure` is either a date (any of day, month, year: "3 January", "March 2022", "1932",
"2024-03-14") or an amount with what it counts ("48 million euros", "$1.2bn", "40 robots",
"38 %"). Two figures are *about the same kind of thing* when both are dates, or both are
amounts of the same unit (or both bare numbers); `differs` then tells whether they disagree.
Numbers written in words ("a third", "two-year") are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.store.lexical import terms

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}  # fmt: skip
SCALES = {
    "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9,
    "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip
CURRENCIES = {"$": "dollar", "€": "euro", "£": "pound", "¥": "yen"}
UNIT_WORDS = 2  # an amount's unit is read from this many following words

_MONTH = r"(?P<{name}>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<{name}>1[5-9]\d\d|20\d\d)"
_DAY = r"(?P<{name}>[0-3]?\d)(?:st|nd|rd|th)?"
_DATES = [
    re.compile(rf"\b{_YEAR.format(name='y')}-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b"),
    re.compile(
        rf"\b{_DAY.format(name='d')} (?:of )?{_MONTH.format(name='mn')}"
        rf"(?:,? {_YEAR.format(name='y')})?\b"
    ),
    re.compile(
        rf"\b{_MONTH.format(name='mn')} {_DAY.format(name='d')}(?!\d)"
        rf"(?:,? {_YEAR.format(name='y')})?(?![\d,.])"
    ),
    re.compile(rf"\b{_MONTH.format(name='mn')},? {_YEAR.format(name='y')}\b"),
    re.compile(rf"(?<![\w.,/$€£¥]){_YEAR.format(name='y')}(?![\d.,%]|\s*(?:%|percent))"),
]
_AMOUNT = re.compile(
    r"(?<![\w.,/])(?P<cur>[$€£¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|mn|tn|[kmb])\b)?"
    r"(?P<pct>\s?%)?"
)
_FOLLOWING = re.compile(r"[^\W\d_][\w-]*")
_TOKEN = re.compile(r"[^\W_][\w-]*|[^\w\s]")
_SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)")


@dataclass(frozen=True)
class Figure:
    """A date or an amount as written (`text`) and as compared (`value`, `unit`)."""

    text: str
    kind: str  # "date" or "amount"
    value: tuple[int | None, int | None, int | None] | float  # date: (year, month, day)
    unit: frozenset[str] = frozenset()
    start: int = 0

    def comparable(self, other: Figure) -> bool:
        """Whether both state the same kind of thing (dates, or amounts of one unit)."""
        if self.kind != other.kind:
            return False
        if self.kind == "date":
            return any(a is not None and b is not None for a, b in self._pairs(other))
        if not self.unit and not other.unit:
            return True
        return bool(self.unit & other.unit)

    def differs(self, other: Figure) -> bool:
        """Whether two comparable figures disagree."""
        if self.kind == "date":
            return any(a is not None and b is not None and a != b for a, b in self._pairs(other))
        assert isinstance(self.value, float) and isinstance(other.value, float)
        return abs(self.value - other.value) > 1e-9 * max(abs(self.value), 1.0)

    def _pairs(self, other: Figure) -> zip[tuple[int | None, int | None]]:
        assert isinstance(self.value, tuple) and isinstance(other.value, tuple)
        return zip(self.value, other.value, strict=True)


def figures(text: str) -> list[Figure]:
    """The dates, then the amounts, stated in `text` (each span read once)."""
    lowered = text.casefold()
    taken: list[tuple[int, int]] = []
    found: list[Figure] = []
    for pattern in _DATES:
        for match in pattern.finditer(lowered):
            if _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            found.append(_date(text, match))
    for match in _AMOUNT.finditer(lowered):
        if not match["num"] or _overlaps(match.span("num"), taken):
            continue
        found.append(_amount(text, lowered, match))
    return sorted(found, key=lambda f: f.start)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _date(text: str, match: re.Match[str]) -> Figure:
    groups = match.groupdict()
    year = int(groups["y"]) if groups.get("y") else None
    if groups.get("mn"):
        month: int | None = MONTHS[groups["mn"]]
    else:
        month = int(groups["m"]) if groups.get("m") else None
    day = int(groups["d"]) if groups.get("d") else None
    written = text[match.start() : match.end()].strip()
    return Figure(written, "date", (year, month, day), frozenset(), match.start())


def _amount(text: str, lowered: str, match: re.Match[str]) -> Figure:
    value = float(match["num"].replace(",", ""))
    scale = match["scale"]
    if scale:
        value *= SCALES[scale]
    unit: set[str] = set()
    if match["cur"]:
        unit.add(CURRENCIES[match["cur"]])
    if match["pct"]:
        unit.add("percent")
    rest = _SENTENCE_END.split(lowered[match.end() : match.end() + 60], maxsplit=1)[0]
    for token in _TOKEN.findall(rest)[:UNIT_WORDS]:
        if not _FOLLOWING.fullmatch(token):
            break  # a number or punctuation ends the unit
        unit.update(terms(token.replace("-", " ")))
    unit = {"percent" if u in ("per", "cent", "percent") else u for u in unit} - {"cent"}
    start = match.start("cur") if match["cur"] else match.start("num")
    return Figure(text[start : match.end()].strip(), "amount", value, frozenset(unit), start)


def disagreements(claim: str, sentence: str) -> list[tuple[Figure, Figure]]:
    """(claim figure, sentence figure) pairs stating the same kind of thing differently.

    A claim figure that the sentence also states (an equal comparable figure) agrees and is
    not reported.
    """
    mine, theirs = figures(claim), figures(sentence)
    found = []
    for figure in mine:
        comparable = [f for f in theirs if figure.comparable(f)]
        if comparable and all(figure.differs(f) for f in comparable):
            found.append((figure, comparable[0]))
    return found
