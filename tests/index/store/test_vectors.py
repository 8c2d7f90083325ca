"""Each dense index type returns what brute force returns (exactly, or nearly for IVF-PQ),
including after chunks are tombstoned, and a reindex updates the index in place."""

from __future__ import annotations

import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.store import dense_writer
from index.store.generations import open_snapshot
from index.store.indexer import update_index
from index.store.segments import RowSpace, SegmentWriter
from index.store.vectors import (
    FLAT,
    IVF_PQ,
    DenseIndex,
    add_vectors,
    choose_kind,
    new_index,
    remove_ids,
)
from tests.conftest import FIXTURES, FakeEmbedder


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    """Normalised vectors in clusters, as text embeddings are (topics), not uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, n // 100), dim))
    x = centres[rng.integers(0, len(centres), n)] + 0.6 * rng.standard_normal((n, dim))
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return ids[np.argsort(-(queries @ vectors.T), axis=1)[:, :k]]


def write_generation(folder: Path, kind: str, ids: np.ndarray, vectors: np.ndarray) -> DenseIndex:
    """Vectors stored as a reindex stores them (a segment + an index), opened as the engine does."""
    writer = SegmentWriter(folder / "seg", vectors.shape[1])
    empty = (np.zeros(0, np.uint64), np.zeros(0, np.int64))
    keys = np.zeros(len(ids), dtype="S16")
    writer.append(ids, keys, vectors.astype(np.float16), [empty] * len(ids))
    space = RowSpace([writer.finish()], [None])
    index = new_index(kind, vectors.shape[1], vectors.astype(np.float32), len(ids))
    add_vectors(index, ids, vectors.astype(np.float16))
    return DenseIndex(kind, index, space)


@pytest.mark.parametrize(("kind", "min_recall"), [(FLAT, 1.0), (IVF_PQ, 0.95)])
def test_index_types_match_brute_force(kind: str, min_recall: float, tmp_path: Path) -> None:
    vectors = unit_vectors(4000, 48, seed=1)
    ids = np.arange(10_000, 18_000, 2, dtype=np.int64)
    queries = unit_vectors(50, 48, seed=2)
    index = write_generation(tmp_path, kind, ids, vectors)
    exact = vectors.astype(np.float16).astype(np.float32)
    want = brute_force(exact, ids, queries, 10)
    got = [index.search(q, 10) for q in queries]
    recall = np.mean([len({i for i, _ in g} & set(w)) / 10 for g, w in zip(got, want, strict=True)])
    assert recall >= min_recall
    for q, hits in zip(queries, got, strict=True):
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)
        for cid, score in hits:  # exact cosines (of the stored float16 vectors), not PQ ones
            assert score == pytest.approx(float(exact[(cid - 10_000) // 2] @ q), abs=1e-5)


@pytest.mark.parametrize("kind", [FLAT, IVF_PQ])
def test_filtered_search_and_scores_by_chunk_id(kind: str, tmp_path: Path) -> None:
    vectors = unit_vectors(2000, 32, seed=3)
    ids = np.arange(5, 4005, 2, dtype=np.int64)
    index = write_generation(tmp_path, kind, ids, vectors)
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


@pytest.mark.parametrize("kind", [FLAT, IVF_PQ])
def test_removed_chunks_are_never_returned(kind: str, tmp_path: Path) -> None:
    vectors = unit_vectors(3000, 32, seed=5)
    ids = np.arange(1, 3001, dtype=np.int64)
    index = write_generation(tmp_path, kind, ids, vectors)
    gone = ids[::3]
    assert remove_ids(index.index, gone) == len(gone)
    kept = ~np.isin(ids, gone)
    exact = vectors.astype(np.float16).astype(np.float32)
    queries = unit_vectors(30, 32, seed=6)
    want = brute_force(exact[kept], ids[kept], queries, 10)
    got = [[cid for cid, _ in index.search(q, 10)] for q in queries]
    assert not set(np.concatenate(got).tolist()) & set(gone.tolist())
    recall = np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want, strict=True)])
    assert recall >= (1.0 if kind == FLAT else 0.95)


def test_kind_is_chosen_by_size() -> None:
    assert choose_kind(10, approximate_from=100) == FLAT
    assert choose_kind(100, approximate_from=100) == IVF_PQ


def stored_ids(snapshot: object) -> set[int]:
    return {r[0] for r in snapshot.db.execute("SELECT id FROM chunks")}  # type: ignore[attr-defined]


def indexed_ids(snapshot: object) -> set[int]:
    index = snapshot.vectors.index  # type: ignore[attr-defined]
    if hasattr(index, "id_map"):
        return {int(i) for i in faiss.vector_to_array(index.id_map)}
    invlists = faiss.extract_index_ivf(index).invlists
    found: set[int] = set()
    for lst in range(invlists.nlist):
        size = invlists.list_size(lst)
        if size:
            ptr = invlists.get_ids(lst)
            found.update(faiss.rev_swig_ptr(ptr, size).tolist())
    return found


def test_reindex_builds_and_updates_an_approximate_index(tmp_path: Path) -> None:
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    update_index(articles, data, FakeEmbedder(), approximate_from=1)
    snapshot = open_snapshot(data)
    assert snapshot.manifest["index_type"] == IVF_PQ
    (articles / "library-robots.md").unlink()
    update_index(articles, data, FakeEmbedder(), approximate_from=1)
    snapshot = open_snapshot(data)
    assert indexed_ids(snapshot) == stored_ids(snapshot)
    query = FakeEmbedder().embed(["harbour bridge toll cars euro"])[0]
    top = snapshot.vectors.search(query, 1)[0][0]
    assert snapshot.chunks([top])[top].article_id == "harbour-bridge"


def test_adding_and_removing_articles_updates_the_index_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    (articles / "library-robots.md").rename(tmp_path / "library-robots.md")
    embedder = FakeEmbedder()
    update_index(articles, data, embedder, approximate_from=1)
    built: list[str] = []

    def counting_new_index(kind: str, *args: object, **kwargs: object) -> faiss.Index:
        built.append(kind)
        return new_index(kind, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dense_writer, "new_index", counting_new_index)
    (tmp_path / "library-robots.md").rename(articles / "library-robots.md")
    update_index(articles, data, embedder, approximate_from=1)
    snapshot = open_snapshot(data)
    assert snapshot.manifest["index_type"] == IVF_PQ
    rows = snapshot.db.execute("SELECT id FROM chunks WHERE article_id = 'library-robots'")
    for (chunk_id,) in rows.fetchall():  # each added chunk finds itself, exactly
        vector = snapshot.rows.vectors(snapshot.rows.find([chunk_id])[0])[0]
        top_id, score = snapshot.vectors.search(np.asarray(vector, dtype=np.float32), 1)[0]
        assert (top_id, round(score, 2)) == (chunk_id, 1.0)
    assert indexed_ids(snapshot) == stored_ids(snapshot)

    (articles / "comet-sighting.txt").unlink()
    update_index(articles, data, embedder, approximate_from=1)
    assert built == []  # an addition and a removal: no index was built, both were in place
    snapshot = open_snapshot(data)
    assert indexed_ids(snapshot) == stored_ids(snapshot)
