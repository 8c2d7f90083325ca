"""Answer composition: the best sentences of the top passages, quoted verbatim and cited."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

import numpy as np

from index.answer.confidence import (
    ABSTAIN_BELOW,
    Evidence,
    cosine_with,
    mention_share,
    weigh,
)
from index.answer.coverage import TermWeights
from index.answer.notes import NON_ENGLISH, as_of_note, missing_notes
from index.answer.question import Expects
from index.answer.retrieval import Passage, Query
from index.answer.sentences import Candidate, candidate_sentences, carries
from index.embed.embedder import Embedder
from index.store.lexical import LexicalIndex, terms

log = logging.getLogger(__name__)

MAX_QUOTE_CHARS = 600
PASSAGES_READ = 5  # sentences are drawn from this many top passages
MAX_SENTENCES = 4
SCORE_GAP = 0.5  # further sentences must score within this of the best one
MIN_FURTHER_QUOTE_CHARS = 20  # a further quote cut shorter than this is left out
ROOM_TO_GO_ON = 40  # characters of MAX_QUOTE_CHARS that must be left to add another quote
# A sentence's score: the idf-weighted share of the question's terms it contains, plus a prior
# for its passage's rank. Re-scoring sentences with the embedding model was measured on
# squad-dev: it cost ~10x the latency for no gain in answer-in-quote (0.845 vs 0.841).
W_PASSAGE = 0.3
# Added to the score of a sentence holding what the question asks for (a date for "when", a
# number for "how many", a name for "who", a place for "where") that the question lacks.
W_CARRIES = 0.2
# A question that tells a story before it asks ("Amazon announced layoffs this week. How many
# jobs will go?"): the sentence that answers shares the words of the asking sentence more than
# the story's, so the share of the asking sentence's terms it holds is added to its score with
# this weight. bench/eval_qa.py, hybrid, before -> after (with the passage-size cap of the same
# day): news answer in quote 0.577 -> 0.586, first quote 0.440 -> 0.454; squad-dev 0.826 ->
# 0.826, 0.754 -> 0.756. (0.3 and 0.6 measured alike on the news set in a sweep.)
W_ASK = 0.5
TYPED = (Expects.DATE, Expects.NUMBER, Expects.PERSON, Expects.PLACE)
# When the question clearly asks for a date, a number, a person or a place and the best
# sentence holds none, the best one that does comes first if it scores within this much.
TYPED_GAP = 0.2
# An article titled by a short name ("Wayback Machine", "Super Bowl 50") is about that name,
# and its sentences often leave the name out ("It was set up by Brewster Kahle…"), so when
# weighing sentences they are credited with the terms of a title this short. News headlines
# are longer and unaffected. Both development sets, hybrid, bench/qa_metrics figures: squad-dev
# first quote 0.756 -> 0.765 (both halves up), answer in quote 0.826 -> 0.826; news unchanged
# (0.586, 0.454); abstention unchanged on both sets, answerable and unanswerable. Up to 5
# terms cost news 2 questions.
SUBJECT_TITLE_TERMS = 3


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


@dataclass
class _Ranked:
    """The candidate sentences of the passages read, scored for relevance."""

    candidates: list[Candidate]
    coverage: np.ndarray
    relevance: np.ndarray  # -inf for sentences that may not be quoted
    by_relevance: list[int]  # quotable sentences, best first


def _rank(query: Query, passages: list[Passage], lexical: LexicalIndex) -> _Ranked | None:
    candidates = candidate_sentences(passages[:PASSAGES_READ])
    if not any(c.quotable for c in candidates):
        return None
    subjects = {c.passage.chunk.title: _subject(c.passage.chunk.title) for c in candidates}
    sentence_terms = [set(terms(c.text)) | subjects[c.passage.chunk.title] for c in candidates]
    coverage = _coverage(query, candidates, sentence_terms, lexical)
    relevance = coverage + W_PASSAGE * np.array([1.0 / c.passage.rank for c in candidates])
    if query.question.has_preamble:
        ask = TermWeights(terms(query.question.ask), lexical)
        relevance += W_ASK * np.array([ask.share(t) for t in sentence_terms])
    relevance[[not c.quotable for c in candidates]] = -np.inf
    order = [int(i) for i in np.argsort(-relevance, kind="stable") if candidates[i].quotable]
    return _Ranked(candidates, coverage, relevance, order)


def _subject(title: str) -> set[str]:
    """The terms of a title short enough to name what its article is about (else none)."""
    found = set(terms(title))
    return found if len(found) <= SUBJECT_TITLE_TERMS else set()


def evidence_for(
    query: Query,
    passages: list[Passage],
    lexical: LexicalIndex,
    embedder: Embedder,
    enough: float | None = None,
    ranked: _Ranked | None = None,
) -> Evidence | None:
    """The evidence the confidence weighs (None when no sentence may be quoted); with
    `enough`, sentence checking stops once the confidence reaches it."""
    ranked = ranked or _rank(query, passages, lexical)
    if ranked is None:
        return None
    return weigh(
        passage_cosine=max(c.passage.dense for c in ranked.candidates),
        coverage=float(ranked.coverage[ranked.by_relevance].max()),
        mentions_share=mention_share(
            query.question, [p.chunk.text for p in passages[:PASSAGES_READ]]
        ),
        best_sentences=[ranked.candidates[i].text for i in ranked.by_relevance],
        sentence_cosine=cosine_with(query.vector, embedder.embed),
        enough=enough,
    )


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
    ranked = _rank(query, passages, lexical)
    if ranked is None:
        return
    evidence = evidence_for(query, passages, lexical, embedder, abstain_below, ranked)
    answer.confidence = evidence.confidence if evidence else 0.0
    if answer.confidence < abstain_below:
        return
    question = query.question
    candidates = ranked.candidates
    bonus = np.array([carries(question.expects, c.text, question) for c in candidates], float)
    scores = ranked.relevance + W_CARRIES * bonus
    order = np.argsort(-scores, kind="stable")
    if question.expects in TYPED and not bonus[order[0]]:
        order = _typed_first(order, scores, bonus)
    chosen = _select(candidates, scores, order, max_chars, several=question.several)
    answer.abstained = False
    _number(answer, chosen)


def _select(
    candidates: list[Candidate],
    scores: np.ndarray,
    order: np.ndarray,
    max_chars: int,
    *,
    several: bool = False,
) -> list[tuple[Candidate, float]]:
    """The best sentence with the one after it (it often names what the first implies), then
    further sentences scoring within SCORE_GAP of the best, up to `max_chars` in all.

    For a question that asks for several things ("Which records were broken?") the further
    sentences come from articles not quoted yet, best first, before any second sentence of an
    article already quoted.
    """
    best = scores[order[0]]
    eligible = [int(i) for i in order if np.isfinite(scores[i]) and scores[i] >= best - SCORE_GAP]
    if several:
        firsts: dict[str, int] = {}
        for i in eligible:
            firsts.setdefault(candidates[i].passage.chunk.article_id, i)
        eligible = list(firsts.values()) + [i for i in eligible if i not in firsts.values()]
    chosen: list[tuple[Candidate, float]] = []
    taken: set[int] = set()
    used = 0
    for i in eligible:
        if len(taken) >= MAX_SENTENCES:
            break
        if i in taken:
            continue
        cand, taken_now = candidates[i], {i}
        nxt = i + 1
        if not chosen and nxt < len(candidates) and nxt not in taken:
            follower = candidates[nxt]
            if (
                follower.quotable
                and follower.passage is cand.passage
                and follower.start >= cand.end
            ):
                cand = _join(cand, follower)
                taken_now.add(nxt)
        text = _cut(cand.text, max_chars - used)
        if len(text) < MIN_FURTHER_QUOTE_CHARS and chosen:
            break
        chosen.append(
            (
                Candidate(cand.passage, cand.start, cand.start + len(text), text, True),
                scores[i],
            )
        )
        taken |= taken_now
        used += len(text)
        if used >= max_chars - ROOM_TO_GO_ON:
            break
    return chosen


def _typed_first(order: np.ndarray, scores: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    """`order` with the best sentence holding the expected kind of answer first, when it
    scores within TYPED_GAP of the best sentence."""
    best = scores[order[0]]
    for i in order:
        if not np.isfinite(scores[i]) or scores[i] < best - TYPED_GAP:
            break
        if bonus[i]:
            return np.concatenate([[i], order[order != i]])
    return order


def _join(first: Candidate, second: Candidate) -> Candidate:
    """One quote spanning two sentences of the same chunk (and what lies between them)."""
    chunk = first.passage.chunk
    text = chunk.text[first.start - chunk.start : second.end - chunk.start]
    return Candidate(first.passage, first.start, second.end, text, True)


def _coverage(
    query: Query,
    candidates: list[Candidate],
    sentence_terms: list[set[str]],
    lexical: LexicalIndex,
) -> np.ndarray:
    """The idf-weighted share of the question's terms that each sentence contains."""
    weights = TermWeights(query.terms, lexical)
    return np.array([weights.share(t) for t in sentence_terms])


def _cut(text: str, room: int) -> str:
    """The longest prefix of `text` that ends on a word and fits in `room` characters."""
    if len(text) <= room:
        return text
    if room <= 0:
        return ""
    cut = text[:room]
    space = cut.rfind(" ")
    return cut[:space].rstrip(",;:") if space > room // 2 else cut


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
