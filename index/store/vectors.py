"""The dense candidate index, chosen by collection size, and exact re-scoring.

- `flat`: exact inner product (cosine on normalised vectors) over float16 vectors, up to
  `APPROXIMATE_FROM` chunks.
- `ivf-pq`: from `APPROXIMATE_FROM` on, an inverted file (`ivf_lists` cells, ~sqrt(n)) of
  4-bit product-quantized codes scanned with SIMD (48 bytes a vector at 384 dimensions). A
  question scans `NPROBE_SHARE` of the cells and takes `RERANK` candidates, whose cosines are
  then recomputed exactly from the float16 copy kept in the segments (read by position: only
  those rows). Chunks are added and removed in place, never rebuilt for an update, and a
  million chunks take ~56 MB of memory, against ~650 MB for the HNSW graph over 8-bit vectors
  that format 1 used (`hnsw-sq8`: still read, never written; see format1.py). Measured at 1M
  chunks, the choice is in bench/README.md.

Both map FAISS ids to chunk ids; `DenseIndex` is what retrieval searches.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from index.store.files import write_atomic

log = logging.getLogger(__name__)

FLAT = "flat"
IVF_PQ = "ivf-pq"
HNSW_SQ8 = "hnsw-sq8"  # format 1 only: read, never written
APPROXIMATE_FROM = 200_000  # chunks; below this exact search takes < ~30 ms a query
ADD_SLICE = 65_536  # vectors converted to float32 and added at a time
DIMS_PER_CODE = 4  # IVF codes: one 4-bit code per 4 dimensions (48 bytes at 384), SIMD-scanned
NPROBE_SHARE = 3 / 8  # share of the IVF cells searched per question
RERANK = 400  # IVF candidates re-scored exactly from the float16 copy
MIN_PQ_TRAIN = 256  # fewer training vectors than this: 8-bit scalar codes instead of PQ
TRAIN_SAMPLE = 65_536  # vectors the IVF cells and codebooks are trained on
RETRAIN_GROWTH = 4  # retrain once the collection is this many times the training size
HNSW_EF_SEARCH = 1024  # format-1 HNSW graphs: candidates explored per question


class ExactVectors(Protocol):
    """The float16 copy of a generation's embeddings, addressed by row."""

    chunk_ids: np.ndarray

    def find(self, chunk_ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, rows: np.ndarray) -> np.ndarray: ...


def choose_kind(n_chunks: int, approximate_from: int = APPROXIMATE_FROM) -> str:
    """The index type for a collection of `n_chunks`."""
    return IVF_PQ if n_chunks >= approximate_from else FLAT


def ivf_lists(n_chunks: int) -> int:
    """IVF cells for a collection: ~sqrt(n), a power of two between 256 and 16,384."""
    wanted = math.sqrt(max(n_chunks, 1))
    return int(min(16_384, max(256, 2 ** round(math.log2(wanted)))))


def new_index(
    kind: str, dim: int, sample: np.ndarray | None = None, n_chunks: int = 0
) -> faiss.Index:
    """An empty index of `kind`; an IVF index is trained on `sample` (float32 rows)."""
    if kind == FLAT:
        inner = faiss.IndexScalarQuantizer(
            dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        return faiss.IndexIDMap2(inner)
    if kind != IVF_PQ:
        raise ValueError(f"unknown index type {kind!r}")
    assert sample is not None
    lists = max(1, min(ivf_lists(n_chunks), len(sample) // 39))
    codes = ivf_codes(dim) if len(sample) >= MIN_PQ_TRAIN else "SQ8"  # k-means needs points
    factory = f"IVF{lists},{codes}"
    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    faiss.extract_index_ivf(index).cp.niter = 10
    log.info("training the IVF index %s on %d vectors", factory, len(sample))
    index.train(_float32(sample))
    return index


def ivf_codes(dim: int) -> str:
    """The faiss codes of an IVF index over `dim` dimensions: 4-bit product quantization with
    fast scan (an even number of sub-vectors dividing `dim`), else 8-bit scalar quantization."""
    for m in range(dim // DIMS_PER_CODE, 1, -1):
        if dim % m == 0 and m % 2 == 0:
            return f"PQ{m}x4fs"
    return "SQ8"


def add_vectors(index: faiss.Index, ids: np.ndarray, vectors: np.ndarray) -> None:
    """Add `vectors` (float16 or float32) under chunk `ids`, a slice at a time."""
    for start in range(0, len(ids), ADD_SLICE):
        stop = start + ADD_SLICE
        index.add_with_ids(_float32(vectors[start:stop]), np.asarray(ids[start:stop], np.int64))


def remove_ids(index: faiss.Index, ids: np.ndarray) -> int:
    """Remove chunk `ids` from the index; return how many were there."""
    if not len(ids):
        return 0
    return int(index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))))


def write_index(index: faiss.Index, path: Path) -> None:
    """Save an index (through Python's file writes, so a full disk raises OSError)."""
    write_atomic(path, faiss.serialize_index(index).tobytes())


def read_index(path: Path, kind: str) -> faiss.Index:
    if kind == FLAT:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    return faiss.read_index(str(path))


class DenseIndex:
    """One generation's vectors, searched one query at a time from any thread."""

    def __init__(self, kind: str, index: faiss.Index, exact: ExactVectors) -> None:
        self.kind = kind
        self.index = index
        self.exact = exact
        if kind == HNSW_SQ8:
            self.graph = faiss.downcast_index(index.index)  # labels are rows of `exact`
        if kind == IVF_PQ:
            self.nprobe = max(1, round(faiss.extract_index_ivf(index).nlist * NPROBE_SHARE))

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
        selector = None if allowed is None else faiss.IDSelectorBatch(np.asarray(allowed, np.int64))
        if self.kind == FLAT:
            params = None if selector is None else faiss.SearchParameters(sel=selector)
            scores, ids = self.index.search(q, k, params=params)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        if self.kind == HNSW_SQ8:
            params = faiss.SearchParametersHNSW()
            params.efSearch = max(HNSW_EF_SEARCH, k)
            if allowed is not None:
                params.sel = faiss.IDSelectorBatch(self.exact.find(allowed)[0])
            _, rows = self.graph.search(q, k, params=params)
            rows = rows[0][rows[0] >= 0]
            candidates = self.exact.chunk_ids[rows]
        else:
            params = faiss.SearchParametersIVF(nprobe=self.nprobe)
            if selector is not None:
                params.sel = selector
            _, ids = self.index.search(q, max(RERANK, k), params=params)
            candidates = ids[0][ids[0] >= 0]
        return self._rescored(q[0], candidates)[:k]

    def _rescored(self, query: np.ndarray, chunk_ids: np.ndarray) -> list[tuple[int, float]]:
        rows, found = self.exact.find(chunk_ids)
        ids = np.asarray(chunk_ids)[found]
        scores = self.exact.vectors(rows).astype(np.float32) @ query
        best = np.argsort(-scores, kind="stable")
        return [(int(ids[j]), float(scores[j])) for j in best]

    def scores(self, query: np.ndarray, chunk_ids: list[int]) -> dict[int, float]:
        """Cosine of `query` with each given chunk that is in the index (from the float16 copy)."""
        if not chunk_ids:
            return {}
        q = np.asarray(query, dtype=np.float32)
        return dict(self._rescored(q, np.asarray(chunk_ids, dtype=np.int64)))


def _float32(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32)
