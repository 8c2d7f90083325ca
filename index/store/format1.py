"""Format 1 generations (citebot before segments): still answered from, and upgraded from.

A format-1 generation folder holds everything itself: `store.sqlite` (articles keyed by id,
chunks with their article id), `vectors.faiss` (flat or `hnsw-sq8`), `bm25/` (a bm25s index
and its chunk ids), `embeddings.f16.npy` + `embedding_ids.npy` (the float16 copy). Nothing
here writes that format. The next reindex of such a data directory writes a format-2
generation, reusing the float16 embeddings of every chunk whose embedded text is unchanged
(`Format1Source`), and questions are answered from the format-1 generation until then.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.store.database import ArticleRecord, ChunkRecord
from index.store.embedding_cache import content_key
from index.store.ids import RowLookup
from index.store.segments import KEY_BYTES
from index.store.vectors import FLAT, DenseIndex, read_index

log = logging.getLogger(__name__)

SQLITE_FILE = "store.sqlite"
FAISS_FILE = "vectors.faiss"
BM25_DIR = "bm25"
BM25_IDS = "chunk_ids.npy"
EMBEDDINGS_FILE = "embeddings.f16.npy"
IDS_FILE = "embedding_ids.npy"
SQL_ROWS = 10_000  # chunk rows read at a time while computing content keys


class Format1Rows:
    """The float16 copy of a format-1 generation (memory-mapped, as format 1 read it)."""

    def __init__(self, gen: Path) -> None:
        self.chunk_ids = np.load(gen / IDS_FILE)
        self.exact = np.load(gen / EMBEDDINGS_FILE, mmap_mode="r")
        self._lookup = RowLookup(self.chunk_ids)

    def find(self, chunk_ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        return self._lookup.find(chunk_ids)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows)
        out = np.empty((len(rows), self.exact.shape[1]), dtype=np.float16)
        out[order] = self.exact[rows[order]]
        return out


def open_dense(gen: Path, kind: str) -> DenseIndex:
    return DenseIndex(kind or FLAT, read_index(gen / FAISS_FILE, kind or FLAT), Format1Rows(gen))


class Format1Lexical:
    """A format-1 bm25s index, with the methods of `lexical.LexicalIndex`."""

    def __init__(self, gen: Path) -> None:
        folder = gen / BM25_DIR
        self.model = bm25s.BM25.load(str(folder), mmap=True)
        self.chunk_ids = np.load(folder / BM25_IDS)
        self._rows = RowLookup(self.chunk_ids)
        self._df = np.diff(self.model.scores["indptr"])
        self._n = max(1, int(self.model.scores["num_docs"]))

    def idf(self, term: str) -> float:
        tid = self.model.vocab_dict.get(term)
        if tid is None:
            return 0.0
        df = int(self._df[tid])
        return float(np.log(1 + (self._n - df + 0.5) / (df + 0.5)))

    def scores(self, query_terms: list[str]) -> np.ndarray | None:
        known = [t for t in query_terms if t in self.model.vocab_dict]
        return self.model.get_scores(known) if known else None

    def top(
        self, scores: np.ndarray | None, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
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
        return self.top(self.scores(query_terms), k, allowed)

    def scores_of(self, scores: np.ndarray | None, chunk_ids: list[int]) -> dict[int, float]:
        if scores is None or not chunk_ids:
            return dict.fromkeys(chunk_ids, 0.0)
        rows, found = self._rows.find(chunk_ids)
        values = np.zeros(len(chunk_ids))
        values[found] = scores[rows]
        return dict(zip(chunk_ids, values.tolist(), strict=True))


class Format1Reader:
    """The SQL reads of a format-1 generation (its own immutable SQLite file)."""

    def __init__(self, gen: Path) -> None:
        self._uri = f"file:{gen / SQLITE_FILE}?mode=ro&immutable=1"
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"""SELECT c.id, c.article_id, c.start, c."end", c.text,
                       a.title, a.url, a.source, a.published
                FROM chunks c JOIN articles a ON a.id = c.article_id
                WHERE c.id IN ({marks})""",
            [int(i) for i in ids],
        ).fetchall()
        return {row[0]: ChunkRecord(*row) for row in rows}

    def articles(self) -> list[ArticleRecord]:
        rows = self.db.execute(
            """SELECT a.id, a.title, a.url, a.source, a.author, a.published, a.path,
                      a.content_hash, a.indexed_at, COUNT(c.id)
               FROM articles a LEFT JOIN chunks c ON c.article_id = a.id
               GROUP BY a.id
               ORDER BY a.published IS NULL, a.published DESC, a.indexed_at DESC, a.id"""
        ).fetchall()
        return [ArticleRecord(*row) for row in rows]

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def chunk_ids_where(
        self,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        as_of: str | None = None,
    ) -> np.ndarray:
        clauses, params = [], []
        if source:
            clauses.append("lower(a.source) = lower(?)")
            params.append(source.strip())
        if since:
            clauses.append("a.published IS NOT NULL AND substr(a.published, 1, 10) >= ?")
            params.append(since)
        if until:
            clauses.append("a.published IS NOT NULL AND substr(a.published, 1, 10) <= ?")
            params.append(until)
        if as_of:
            clauses.append("(a.published IS NULL OR substr(a.published, 1, 10) <= ?)")
            params.append(as_of)
        where = " AND ".join(clauses) or "1"
        rows = self.db.execute(
            f"SELECT c.id FROM chunks c JOIN articles a ON a.id = c.article_id WHERE {where}",
            params,
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


class Format1Source:
    """A format-1 generation's embeddings as a source to reuse while upgrading.

    Keys are recomputed from the stored title and chunk text exactly as the indexer builds
    them, so every chunk whose embedded text is unchanged is found.
    """

    def __init__(self, gen: Path, model_id: str, embedded_text: Callable[[str, str], str]) -> None:
        self.rows = Format1Rows(gen)
        self._keys = np.zeros(len(self.rows.chunk_ids), dtype=f"S{KEY_BYTES}")
        reader = Format1Reader(gen)
        cursor = reader.db.execute(
            "SELECT c.id, a.title, c.text FROM chunks c JOIN articles a ON a.id = c.article_id"
        )
        while batch := cursor.fetchmany(SQL_ROWS):
            rows, found = self.rows.find([r[0] for r in batch])
            keys = [
                content_key(model_id, embedded_text(title, text))
                for (_, title, text), ok in zip(batch, found, strict=True)
                if ok
            ]
            self._keys[rows] = np.array(keys, dtype=f"S{KEY_BYTES}")
        reader.db.close()
        log.info("upgrading from format 1: %d stored embeddings can be reused", len(self._keys))

    def keys(self) -> np.ndarray:
        return self._keys

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.rows.vectors(rows)
