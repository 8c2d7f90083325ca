"""Answer composition: the best sentences of the top passages, quoted verbatim and cited."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from index.chunking import split_sentences
from index.embedding import Embedder
from index.lexical import LexicalIndex, terms
from index.retrieval import Passage, Query

log = logging.getLogger(__name__)

MAX_QUOTE_CHARS = 600
PASSAGES_READ = 5  # sentences are drawn from this many top passages
SENTENCES_EMBEDDED = 16  # lexical pre-selection before the embedding model re-scores
# Sentence score = weights . (embedding similarity, idf-weighted term overlap, passage prior)
W_DENSE, W_LEXICAL, W_PASSAGE = 1.0, 1.0, 0.3
ABSTAIN_BELOW = 0.40  # best-sentence score under which the articles do not cover a question


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
    confidence: float = 0.0

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
    embedder: Embedder,
    lexical: LexicalIndex,
    *,
    max_chars: int = MAX_QUOTE_CHARS,
    abstain_below: float = ABSTAIN_BELOW,
) -> Answer:
    """Pick the sentences that best answer `query` and cite them; abstain on weak evidence."""
    answer = Answer(question=query.text, abstained=True, passages=passages)
    candidates = _sentences(passages[:PASSAGES_READ])
    if not candidates:
        return answer
    scores = _score(query, candidates, embedder, lexical)
    order = np.argsort(-scores, kind="stable")
    answer.confidence = float(scores[order[0]])
    if answer.confidence < abstain_below:
        return answer
    chosen: list[tuple[_Candidate, float]] = []
    used = 0
    for i in order[:3]:
        cand = candidates[i]
        if chosen and scores[i] < answer.confidence - 0.35:
            break
        room = max_chars - used
        text = cand.text if len(cand.text) <= room else _cut(cand.text, room)
        if len(text) < 20 and chosen:
            break
        chosen.append(
            (_Candidate(cand.passage, cand.start, cand.start + len(text), text), scores[i])
        )
        used += len(text)
        if used >= max_chars - 40:
            break
    answer.abstained = False
    _number(answer, chosen)
    return answer


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


def _score(
    query: Query, candidates: list[_Candidate], embedder: Embedder, lexical: LexicalIndex
) -> np.ndarray:
    q_terms = set(query.terms)
    weights = {t: lexical.idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    lex = np.array(
        [sum(weights[t] for t in q_terms & set(terms(c.text))) / total for c in candidates]
    )
    prior = np.array([1.0 / c.passage.rank for c in candidates])
    dense = np.zeros(len(candidates))
    shortlist = np.argsort(-(lex + 0.5 * prior), kind="stable")[:SENTENCES_EMBEDDED]
    vectors = embedder.embed([candidates[i].text for i in shortlist])
    dense[shortlist] = vectors @ query.vector
    score = W_DENSE * dense + W_LEXICAL * lex + W_PASSAGE * prior
    # Sentences outside the shortlist were never embedded: keep them below the shortlist.
    outside = np.ones(len(candidates), dtype=bool)
    outside[shortlist] = False
    score[outside] = -1.0
    return score


def _cut(text: str, room: int) -> str:
    """The longest prefix of `text` that ends on a word and fits in `room` characters."""
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
