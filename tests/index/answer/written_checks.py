"""Answers and passages for the writer's tests, and the check every shown answer must pass."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from index.answer.compose import Answer, Quote, Source
from index.answer.retrieval import Passage
from index.answer.written import WrittenAnswer
from index.store.generations import ChunkRecord

BRIDGE = (
    "The Eastport harbour bridge reopened to traffic on Thursday after a two-year repair "
    "that cost 48 million euros. Engineers replaced all 212 steel cables and resurfaced the deck."
)
TOLL = (
    "Mayor Ana Ruiz said the city would keep a toll of one euro for cars until the end of "
    "2026. Cyclists and pedestrians cross for free."
)
COMET = (
    "An amateur astronomer in Tasmania has discovered a new comet, the third found by an "
    "amateur this decade. Rosa Delgado saw the faint object on 3 January."
)
# Where each chunk starts in its article (the bridge article has a title line before it).
ARTICLES = {
    "harbour-bridge": "Harbour bridge reopens\n\n" + BRIDGE + "\n\n" + TOLL,
    "comet-sighting": COMET,
}


def chunk(n: int, article_id: str, text: str) -> ChunkRecord:
    start = ARTICLES[article_id].index(text)
    meta = {
        "harbour-bridge": ("Harbour bridge reopens", "Port Gazette", "2024-03-14"),
        "comet-sighting": ("Amateur astronomer spots new comet", "Sky Weekly", "2025-01-20"),
    }[article_id]
    title, source, published = meta
    url = f"https://example.org/{article_id}"
    return ChunkRecord(n, article_id, start, start + len(text), text, title, url, source, published)


def passages() -> list[Passage]:
    """[1] the bridge, [2] its toll (same article), [3] the comet."""
    chunks = [
        chunk(1, "harbour-bridge", BRIDGE),
        chunk(2, "harbour-bridge", TOLL),
        chunk(3, "comet-sighting", COMET),
    ]
    return [Passage(i, c, 1.0 / i, 0.6, 0.5) for i, c in enumerate(chunks, 1)]


def extractive(question: str = "How much did the bridge repair cost?") -> Answer:
    """An extractive answer over `passages()`, as the engine would give it."""
    found = passages()
    first = found[0].chunk
    quote = Quote(1, BRIDGE[:110], first.article_id, first.start, first.start + 110, 1.2)
    source = Source(1, first.article_id, first.title, first.url, first.source, first.published)
    return Answer(
        question=question,
        abstained=False,
        quotes=[quote],
        sources=[source],
        passages=found,
        confidence=0.9,
        as_of=date(2024, 3, 20),
    )


_QUOTED = re.compile(r"“([^”]*)”")
_MARKER = re.compile(r"\[(\d+)\]")


def assert_shown_is_verified(
    written: WrittenAnswer, article_text: Callable[[str], str] = ARTICLES.__getitem__
) -> None:
    """No unverified quote and no dangling [n]: what a user may be shown."""
    numbers = {s.n for s in written.sources}
    assert set(int(n) for n in _MARKER.findall(written.text)) <= numbers
    assert not re.search(r"\[(?!\d+\])[^\]]*\d[^\]]*\]", written.text), written.text
    for quote in written.quotes:
        assert quote.n in numbers
        assert written.source(quote.n).article_id == quote.article_id
        assert article_text(quote.article_id)[quote.start : quote.end] == quote.text
    shown = [q.text for q in written.quotes]
    for quoted in _QUOTED.findall(written.text):
        for piece in quoted.split(" … "):
            assert piece in shown, (piece, shown)
