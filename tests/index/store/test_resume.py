"""A reindex killed at a random point of its embedding, then run again, re-embeds (almost)
nothing it had already embedded: the embedding journal keeps every finished slice (issue 14).

Real model, real SIGKILL of a child process; the kill point is drawn from a seeded generator
(the same every run), and the child records the exact texts it had finished embedding.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from index.settings import EngineSettings
from index.store.indexer import update_index
from index.store.writer import EMBED_SLICE
from tests.conftest import DEMO_ARTICLES
from tests.index.store.killing import kill_at_mark
from tests.index.store.resumed_index import KILL_MARK, text_hash

ROOT = Path(__file__).parents[3]
SEED = 14
MAX_REEMBEDDED = 0.05  # of what the killed run had finished embedding


class Recording:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model_id, self.dim, self.max_tokens = inner.model_id, inner.dim, inner.max_tokens
        self.texts: list[str] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def truncate(self, text: str, max_tokens: int) -> str:
        return self.inner.truncate(text, max_tokens)

    def embed(self, texts: Sequence[str], *, progress: Any = None) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts, progress=progress)


def test_a_killed_reindex_resumes_without_re_embedding(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    articles, data, done_file = tmp_path / "articles", tmp_path / "data", tmp_path / "done"
    shutil.copytree(DEMO_ARTICLES, articles)
    calls = random.Random(SEED).randrange(3, 15)  # of ~22 slices of the demo articles
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.index.store.resumed_index", str(calls), str(articles),
         str(data), str(done_file)],
        stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    kill_at_mark(proc, KILL_MARK, timeout=120)
    finished = set(done_file.read_text().split())
    assert len(finished) >= calls * EMBED_SLICE - EMBED_SLICE  # duplicates within a slice aside

    recording = Recording(real_embedder)
    report = update_index(articles, data, recording)
    resumed = {text_hash(t) for t in recording.texts}
    re_embedded = finished & resumed
    print(f"killed after {calls} slices, {len(finished)} texts finished; the next run "
          f"embedded {len(resumed)}, {len(re_embedded)} of them again")  # fmt: skip
    assert len(re_embedded) <= MAX_REEMBEDDED * len(finished), (
        f"killed after {len(finished)} texts; the next run embedded {len(resumed)}, "
        f"{len(re_embedded)} of them again"
    )
    assert report.added == len(list(DEMO_ARTICLES.glob("*.md")))
    assert report.embedded == len(recording.texts) > 0  # the rest was embedded, once
    assert report.chunks >= len(finished | resumed)

    # The journal's embeddings are the model's own: a second index built from nothing agrees.
    fresh = tmp_path / "fresh"
    update_index(articles, fresh, real_embedder)
    question = "Who set up the Wayback Machine?"

    def top(folder: Path) -> list[tuple[str, int, float]]:
        settings = EngineSettings(articles_dir=articles, data_dir=folder)
        found = Engine(settings, embedder=real_embedder).search(question)
        return [(p.chunk.article_id, p.chunk.start, round(p.score, 3)) for p in found]

    assert top(data) == top(fresh)
