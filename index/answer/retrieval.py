"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates fused into one ranking.

A question's candidates come from the two retrievers (CANDIDATES each). Every candidate gets both
scores and a fused one; recent articles get a bonus when dates are known (more for a question
about the present); the best RERANKED are re-scored by how much of the question their best
sentence covers; then syndicated copies collapse into one passage ("also reported by"), and
chunks of one article that overlap or touch merge into one passage, as long as it stays within
the characters one chunk may hold (a blob cut into chunks is not glued back together).

The weights were chosen on one half of each development set (squad-dev and the news set,
`bench/README.md`) and checked on the other halves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import cached_property

import numpy as np

from index.answer.coverage import TermWeights
from index.answer.question import Question, analyse
from index.embed.embedder import Embedder
from index.ingest.chunking import max_chunk_chars
from index.store.generations import ChunkRecord, IndexSnapshot
from index.store.lexical import LexicalIndex, terms

log = logging.getLogger(__name__)

CANDIDATES = 50  # taken from each retriever before fusion
DENSE_WEIGHT = 0.7  # share of the dense score in the fused score
RERANKED = 30  # this many best fused candidates are re-scored by their best sentence
W_BEST_SENTENCE = 0.2
# Recency bonus: weight * exp(-days newer candidates are ahead / scale). Every question gets
# the first; a question about the present ("this week", "latest", ...) also the second.
RECENCY = (0.1, 30.0)
RECENCY_ABOUT_NOW = (0.1, 180.0)
DUPLICATE_JACCARD = 0.8  # passages sharing this share of their words are one story


class Mode(StrEnum):
    """Which retrievers take part (the evaluation compares all three)."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


@dataclass(frozen=True)
class Filters:
    """Optional restrictions on which articles may answer.

    `as_of` is the date of asking: articles published after it are left out, undated ones
    kept. `since` and `until` are the asker's own window and leave out undated articles.
    """

    source: str | None = None
    since: date | None = None
    until: date | None = None
    as_of: date | None = None

    @property
    def active(self) -> bool:
        """Whether the asker restricted the articles (source, since or until)."""
        return bool(self.source or self.since or self.until)

    def describe(self) -> str:
        """The restrictions in words, for "no article matches …"."""
        parts = []
        if self.source:
            parts.append(f"from {self.source}")
        if self.since and self.until:
            parts.append(f"published {self.since.isoformat()} – {self.until.isoformat()}")
        elif self.since:
            parts.append(f"published on or after {self.since.isoformat()}")
        elif self.until:
            parts.append(f"published on or before {self.until.isoformat()}")
        if self.as_of and not (self.until and self.until <= self.as_of):
            parts.append(f"published by {self.as_of.isoformat()}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Passage:
    """A retrieved passage (one chunk, or adjacent chunks of one article merged), its rank
    (1-based), scores, and the other outlets that published the same text."""

    rank: int
    chunk: ChunkRecord
    score: float
    dense: float
    lexical: float
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Query:
    """A question prepared once: its embedding, lexical terms and analysis."""

    text: str
    vector: np.ndarray
    terms: list[str]
    question: Question


def prepare_query(text: str, embedder: Embedder) -> Query:
    """Embed, tokenize and analyse a question once, for retrieval and answer composition."""
    return Query(
        text=text, vector=embedder.embed([text])[0], terms=terms(text), question=analyse(text)
    )


def allowed_chunks(snapshot: IndexSnapshot, filters: Filters) -> np.ndarray:
    """Chunk ids of the articles that pass `filters`."""
    return snapshot.chunk_ids_where(
        source=filters.source,
        since=filters.since.isoformat() if filters.since else None,
        until=filters.until.isoformat() if filters.until else None,
        as_of=filters.as_of.isoformat() if filters.as_of else None,
    )


def published_by(record: ChunkRecord, as_of: date | None) -> bool:
    """Whether the record's article was published on or before `as_of` (or is undated)."""
    return as_of is None or not record.published or record.published[:10] <= as_of.isoformat()


class Retriever:
    """Searches one index snapshot; safe to call from several threads."""

    def __init__(self, snapshot: IndexSnapshot, lexical: LexicalIndex) -> None:
        self.snapshot = snapshot
        self.lexical = lexical
        # A merged passage holds no more than one chunk may (the chunker's budget in characters).
        self.max_passage_chars = max_chunk_chars(snapshot.manifest["chunker"]["max_tokens"])

    @cached_property
    def newest_published(self) -> str:
        """The latest publication day in the snapshot (YYYY-MM-DD), "" when none is dated."""
        row = self.snapshot.db.execute(
            "SELECT MAX(substr(published, 1, 10)) FROM articles"
        ).fetchone()
        return row[0] or ""

    def search(
        self,
        query: Query,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = Mode.HYBRID,
    ) -> list[Passage]:
        """The `k` best passages for `query`, syndicated copies collapsed."""
        filters = filters or Filters()
        if filters.as_of and filters.as_of.isoformat() >= self.newest_published:
            filters = replace(filters, as_of=None)  # leaves nothing out: skip the filter's cost
        # The date of asking leaves out few articles of a news collection: it is applied to
        # the candidates found (cheap) unless too few survive, then up front like a filter.
        prefilter = filters.active
        records, dense, lexical = self._candidates(query, filters, mode, prefilter)
        if records is not None and not prefilter and filters.as_of is not None:
            before = len(records)
            records = {c: r for c, r in records.items() if published_by(r, filters.as_of)}
            if len(records) < min(k, before) * 2:
                records, dense, lexical = self._candidates(query, filters, mode, True)
        if not records:
            return []
        scores = self._score(query, records, dense, lexical, mode)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        return self._passages(ranked, records, dense, lexical, k)

    def matches_any(self, filters: Filters) -> bool:
        """Whether any indexed article passes `filters`."""
        return len(allowed_chunks(self.snapshot, filters)) > 0

    def _candidates(
        self, query: Query, filters: Filters, mode: Mode, prefilter: bool
    ) -> tuple[dict[int, ChunkRecord] | None, dict[int, float], dict[int, float]]:
        """Candidate chunks with both scores: (records, dense cosines, raw BM25 scores)."""
        allowed = allowed_chunks(self.snapshot, filters) if prefilter else None
        if allowed is not None and len(allowed) == 0:
            return {}, {}, {}
        bm25 = self.lexical.scores(query.terms)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        if mode != Mode.LEXICAL:
            dense = dict(self.snapshot.vectors.search(query.vector, CANDIDATES, allowed))
        if mode != Mode.DENSE:
            lexical = dict(self.lexical.top(bm25, CANDIDATES, allowed))
        union = list(dense.keys() | lexical.keys())
        # Every candidate carries both scores, whichever retriever found it.
        dense.update(
            self.snapshot.vectors.scores(query.vector, [c for c in union if c not in dense])
        )
        lexical.update(self.lexical.scores_of(bm25, [c for c in union if c not in lexical]))
        return self.snapshot.chunks(union), dense, lexical

    def _score(
        self,
        query: Query,
        records: dict[int, ChunkRecord],
        dense: dict[int, float],
        lexical: dict[int, float],
        mode: Mode,
    ) -> dict[int, float]:
        ids = list(records)
        d = np.array([dense.get(c, 0.0) for c in ids])
        raw = np.array([lexical.get(c, 0.0) for c in ids])
        lex = raw / (raw.max() or 1.0)
        if mode == Mode.DENSE:
            fused = d
        elif mode == Mode.LEXICAL:
            fused = lex
        else:
            fused = DENSE_WEIGHT * d + (1 - DENSE_WEIGHT) * lex
        fused = fused + recency_bonus([records[c].published for c in ids], query.question)
        weights = TermWeights(query.terms, self.lexical, query.question.past_forms)
        for i in np.argsort(-fused, kind="stable")[:RERANKED]:
            fused[i] += W_BEST_SENTENCE * weights.best_sentence(records[ids[i]].text)
        return dict(zip(ids, fused.tolist(), strict=True))

    def _passages(
        self,
        ranked: list[tuple[int, float]],
        records: dict[int, ChunkRecord],
        dense: dict[int, float],
        lexical: dict[int, float],
        k: int,
    ) -> list[Passage]:
        passages: list[Passage] = []
        words: list[set[str]] = []
        for cid, score in ranked:
            record = records[cid]
            near = _adjacent(passages, record) if len(passages) < k else None
            if near is not None:
                merged = self._merge(passages[near].chunk, record)
                if len(merged.text) > self.max_passage_chars:
                    continue  # the passage kept already holds as much of this article as allowed
                passages[near] = replace(passages[near], chunk=merged)
                words[near] = _words(merged.text)
                continue
            these = _words(record.text)
            same = next(
                (i for i, w in enumerate(words) if _jaccard(these, w) >= DUPLICATE_JACCARD), None
            )
            if same is not None:
                passages[same] = _also(passages[same], record)
                continue
            if len(passages) == k:
                continue  # still looking for other outlets' copies of the passages kept
            words.append(these)
            passages.append(
                Passage(
                    rank=len(passages) + 1,
                    chunk=record,
                    score=score,
                    dense=dense.get(cid, 0.0),
                    lexical=lexical.get(cid, 0.0),
                )
            )
        return passages

    def _merge(self, kept: ChunkRecord, other: ChunkRecord) -> ChunkRecord:
        """One record spanning two overlapping or adjacent chunks of the same article."""
        first, second = sorted((kept, other), key=lambda r: r.start)
        start, end = first.start, max(first.end, second.end)
        if second.end <= first.end:
            text = first.text
        elif second.start <= first.end:
            text = first.text + second.text[first.end - second.start :]
        else:
            article = self.snapshot.article_text(kept.article_id) or ""
            text = article[start:end]
        return replace(kept, start=start, end=end, text=text)


def recency_bonus(published: list[str | None], question: Question) -> np.ndarray:
    """A bonus per candidate for being among the newest (undated candidates get none)."""
    behind = days_behind_newest(published)
    bonus = RECENCY[0] * np.exp(-behind / RECENCY[1])
    if question.about_now:
        bonus += RECENCY_ABOUT_NOW[0] * np.exp(-behind / RECENCY_ABOUT_NOW[1])
    return np.nan_to_num(bonus)


def days_behind_newest(published: list[str | None]) -> np.ndarray:
    """Per item, how many days its publication date is older than the newest one (NaN when
    undated, or when none is dated)."""
    days = np.array(
        [date.fromisoformat(p[:10]).toordinal() if p else np.nan for p in published], float
    )
    if np.isnan(days).all():
        return days
    return np.nanmax(days) - days


def _adjacent(passages: list[Passage], record: ChunkRecord) -> int | None:
    """The kept passage of the same article that `record` overlaps or touches, if any."""
    for i, passage in enumerate(passages):
        chunk = passage.chunk
        if chunk.article_id == record.article_id and (
            record.start <= chunk.end + 2 and record.end >= chunk.start - 2
        ):
            return i
    return None


def _also(passage: Passage, copy: ChunkRecord) -> Passage:
    """`passage` noting that `copy`'s outlet published the same text."""
    outlet = copy.source or copy.title
    if copy.article_id == passage.chunk.article_id or outlet in passage.also:
        return passage
    if outlet == (passage.chunk.source or passage.chunk.title):
        return passage
    return replace(passage, also=(*passage.also, outlet))


def _words(text: str) -> set[str]:
    return set(text.casefold().split())


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
