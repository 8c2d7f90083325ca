"""A reindex killed with SIGKILL in the middle of embedding leaves the previous index usable.

The kill point is deterministic: the command line runs through `paused_index`, which stops
half-way through embedding and says so, so the kill never misses its window.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from index.settings import EngineSettings
from index.store.generations import CURRENT_FILE
from tests.conftest import DEMO_ARTICLES, FIXTURES
from tests.index.store.killing import kill_at_mark
from tests.index.store.paused_index import EMBEDDING_MARK

ROOT = Path(__file__).parents[3]


def test_sigkill_mid_embedding_keeps_previous_index(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    settings = EngineSettings(articles_dir=articles, data_dir=data)
    Engine(settings, embedder=real_embedder).reindex()
    question = "How much did the harbour bridge repair cost?"
    before = [
        (p.chunk.id, round(p.score, 5))
        for p in Engine(settings, embedder=real_embedder).search(question)
    ]
    live = (data / CURRENT_FILE).read_text()

    # The command line is stopped half-way through embedding the new articles, then killed.
    shutil.copytree(DEMO_ARTICLES, articles / "demo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.index.store.paused_index", "index", "--articles",
         str(articles), "--data", str(data), "-q"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")},
            "CITEBOT_EMBED_BACKEND": "torch",  # the backend the in-process engines use
        },
    )  # fmt: skip
    kill_at_mark(proc, EMBEDDING_MARK, timeout=60)
    assert list(data.glob("*.build")), "the kill should have interrupted a build"
    assert (data / CURRENT_FILE).read_text() == live

    # The previous index loads and answers exactly as before.
    after = [
        (p.chunk.id, round(p.score, 5))
        for p in Engine(settings, embedder=real_embedder).search(question)
    ]
    assert after == before

    # The next run completes and cleans up the unfinished build.
    report = Engine(settings, embedder=real_embedder).reindex()
    assert report.added == len(list(DEMO_ARTICLES.glob("*.md")))
    assert report.unchanged == 4
    assert not list(data.glob("*.build"))
    assert (data / CURRENT_FILE).read_text() != live
