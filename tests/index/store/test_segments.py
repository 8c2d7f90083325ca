"""Segments: BM25 over several segments with tombstones equals BM25 over the live chunks
recomputed from scratch (bm25s), before and after merging; the merge policy."""

from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np
import pytest

from index.store import segments as segments_module
from index.store.lexical import LexicalIndex, term_counts, terms
from index.store.segments import (
    DEAD_SHARE_TO_MERGE,
    MERGE_FACTOR,
    SEGMENT_ROWS,
    RowSpace,
    Segment,
    SegmentWriter,
    merge_segments,
    plan_merges,
)

WORDS = (
    "harbour bridge ferry comet astronomer wheat harvest drought robots library council "
    "election budget river flood school teacher hospital nurse train station airport storm"
).split()
QUERIES = ["harbour ferry", "comet astronomer storm", "wheat wheat drought", "robots library",
           "election budget council river", "zeppelin"]  # fmt: skip


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(3, 30))) for _ in range(n)]


def write_segment(folder: Path, ids: list[int], texts: list[str]) -> Segment:
    writer = SegmentWriter(folder, dim=4)
    vectors = np.random.default_rng(len(ids)).standard_normal((len(ids), 4)).astype(np.float16)
    keys = np.array([f"k{i}".encode() for i in ids], dtype="S16")
    half = len(ids) // 2  # appended in two batches, as a reindex does
    for part in (slice(0, half), slice(half, None)):
        writer.append(np.asarray(ids[part], dtype=np.int64), keys[part], vectors[part],
                      [term_counts(t) for t in texts[part]])  # fmt: skip
    return writer.finish()


def reference_scores(texts: list[str], query: str) -> np.ndarray:
    """bm25s, the library format 1 used, over exactly the given (live) texts."""
    model = bm25s.BM25()
    model.index([terms(t) or ["\x00"] for t in texts], show_progress=False)
    known = [t for t in terms(query) if t in model.vocab_dict]
    return model.get_scores(known) if known else np.zeros(len(texts))


@pytest.fixture
def three_segments(tmp_path: Path) -> tuple[list[Segment], list[np.ndarray], dict[int, str]]:
    texts = corpus(900, seed=1)
    ids = list(range(1, 901))
    segs = [write_segment(tmp_path / f"s{i}", ids[i * 300 : (i + 1) * 300],
                          texts[i * 300 : (i + 1) * 300]) for i in range(3)]  # fmt: skip
    rng = np.random.default_rng(7)
    dead = [rng.random(300) < share for share in (0.1, 0.4, 0.0)]
    return segs, dead, dict(zip(ids, texts, strict=True))


def live_texts(segs: list[Segment], dead: list[np.ndarray], text_of: dict[int, str]) -> list[int]:
    return [int(c) for s, d in zip(segs, dead, strict=True) for c in s.chunk_ids[~d]]


def test_scores_with_tombstones_equal_bm25_over_live_chunks(three_segments: tuple) -> None:
    segs, dead, text_of = three_segments
    index = LexicalIndex(RowSpace(segs, dead))
    live = live_texts(segs, dead, text_of)
    for query in QUERIES:
        want = reference_scores([text_of[c] for c in live], query)
        got = index.scores_of(index.scores(terms(query)), live)
        np.testing.assert_allclose([got[c] for c in live], want, rtol=1e-5, atol=1e-6)
        dead_ids = set(text_of) - set(live)
        assert not {c for c, _ in index.search(terms(query), 50)} & dead_ids
    assert index.scores(terms("zeppelin")) is None


def test_merge_keeps_live_rows_and_their_scores(
    three_segments: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segments_module, "MERGE_BLOCK_POSTINGS", 50)  # many blocks
    segs, dead, text_of = three_segments
    before = LexicalIndex(RowSpace(segs, dead))
    merged = merge_segments(list(zip(segs, dead, strict=True)), tmp_path / "merged")
    after = LexicalIndex(RowSpace([merged], [None]))
    live = live_texts(segs, dead, text_of)
    assert merged.chunk_ids.tolist() == live
    assert merged.rows == len(live) and merged.keys().tolist() == [f"k{c}".encode() for c in live]
    old_vectors = before.space.vectors(before.space.find(live)[0])
    assert np.array_equal(after.space.vectors(np.arange(len(live))), old_vectors)
    for query in QUERIES:
        a = before.scores_of(before.scores(terms(query)), live)
        b = after.scores_of(after.scores(terms(query)), live)
        np.testing.assert_allclose([a[c] for c in live], [b[c] for c in live], rtol=1e-6)
        for term in terms(query):
            assert before.idf(term) == pytest.approx(after.idf(term))


def test_postings_of_a_merged_segment_equal_a_fresh_one(
    three_segments: tuple, tmp_path: Path
) -> None:
    segs, dead, text_of = three_segments
    merged = merge_segments(list(zip(segs, dead, strict=True)), tmp_path / "merged")
    live = live_texts(segs, dead, text_of)
    fresh = write_segment(tmp_path / "fresh", live, [text_of[c] for c in live])
    assert np.array_equal(merged.terms, fresh.terms)
    assert np.array_equal(merged.indptr.all(), fresh.indptr.all())
    assert np.array_equal(merged.postings.all(), fresh.postings.all())
    assert np.array_equal(merged.tfs.all(), fresh.tfs.all())
    assert np.array_equal(merged.lengths, fresh.lengths)


def test_merge_policy() -> None:
    small = SEGMENT_ROWS // 100
    assert plan_merges([small] * (MERGE_FACTOR - 1), [0] * (MERGE_FACTOR - 1)) == []
    assert plan_merges([small] * MERGE_FACTOR, [0] * MERGE_FACTOR) == [list(range(MERGE_FACTOR))]
    # A large segment is not merged with small ones (each row is rewritten O(log n) times).
    rows = [SEGMENT_ROWS * MERGE_FACTOR * 2] + [small] * MERGE_FACTOR
    assert plan_merges(rows, [0] * len(rows)) == [list(range(1, MERGE_FACTOR + 1))]
    # Too many dead rows: the segment is rewritten alone.
    dead = int(rows[0] * DEAD_SHARE_TO_MERGE)
    assert plan_merges(rows[:1], [dead]) == [[0]]
    assert plan_merges(rows[:1], [dead - 1]) == []
