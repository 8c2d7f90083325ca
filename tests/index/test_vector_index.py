"""Each FAISS index type returns what brute force returns (exactly, or nearly for HNSW)."""

from __future__ import annotations

import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.indexer import update_index
from index.store import open_snapshot
from index.vector_index import FLAT, HNSW_SQ8, build_index, choose_kind, read_index
from tests.conftest import FIXTURES, FakeEmbedder


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1)[:, :k]]


@pytest.mark.parametrize(("kind", "min_recall"), [(FLAT, 1.0), (HNSW_SQ8, 0.95)])
def test_index_types_match_brute_force(kind: str, min_recall: float, tmp_path: Path) -> None:
    vectors = unit_vectors(4000, 48, seed=1)
    ids = np.arange(10_000, 14_000, dtype=np.int64)
    queries = unit_vectors(50, 48, seed=2)
    faiss.write_index(build_index(kind, ids, vectors.astype(np.float16)), str(tmp_path / "ix"))
    index = read_index(tmp_path / "ix", kind)
    _, got = index.search(queries, 10)
    want = brute_force(vectors.astype(np.float16).astype(np.float32), ids, queries, 10)
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want, strict=True)])
    assert recall >= min_recall


def test_kind_is_chosen_by_size() -> None:
    assert choose_kind(10, approximate_from=100) == FLAT
    assert choose_kind(100, approximate_from=100) == HNSW_SQ8


def test_reindex_builds_and_updates_an_approximate_index(tmp_path: Path) -> None:
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    update_index(articles, data, FakeEmbedder(), approximate_from=1)
    snapshot = open_snapshot(data)
    assert snapshot.manifest["index_type"] == HNSW_SQ8
    (articles / "library-robots.md").unlink()
    update_index(articles, data, FakeEmbedder(), approximate_from=1)
    snapshot = open_snapshot(data)
    stored = {r[0] for r in snapshot.db.execute("SELECT id FROM chunks")}
    assert {int(i) for i in faiss.vector_to_array(snapshot.vectors.id_map)} == stored
    query = FakeEmbedder().embed(["harbour bridge toll cars euro"])[0]
    top = snapshot.search(query, 1)[0][0]
    assert snapshot.chunks([top])[top].article_id == "harbour-bridge"
