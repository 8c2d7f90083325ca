"""FAISS index types, chosen by collection size.

- `flat` (exact inner product, i.e. cosine on normalised vectors) up to `APPROXIMATE_FROM`
  chunks: exact, updated in place by remove/add, memory-mapped when read.
- `hnsw-sq8` beyond: an HNSW graph (M=32) over 8-bit scalar-quantized vectors, searched with
  efSearch=128. It cannot remove vectors, so every reindex rebuilds it from the float16 copy of
  the embeddings kept beside it (`embeddings.f16.npy`, row i = chunk `ids[i]`).

Both are wrapped in an `IndexIDMap2`, so FAISS ids are chunk ids.
"""

from __future__ import annotations

import logging
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

FLAT = "flat"
HNSW_SQ8 = "hnsw-sq8"
APPROXIMATE_FROM = 200_000  # chunks; below this exact search takes < ~30 ms a query
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
EMBEDDINGS_FILE = "embeddings.f16.npy"
IDS_FILE = "embedding_ids.npy"


def choose_kind(n_chunks: int, approximate_from: int = APPROXIMATE_FROM) -> str:
    """The index type for a collection of `n_chunks`."""
    return HNSW_SQ8 if n_chunks >= approximate_from else FLAT


def empty_flat(dim: int) -> faiss.Index:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def build_index(kind: str, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
    """A new index of `kind` holding `vectors` (float32 or float16) under chunk `ids`."""
    dim = vectors.shape[1]
    if kind == FLAT:
        index = empty_flat(dim)
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
    for start in range(0, len(ids), 65_536):
        stop = start + 65_536
        index.add_with_ids(_float32(vectors[start:stop]), ids[start:stop].astype(np.int64))
    return index


def read_index(path: Path, kind: str) -> faiss.Index:
    """Open an index read-only; a flat one is memory-mapped rather than loaded."""
    if kind == FLAT:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    index = faiss.read_index(str(path))
    faiss.downcast_index(index.index).hnsw.efSearch = HNSW_EF_SEARCH
    return index


def all_vectors(index: faiss.Index) -> tuple[np.ndarray, np.ndarray]:
    """Every (id, vector) of a flat `IndexIDMap2`, in storage order."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    vectors = (
        index.index.reconstruct_n(0, index.ntotal)
        if index.ntotal
        else np.zeros((0, index.d), np.float32)
    )
    return ids, vectors


def _float32(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32)
