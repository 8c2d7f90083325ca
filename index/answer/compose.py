"""Answer composition: the best sentences of the top passages, quoted verbatim and cited."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

import numpy as np

from index.answer.choose import chosen, evidence_for, rank
from index.answer.confidence import ABSTAIN_BELOW
from index.answer.notes import NON_ENGLISH, as_of_note, missing_notes
from index.answer.retrieval import Passage, Query
from index.answer.sentences import Candidate
from index.embed.embedder import Embedder
from index.store.lexical import LexicalIndex

log = logging.getLogger(__name__)

MAX_QUOTE_CHARS = 600


@dataclass(frozen=True)
class Source:
    """A numbered citation."""

    n: int
    article_id: str
    title: str
    url: str | None
    source: str | None
    published: str | None
    also: tuple[str, ...] = ()  # other outlets that published the same text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        """The inverse of `dataclasses.asdict` (JSON turns `also` into a list)."""
        return cls(**{**data, "also": tuple(data.get("also", ()))})


@dataclass(frozen=True)
class Quote:
    """A verbatim span of an article: `article_text[start:end] == text`."""

    n: int
    text: str
    article_id: str
    start: int
    end: int
    score: float

    @property
    def display(self) -> str:
        """The quote on one line: a quote spanning two paragraphs reads as one."""
        return " ".join(self.text.split())


@dataclass
class Answer:
    """What citebot says to a question."""

    question: str
    abstained: bool
    quotes: list[Quote] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    # Evidence score compared with ABSTAIN_BELOW. Sentences are checked best first and checking
    # stops once the score clears the threshold, so for an answer it is a lower bound.
    confidence: float = 0.0
    as_of: date | None = None  # the date of asking, when the asker gave one
    # Caveats shown with the answer ("No article mentions Stockholm.").
    notes: list[str] = field(default_factory=list)
    # Why citebot abstained, when it knows better than NOT_COVERED (a filter matching nothing).
    reason: str | None = None

    @property
    def text(self) -> str:
        """The answer as a chat message body: quotes with [n] markers and the notes, or an
        abstention."""
        if self.abstained:
            return " ".join([self.reason or NOT_COVERED, *self.notes])
        return " ".join([*(f"“{q.display}” [{q.n}]" for q in self.quotes), *self.notes])

    def source(self, n: int) -> Source:
        return next(s for s in self.sources if s.n == n)


NOT_COVERED = "The indexed articles do not seem to cover this question."


def compose_answer(
    query: Query,
    passages: list[Passage],
    lexical: LexicalIndex,
    embedder: Embedder,
    *,
    max_chars: int = MAX_QUOTE_CHARS,
    abstain_below: float = ABSTAIN_BELOW,
    as_of: date | None = None,
) -> Answer:
    """Pick the sentences that best answer `query` and cite them, with honest notes (see
    notes.py); abstain on weak evidence."""
    answer = Answer(question=query.text, abstained=True, passages=passages, as_of=as_of)
    _choose(answer, query, passages, lexical, embedder, max_chars, abstain_below)
    _add_notes(answer, query, lexical)
    return answer


def _add_notes(answer: Answer, query: Query, lexical: LexicalIndex) -> None:
    question = query.question
    if question.non_english:
        answer.notes.append(NON_ENGLISH)
    missing = missing_notes(question, [q.text for q in answer.quotes], lexical)
    if answer.abstained:  # only what no article holds: the rest was never quoted anyway
        missing = [note for note in missing if note.startswith("No article")]
    answer.notes.extend(missing)
    stale = as_of_note(question, [s.published for s in answer.sources], answer.as_of)
    if stale and not answer.abstained:
        answer.notes.append(stale)


def _choose(
    answer: Answer,
    query: Query,
    passages: list[Passage],
    lexical: LexicalIndex,
    embedder: Embedder,
    max_chars: int,
    abstain_below: float,
) -> None:
    """Fill `answer` with the chosen quotes and sources, or leave it abstained."""
    ranked = rank(query, passages, lexical)
    if ranked is None:
        return
    evidence = evidence_for(query, passages, lexical, embedder, abstain_below, ranked)
    answer.confidence = evidence.confidence if evidence else 0.0
    if answer.confidence < abstain_below:
        return
    answer.abstained = False
    _number(answer, chosen(query.question, ranked, max_chars))


def _number(answer: Answer, chosen: list[tuple[Candidate, float]]) -> None:
    """Number sources by first appearance; one number per article."""
    numbers: dict[str, int] = {}
    for cand, score in chosen:
        chunk = cand.passage.chunk
        if chunk.article_id not in numbers:
            numbers[chunk.article_id] = len(numbers) + 1
            answer.sources.append(
                Source(
                    n=numbers[chunk.article_id],
                    article_id=chunk.article_id,
                    title=chunk.title,
                    url=chunk.url,
                    source=chunk.source,
                    published=chunk.published,
                    also=cand.passage.also,
                )
            )
        answer.quotes.append(
            Quote(
                n=numbers[chunk.article_id],
                text=cand.text,
                article_id=chunk.article_id,
                start=cand.start,
                end=cand.end,
                score=float(score),
            )
        )


def answer_as_json(answer: Answer) -> dict[str, Any]:
    """The one JSON shape of an answer: what `citebot ask --json` prints and what the feedback
    store keeps (`index.answer.answer_json.answer_from_json` reads it back).

    Every field of `Answer` is there (a field added later too), with `answer`, the text as
    shown; each quote also carries its source's citation fields, and each passage its chunk's.
    """
    data: dict[str, Any] = {"question": answer.question, "answer": answer.text}
    for name in (f.name for f in fields(answer)):
        if name not in ("question", "quotes", "sources", "passages"):
            data[name] = _plain(getattr(answer, name))
    cited = {s.n: s for s in answer.sources}
    data["quotes"] = [{**_plain(asdict(q)), **_citation(cited[q.n])} for q in answer.quotes]
    data["sources"] = [_plain(asdict(s)) for s in answer.sources]
    data["passages"] = [_passage_json(p) for p in answer.passages]
    return data


def _citation(source: Source) -> dict[str, Any]:
    return {k: getattr(source, k) for k in ("title", "url", "source", "published")}


def _passage_json(passage: Passage) -> dict[str, Any]:
    chunk = passage.chunk
    return {
        "rank": passage.rank,
        "chunk_id": chunk.id,
        "article_id": chunk.article_id,
        "title": chunk.title,
        "url": chunk.url,
        "source": chunk.source,
        "published": chunk.published,
        "text": chunk.text,
        "start": chunk.start,
        "end": chunk.end,
        "score": round(float(passage.score), 4),
        "dense": round(float(passage.dense), 4),
        "lexical": round(float(passage.lexical), 4),
        "also": list(passage.also),
    }


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO strings, numpy numbers as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | np.floating):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    return value


def format_source(source: Source) -> str:
    """`Title — Outlet, 2024-03-14 <url>`, leaving out what is unknown."""
    meta = ", ".join(x for x in (source.source, (source.published or "")[:10]) if x)
    line = source.title + (f" — {meta}" if meta else "")
    line += f" <{source.url}>" if source.url else ""
    return line + (f" (also reported by {', '.join(source.also)})" if source.also else "")


def sources_published(sources: list[Source]) -> str | None:
    """ "Sources published 2023-01-04 – 2023-01-06" (one date when all agree), or None when no
    source has a known date."""
    dates = sorted({s.published[:10] for s in sources if s.published})
    if not dates:
        return None
    span = dates[0] if len(dates) == 1 else f"{dates[0]} – {dates[-1]}"
    return f"Sources published {span}"
