"""Each FAISS index type returns what brute force returns (exactly, or nearly for HNSW)."""

from __future__ import annotations

import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.store import indexer
from index.store.generations import open_snapshot
from index.store.indexer import update_index
from index.store.vectors import (
    EMBEDDINGS_FILE,
    FLAT,
    HNSW_SQ8,
    IDS_FILE,
    DenseIndex,
    build_index,
    choose_kind,
)
from tests.conftest import FIXTURES, FakeEmbedder


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1)[:, :k]]


def write_generation(gen: Path, kind: str, ids: np.ndarray, vectors: np.ndarray) -> DenseIndex:
    """What a reindex writes for the vectors of one generation, opened as the engine does."""
    gen.mkdir()
    np.save(gen / IDS_FILE, ids)
    np.save(gen / EMBEDDINGS_FILE, vectors.astype(np.float16))
    faiss.write_index(build_index(kind, ids, vectors.astype(np.float16)), str(gen / "ix"))
    return DenseIndex(gen, "ix", kind)


@pytest.mark.parametrize(("kind", "min_recall"), [(FLAT, 1.0), (HNSW_SQ8, 0.95)])
def test_index_types_match_brute_force(kind: str, min_recall: float, tmp_path: Path) -> None:
    vectors = unit_vectors(4000, 48, seed=1)
    ids = np.arange(10_000, 18_000, 2, dtype=np.int64)
    queries = unit_vectors(50, 48, seed=2)
    index = write_generation(tmp_path / "gen", kind, ids, vectors)
    exact = vectors.astype(np.float16).astype(np.float32)
    want = brute_force(exact, ids, queries, 10)
    got = [index.search(q, 10) for q in queries]
    recall = np.mean([len({i for i, _ in g} & set(w)) / 10 for g, w in zip(got, want, strict=True)])
    assert recall >= min_recall
    for q, hits in zip(queries, got, strict=True):
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)
        for cid, score in hits:  # exact cosines (of the stored float16 vectors), not 8-bit ones
            assert score == pytest.approx(float(exact[(cid - 10_000) // 2] @ q), abs=1e-5)


@pytest.mark.parametrize("kind", [FLAT, HNSW_SQ8])
def test_filtered_search_and_scores_by_chunk_id(kind: str, tmp_path: Path) -> None:
    vectors = unit_vectors(2000, 32, seed=3)
    ids = np.arange(5, 4005, 2, dtype=np.int64)
    index = write_generation(tmp_path / "gen", kind, ids, vectors)
    query = unit_vectors(1, 32, seed=4)[0]
    allowed = ids[::7]
    hits = index.search(query, 10, allowed=allowed)
    assert len(hits) == 10 and {cid for cid, _ in hits} <= set(allowed.tolist())
    exact = vectors.astype(np.float16).astype(np.float32)
    best_allowed = allowed[np.argsort(-(exact[::7] @ query))[:10]]
    assert hits[0][0] == best_allowed[0]
    scores = index.scores(query, [int(ids[3]), 6, int(ids[1999])])  # 6 is not a chunk id
    assert set(scores) == {int(ids[3]), int(ids[1999])}
    assert scores[int(ids[3])] == pytest.approx(float(exact[3] @ query), abs=1e-3)


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
    assert {int(i) for i in faiss.vector_to_array(snapshot.vectors.index.id_map)} == stored
    query = FakeEmbedder().embed(["harbour bridge toll cars euro"])[0]
    top = snapshot.search(query, 1)[0][0]
    assert snapshot.chunks([top])[top].article_id == "harbour-bridge"


def test_adding_articles_extends_the_graph_and_removing_rebuilds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    (articles / "library-robots.md").rename(tmp_path / "library-robots.md")
    embedder = FakeEmbedder()
    update_index(articles, data, embedder, approximate_from=1)
    rebuilt: list[str] = []

    def counting_build(kind: str, ids: np.ndarray, vectors: np.ndarray) -> faiss.Index:
        rebuilt.append(kind)
        return build_index(kind, ids, vectors)

    monkeypatch.setattr(indexer, "build_index", counting_build)
    (tmp_path / "library-robots.md").rename(articles / "library-robots.md")
    update_index(articles, data, embedder, approximate_from=1)
    assert rebuilt == []  # only an addition: the old graph was extended
    snapshot = open_snapshot(data)
    assert snapshot.manifest["index_type"] == HNSW_SQ8
    rows = snapshot.db.execute(
        "SELECT c.id, a.title || char(10) || c.text FROM chunks c JOIN articles a"
        " ON a.id = c.article_id WHERE a.id = 'library-robots'"
    ).fetchall()
    for chunk_id, _ in rows:  # graph rows still line up with the float16 copy
        vector = snapshot.vectors.exact[snapshot.vectors.rows.find([chunk_id])[0][0]]
        top_id, score = snapshot.vectors.search(np.asarray(vector, dtype=np.float32), 1)[0]
        assert (top_id, round(score, 2)) == (chunk_id, 1.0)
    stored = {r[0] for r in snapshot.db.execute("SELECT id FROM chunks")}
    assert {int(i) for i in faiss.vector_to_array(snapshot.vectors.index.id_map)} == stored

    (articles / "comet-sighting.txt").unlink()
    update_index(articles, data, embedder, approximate_from=1)
    assert rebuilt == [HNSW_SQ8]  # a removal: rebuilt from the float16 copy
    snapshot = open_snapshot(data)
    stored = {r[0] for r in snapshot.db.execute("SELECT id FROM chunks")}
    assert {int(i) for i in faiss.vector_to_array(snapshot.vectors.index.id_map)} == stored
