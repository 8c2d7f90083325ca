"""FAISS index types, chosen by collection size.

- `flat` (exact inner product, i.e. cosine on normalised vectors, over float16 vectors) up to
  `APPROXIMATE_FROM` chunks. (Generations written before float16 hold a float32 `IndexFlatIP`,
  which is memory-mapped when read; both are searched the same way.)
- `hnsw-sq8` beyond: an HNSW graph (M=32) over 8-bit scalar-quantized vectors. It proposes
  candidates; their scores are then recomputed exactly from the float16 copy of the embeddings
  kept beside it (`embeddings.f16.npy`, row i = chunk `ids[i]`, memory-mapped, so only the rows
  read are paged in). It cannot remove vectors, so every reindex rebuilds it from that copy.

Both are wrapped in an `IndexIDMap2`, so FAISS ids are chunk ids; `DenseIndex` is what the rest
of the engine searches.
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

from index.store.ids import RowLookup

log = logging.getLogger(__name__)

FLAT = "flat"
HNSW_SQ8 = "hnsw-sq8"
APPROXIMATE_FROM = 200_000  # chunks; below this exact search takes < ~30 ms a query
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 1024
EMBEDDINGS_FILE = "embeddings.f16.npy"
IDS_FILE = "embedding_ids.npy"


def choose_kind(n_chunks: int, approximate_from: int = APPROXIMATE_FROM) -> str:
    """The index type for a collection of `n_chunks`."""
    return HNSW_SQ8 if n_chunks >= approximate_from else FLAT


def build_index(kind: str, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
    """A new index of `kind` holding `vectors` (float32 or float16) under chunk `ids`."""
    dim = vectors.shape[1]
    if kind == FLAT:
        # Exact inner product over float16 vectors, the precision the embeddings are kept in:
        # half the memory of float32 and faster (measured at 100k chunks, one thread: 10 ms
        # against 14 ms a query, which is bound by memory bandwidth).
        inner = faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        index = faiss.IndexIDMap2(inner)
    elif kind == HNSW_SQ8:
        inner = faiss.IndexHNSWSQ(
            dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT
        )
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
        if len(vectors):
            inner.train(_float32(vectors[: min(len(vectors), 100_000)]))
        index = faiss.IndexIDMap2(inner)
    else:
        raise ValueError(f"unknown index type {kind!r}")
    add_vectors(index, ids, vectors)
    return index


def add_vectors(index: faiss.Index, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Add `vectors` under chunk `ids`, in slices (float32 copies of 64k rows at a time)."""
    for start in range(0, len(ids), 65_536):
        stop = start + 65_536
        index.add_with_ids(_float32(vectors[start:stop]), ids[start:stop].astype(np.int64))


class DenseIndex:
    """One generation's vectors, searched one query at a time from any thread."""

    def __init__(self, gen: Path, faiss_file: str, kind: str) -> None:
        self.kind = kind
        self.index = read_index(gen / faiss_file, kind)
        if kind != FLAT:
            self.graph = faiss.downcast_index(self.index.index)  # labels are rows
            self.ids = np.load(gen / IDS_FILE)
            self.exact = np.load(gen / EMBEDDINGS_FILE, mmap_mode="r")
            self.rows = RowLookup(self.ids)

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The `k` nearest chunks as (chunk id, cosine), best first; only `allowed` ids if given."""
        k = min(k, self.ntotal)
        if k <= 0:
            return []
        # One thread for one query: OpenMP threads spin-wait on a busy CPU (measured at 100k
        # chunks: 29 ms on one thread, 114 ms on two). The setting is per calling thread.
        faiss.omp_set_num_threads(1)
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if self.kind == FLAT:
            params = (
                None
                if allowed is None
                else faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            )
            scores, ids = self.index.search(q, k, params=params)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(HNSW_EF_SEARCH, k)
        if allowed is not None:
            selector = faiss.IDSelectorBatch(self.rows.find(allowed)[0])
            params.sel = selector
        _, rows = self.graph.search(q, k, params=params)
        rows = rows[0][rows[0] >= 0]
        scores = self._exact(q[0], rows)
        best = np.argsort(-scores, kind="stable")
        return [(int(self.ids[rows[j]]), float(scores[j])) for j in best]

    def scores(self, query: np.ndarray, chunk_ids: list[int]) -> dict[int, float]:
        """Cosine of `query` with each given chunk that is in the index."""
        if not chunk_ids:
            return {}
        if self.kind == FLAT:
            out = {}
            for cid in chunk_ids:
                try:
                    out[cid] = float(np.dot(self.index.reconstruct(cid), query))
                except RuntimeError:  # not in the index
                    continue
            return out
        rows, found = self.rows.find(chunk_ids)
        present = [c for c, f in zip(chunk_ids, found, strict=True) if f]
        return dict(zip(present, self._exact(query, rows).tolist(), strict=True))

    def _exact(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosines from the float16 copy (rows read in file order)."""
        order = np.argsort(rows)
        scores = np.empty(len(rows), dtype=np.float32)
        scores[order] = np.asarray(self.exact[rows[order]], dtype=np.float32) @ query
        return scores


def read_index(path: Path, kind: str) -> faiss.Index:
    """Open an index read-only; a flat one is memory-mapped rather than loaded."""
    if kind == FLAT:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    return faiss.read_index(str(path))


def _float32(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32)
