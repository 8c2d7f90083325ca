"""The embedding journal: what survives a kill, and what it keeps in memory (issue 14)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

from index.store.embedding_cache import EmbeddingJournal, ReuseIndex, content_keys

MODEL, DIM = "test-model", 384


def batch(start: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    keys = content_keys(MODEL, [f"text {i}" for i in range(start, start + n)])
    vectors = np.random.default_rng(start).standard_normal((n, DIM)).astype(np.float16)
    return keys, vectors


def test_a_torn_last_record_is_cut_off_and_the_rest_reused(tmp_path: Path) -> None:
    path = tmp_path / "embeddings.journal"
    journal = EmbeddingJournal(path, MODEL, DIM)
    keys, vectors = batch(0, 20)
    journal.append(keys, vectors)
    journal.close()
    with open(path, "r+b") as fh:  # a kill in the middle of writing the last record
        fh.truncate(path.stat().st_size - 100)

    resumed = EmbeddingJournal(path, MODEL, DIM)
    assert resumed.records == 19
    found, reused = ReuseIndex([resumed]).lookup(keys)
    assert found.tolist() == [True] * 19 + [False]
    np.testing.assert_array_equal(reused, vectors[:19])
    resumed.close()
    assert EmbeddingJournal(path, "another-model", DIM).records == 0  # never mixed


def test_the_journal_keeps_only_keys_in_memory(tmp_path: Path) -> None:
    journal = EmbeddingJournal(tmp_path / "embeddings.journal", MODEL, DIM)
    n, slices = 8, 500  # 4,000 records of 788 bytes: 3.1 MB if records stayed in memory
    tracemalloc.start()
    try:
        for i in range(slices):
            journal.append(*batch(i * n, n))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    journal.close()
    assert journal.records == n * slices
    keys_bytes = n * slices * 16
    assert held < 4 * keys_bytes + 200_000, f"{held} bytes held for {keys_bytes} bytes of keys"
