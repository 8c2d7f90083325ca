"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates fused into one ranking."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import cached_property

import numpy as np

from index.embed.embedder import Embedder
from index.store.generations import ChunkRecord, IndexSnapshot
from index.store.lexical import LexicalIndex, terms

log = logging.getLogger(__name__)

CANDIDATES = 50  # taken from each retriever before fusion
DENSE_WEIGHT = 0.55  # share of the dense score in the fused score (tuned on squad-dev)
DUPLICATE_JACCARD = 0.8  # passages sharing this share of their words are collapsed
# Fused candidates ranked before near-duplicates are collapsed: enough that `k` remain after.
RANKED_PER_PASSAGE, RANKED_EXTRA = 3, 10


class Mode(StrEnum):
    """Which retrievers take part (the evaluation compares all three)."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


@dataclass(frozen=True)
class Filters:
    """Optional restrictions on which articles may answer."""

    source: str | None = None
    since: date | None = None
    until: date | None = None
    # The date of asking: articles published after it are left out. Unlike `until`, it keeps
    # undated articles, which were not "published after" anything.
    as_of: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.source or self.since or self.until or self.as_of)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, its rank (1-based) and scores."""

    rank: int
    chunk: ChunkRecord
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class Query:
    """A question prepared once: its embedding and lexical terms."""

    text: str
    vector: np.ndarray
    terms: list[str]


def prepare_query(text: str, embedder: Embedder) -> Query:
    """Embed and tokenize a question once, for retrieval and answer composition."""
    return Query(text=text, vector=embedder.embed([text])[0], terms=terms(text))


def allowed_chunks(snapshot: IndexSnapshot, filters: Filters) -> np.ndarray:
    """Chunk ids of the articles that pass `filters`."""
    return snapshot.chunk_ids_where(
        source=filters.source,
        since=filters.since.isoformat() if filters.since else None,
        until=filters.until.isoformat() if filters.until else None,
        as_of=filters.as_of.isoformat() if filters.as_of else None,
    )


class Retriever:
    """Searches one index snapshot; safe to call from several threads."""

    def __init__(self, snapshot: IndexSnapshot, lexical: LexicalIndex) -> None:
        self.snapshot = snapshot
        self.lexical = lexical

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
        """The `k` best passages for `query`, near-duplicates collapsed."""
        filters = filters or Filters()
        if filters.as_of and filters.as_of.isoformat() >= self.newest_published:
            filters = replace(filters, as_of=None)  # leaves nothing out: skip the filter's cost
        allowed = allowed_chunks(self.snapshot, filters) if filters.active else None
        if allowed is not None and len(allowed) == 0:
            return []
        dense = self._dense(query, allowed) if mode != Mode.LEXICAL else {}
        bm25 = self.lexical.scores(query.terms)  # computed once, looked up below
        lexical = {} if mode == Mode.DENSE else dict(self.lexical.top(bm25, CANDIDATES, allowed))
        fused = self._fuse(query, dense, lexical, bm25, mode)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        ranked = ranked[: max(k * RANKED_PER_PASSAGE, k + RANKED_EXTRA)]
        # Every passage carries both scores, whichever retrievers ranked it.
        top = [cid for cid, _ in ranked]
        dense = {**self._dense_scores(query, [c for c in top if c not in dense]), **dense}
        lexical = {**self.lexical.scores_of(bm25, [c for c in top if c not in lexical]), **lexical}
        records = self.snapshot.chunks(top)
        passages: list[Passage] = []
        kept_words: list[set[str]] = []
        for cid, score in ranked:
            record = records.get(cid)
            if record is None:
                continue
            words = set(record.text.casefold().split())
            if any(_jaccard(words, other) >= DUPLICATE_JACCARD for other in kept_words):
                continue
            kept_words.append(words)
            passages.append(
                Passage(
                    rank=len(passages) + 1,
                    chunk=record,
                    score=score,
                    dense=dense.get(cid, 0.0),
                    lexical=lexical.get(cid, 0.0),
                )
            )
            if len(passages) == k:
                break
        return passages

    def _dense(self, query: Query, allowed: np.ndarray | None) -> dict[int, float]:
        return dict(self.snapshot.vectors.search(query.vector, CANDIDATES, allowed))

    def _fuse(
        self,
        query: Query,
        dense: dict[int, float],
        lexical: dict[int, float],
        bm25: np.ndarray | None,
        mode: Mode,
    ) -> dict[int, float]:
        if mode == Mode.DENSE:
            return dense
        if mode == Mode.LEXICAL:
            return lexical
        union = list(dense.keys() | lexical.keys())
        if not union:
            return {}
        missing_dense = [c for c in union if c not in dense]
        if missing_dense:
            dense = {**dense, **self._dense_scores(query, missing_dense)}
        missing = [c for c in union if c not in lexical]
        lexical = {**self.lexical.scores_of(bm25, missing), **lexical}
        top_lex = max(lexical.values()) or 1.0
        return {
            c: DENSE_WEIGHT * dense.get(c, 0.0) + (1 - DENSE_WEIGHT) * lexical[c] / top_lex
            for c in union
        }

    def _dense_scores(self, query: Query, chunk_ids: list[int]) -> dict[int, float]:
        return self.snapshot.vectors.scores(query.vector, chunk_ids)


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
