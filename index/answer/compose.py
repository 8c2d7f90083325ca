"""Answer composition: the best sentences of the top passages, quoted verbatim and cited."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

import numpy as np

from index.answer.retrieval import Passage, Query
from index.embed.embedder import Embedder
from index.ingest.chunking import split_sentences
from index.store.lexical import LexicalIndex, terms

log = logging.getLogger(__name__)

MAX_QUOTE_CHARS = 600
PASSAGES_READ = 5  # sentences are drawn from this many top passages
MAX_SENTENCES = 3
SCORE_GAP = 0.5  # further sentences must score within this of the best one
MIN_FURTHER_QUOTE_CHARS = 20  # a further quote cut shorter than this is left out
ROOM_TO_GO_ON = 40  # characters of MAX_QUOTE_CHARS that must be left to add another quote
# A sentence's score: the idf-weighted share of the question's terms it contains, plus a prior
# for its passage's rank. Re-scoring sentences with the embedding model was measured on
# squad-dev: it cost ~10x the latency for no gain in answer-in-quote (0.845 vs 0.841).
W_PASSAGE = 0.3
# Confidence = W_PASSAGE_COS * best passage cosine + W_COVERAGE * best sentence coverage
# + W_SENTENCE_COS * best cosine between the question and the CHECKED top sentences (so a
# passage that mixes topics does not hide a sentence that answers). Calibrated on half of
# squad-dev: 0.575 abstains on ~3.5% of answerable questions and on ~90% of the same questions
# asked over the distractor articles alone (passage cosine + coverage alone: 76% at 3%).
W_PASSAGE_COS, W_COVERAGE, W_SENTENCE_COS = 0.5, 0.3, 0.5
CHECKED = 3
ABSTAIN_BELOW = 0.575


@dataclass(frozen=True)
class Source:
    """A numbered citation."""

    n: int
    article_id: str
    title: str
    url: str | None
    source: str | None
    published: str | None


@dataclass(frozen=True)
class Quote:
    """A verbatim span of an article: `article_text[start:end] == text`."""

    n: int
    text: str
    article_id: str
    start: int
    end: int
    score: float


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

    @property
    def text(self) -> str:
        """The answer as a chat message body: quotes with [n] markers, or an abstention."""
        if self.abstained:
            return NOT_COVERED
        return " ".join(f"“{q.text}” [{q.n}]" for q in self.quotes)

    def source(self, n: int) -> Source:
        return next(s for s in self.sources if s.n == n)


NOT_COVERED = "The indexed articles do not seem to cover this question."


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    start: int  # article offsets
    end: int
    text: str


def compose_answer(
    query: Query,
    passages: list[Passage],
    lexical: LexicalIndex,
    embedder: Embedder,
    *,
    max_chars: int = MAX_QUOTE_CHARS,
    abstain_below: float = ABSTAIN_BELOW,
) -> Answer:
    """Pick the sentences that best answer `query` and cite them; abstain on weak evidence."""
    answer = Answer(question=query.text, abstained=True, passages=passages)
    candidates = _sentences(passages[:PASSAGES_READ])
    if not candidates:
        return answer
    coverage = _coverage(query, candidates, lexical)
    scores = coverage + W_PASSAGE * np.array([1.0 / c.passage.rank for c in candidates])
    order = np.argsort(-scores, kind="stable")
    answer.confidence = _confidence(query, candidates, coverage, order, embedder, abstain_below)
    if answer.confidence < abstain_below:
        return answer
    chosen = _select(candidates, scores, order, max_chars)
    answer.abstained = False
    _number(answer, chosen)
    return answer


def _confidence(
    query: Query,
    candidates: list[_Candidate],
    coverage: np.ndarray,
    order: np.ndarray,
    embedder: Embedder,
    enough: float,
) -> float:
    """How well the best sentences answer the question (see ABSTAIN_BELOW).

    The confidence takes the best of CHECKED sentence cosines, so the sentences are embedded
    one at a time, best first, and checking stops as soon as the score reaches `enough`: the
    answer-or-abstain decision is the same as checking all of them, and most answers cost one
    sentence embedding instead of three (about 10 ms each with the int8 model on one core).
    """
    base = W_PASSAGE_COS * max(c.passage.dense for c in candidates) + W_COVERAGE * float(
        coverage.max()
    )
    best = -1.0
    for i in order[:CHECKED]:
        vector = embedder.embed([candidates[i].text])[0]
        best = max(best, float(vector @ query.vector))
        if base + W_SENTENCE_COS * best >= enough:
            break
    return base + W_SENTENCE_COS * best


def _select(
    candidates: list[_Candidate], scores: np.ndarray, order: np.ndarray, max_chars: int
) -> list[tuple[_Candidate, float]]:
    """The best sentence with the one after it (it often names what the first implies), then
    further sentences scoring within SCORE_GAP of the best, up to `max_chars` in all."""
    chosen: list[tuple[_Candidate, float]] = []
    taken: set[int] = set()
    used = 0
    best = scores[order[0]]
    for i in order:
        if len(taken) >= MAX_SENTENCES or scores[i] < best - SCORE_GAP:
            break
        if i in taken:
            continue
        cand, taken_now = candidates[i], {int(i)}
        nxt = i + 1
        if not chosen and nxt < len(candidates) and nxt not in taken:
            follower = candidates[nxt]
            if follower.passage is cand.passage and follower.start >= cand.end:
                cand = _join(cand, follower)
                taken_now.add(int(nxt))
        text = _cut(cand.text, max_chars - used)
        if len(text) < MIN_FURTHER_QUOTE_CHARS and chosen:
            break
        chosen.append(
            (_Candidate(cand.passage, cand.start, cand.start + len(text), text), scores[i])
        )
        taken |= taken_now
        used += len(text)
        if used >= max_chars - ROOM_TO_GO_ON:
            break
    return chosen


def _join(first: _Candidate, second: _Candidate) -> _Candidate:
    """One quote spanning two sentences of the same chunk (and what lies between them)."""
    chunk = first.passage.chunk
    text = chunk.text[first.start - chunk.start : second.end - chunk.start]
    return _Candidate(first.passage, first.start, second.end, text)


def _sentences(passages: list[Passage]) -> list[_Candidate]:
    seen: set[tuple[str, int]] = set()
    out = []
    for passage in passages:
        chunk = passage.chunk
        for span in split_sentences(chunk.text):
            start = chunk.start + span.start
            key = (chunk.article_id, start)
            if key in seen:  # overlapping chunks repeat a sentence
                continue
            seen.add(key)
            out.append(
                _Candidate(
                    passage, start, chunk.start + span.end, chunk.text[span.start : span.end]
                )
            )
    return out


def _coverage(query: Query, candidates: list[_Candidate], lexical: LexicalIndex) -> np.ndarray:
    """The idf-weighted share of the question's terms that each sentence contains."""
    q_terms = set(query.terms)
    weights = {t: lexical.idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    return np.array(
        [sum(weights[t] for t in q_terms & set(terms(c.text))) / total for c in candidates]
    )


def _cut(text: str, room: int) -> str:
    """The longest prefix of `text` that ends on a word and fits in `room` characters."""
    if len(text) <= room:
        return text
    if room <= 0:
        return ""
    cut = text[:room]
    space = cut.rfind(" ")
    return cut[:space].rstrip(",;:") if space > room // 2 else cut


def _number(answer: Answer, chosen: list[tuple[_Candidate, float]]) -> None:
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
    store keeps (`index.feedback.answer_from_json` reads it back).

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
    return line + (f" <{source.url}>" if source.url else "")


def sources_published(sources: list[Source]) -> str | None:
    """ "Sources published 2023-01-04 – 2023-01-06" (one date when all agree), or None when no
    source has a known date."""
    dates = sorted({s.published[:10] for s in sources if s.published})
    if not dates:
        return None
    span = dates[0] if len(dates) == 1 else f"{dates[0]} – {dates[-1]}"
    return f"Sources published {span}"
