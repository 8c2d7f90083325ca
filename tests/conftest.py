"""Shared fixtures: a fast fake embedder for unit tests, the real model for the rest."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
import tqdm

from index.embed.embedder import SentenceTransformerEmbedder
from tests.threads import join_all, started_since

FIXTURES = Path(__file__).parent / "fixtures"
DEMO_ARTICLES = Path(__file__).parents[1] / "demo" / "articles"

# The model's first use opens progress bars (loading weights; disabled ones too), and each
# starts tqdm's monitor thread, which never ends by itself: the test that first loads the model
# would fail `no_thread_outlives_its_test` after waiting a minute. No monitor, no thread.
tqdm.tqdm.monitor_interval = 0


class FakeEmbedder:
    """Hashed bag of words: deterministic, instant, and similar texts get similar vectors.

    Only for unit tests of the store and indexer; end-to-end tests use the real model.
    """

    model_id = "fake-bag-of-words"
    dim = 64
    max_tokens = 254

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]

    def truncate(self, text: str, max_tokens: int) -> str:
        words = text.split()
        return " ".join(words[:max_tokens])

    def embed(self, texts: Sequence[str], *, progress: object = None) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        if callable(progress):
            progress(len(texts), len(texts))
        return out / norms


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    return SentenceTransformerEmbedder()


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test() -> Iterator[None]:
    """Join every thread the test started; fail the test if one does not end (issue 13)."""
    before = threading.enumerate()
    yield
    running = join_all(started_since(before))
    assert not running, f"threads the test started are still running: {running}"
