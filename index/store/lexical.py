"""Lexical retrieval: one tokenizer for BM25 and for scoring sentences, and the BM25 index."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from index.store.ids import RowLookup

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import, which would print through any root handler.
logging.getLogger("bm25s").setLevel(logging.WARNING)

BM25_DIR = "bm25"
BM25_IDS = "chunk_ids.npy"

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | frozenset(
    "did does do what which who whom whose when where why how was were is are".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


_STEMS: dict[str, str] = {}  # word -> stem; a dict hit is faster than the stemmer
_STEMS_MAX = 1_000_000


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed content words of `text` (stop words dropped).

    Each distinct word is stemmed once per process: this made tokenizing chunks for BM25, most
    of a reindex's BM25 build, 2.3x faster (30,000 chunks: 6.8 s -> 3.0 s).
    """
    stems, stem = _STEMS, _stemmer().stemWord
    if len(stems) > _STEMS_MAX:
        stems.clear()
    out = []
    for word in _WORD.findall(text.casefold()):
        if word in _STOPWORDS:
            continue
        found = stems.get(word)
        if found is None:
            found = stems[word] = stem(word)
        out.append(found)
    return out


class LexicalIndex:
    """BM25 over chunks (title + text); row i of the index is chunk `chunk_ids[i]`."""

    def __init__(self, model: bm25s.BM25, chunk_ids: np.ndarray) -> None:
        self.model = model
        self.chunk_ids = chunk_ids
        self._rows = RowLookup(chunk_ids)
        indptr = model.scores["indptr"]
        self._df = np.diff(indptr)  # documents per vocabulary term
        self._n = max(1, int(model.scores["num_docs"]))

    @classmethod
    def build(cls, chunk_ids: Sequence[int], texts: Sequence[str]) -> LexicalIndex:
        """Index `texts` (one per chunk id)."""
        model = bm25s.BM25()
        corpus = [terms(t) for t in texts]
        # bm25s cannot index an empty corpus or empty documents' vocabulary; pad with a marker.
        model.index([doc or ["\x00"] for doc in corpus] or [["\x00"]], show_progress=False)
        return cls(model, np.asarray(list(chunk_ids) or [-1], dtype=np.int64))

    def save(self, gen: Path) -> None:
        folder = gen / BM25_DIR
        self.model.save(str(folder))
        np.save(folder / BM25_IDS, self.chunk_ids)

    @classmethod
    def load(cls, gen: Path) -> LexicalIndex:
        folder = gen / BM25_DIR
        model = bm25s.BM25.load(str(folder), mmap=True)
        return cls(model, np.load(folder / BM25_IDS))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (0 for unknown terms)."""
        tid = self.model.vocab_dict.get(term)
        if tid is None:
            return 0.0
        df = int(self._df[tid])
        return float(np.log(1 + (self._n - df + 0.5) / (df + 0.5)))

    def scores(self, query_terms: list[str]) -> np.ndarray | None:
        """BM25 score of every chunk row for the query, or None if no term is known."""
        known = [t for t in query_terms if t in self.model.vocab_dict]
        if not known:
            return None
        return self.model.get_scores(known)

    def top(
        self, scores: np.ndarray | None, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The `k` best (chunk id, score) pairs, restricted to `allowed` chunk ids if given."""
        if scores is None or k <= 0:
            return []
        if allowed is not None:
            keep = np.zeros(len(scores), dtype=bool)
            keep[self._rows.find(allowed)[0]] = True
            scores = np.where(keep, scores, 0.0)
        k = min(k, len(scores))
        rows = np.argpartition(-scores, k - 1)[:k]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return [
            (int(self.chunk_ids[r]), float(scores[r]))
            for r in rows
            if scores[r] > 0 and self.chunk_ids[r] >= 0
        ]

    def search(
        self, query_terms: list[str], k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top `k` chunk ids by BM25, restricted to `allowed` chunk ids when given."""
        return self.top(self.scores(query_terms), k, allowed)

    def scores_of(self, scores: np.ndarray | None, chunk_ids: list[int]) -> dict[int, float]:
        """Given chunks' scores in a `scores()` array (0 for chunks not in the index)."""
        if scores is None or not chunk_ids:
            return dict.fromkeys(chunk_ids, 0.0)
        rows, found = self._rows.find(chunk_ids)
        values = np.zeros(len(chunk_ids))
        values[found] = scores[rows]
        return dict(zip(chunk_ids, values.tolist(), strict=True))
