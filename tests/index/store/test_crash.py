"""A reindex killed with SIGKILL in the middle of embedding leaves the previous index usable."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from index.settings import EngineSettings
from index.store.generations import CURRENT_FILE
from tests.conftest import DEMO_ARTICLES, FIXTURES


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

    # Enough new text that embedding takes seconds; kill once the log says it has begun.
    shutil.copytree(DEMO_ARTICLES, articles / "demo")
    proc = subprocess.Popen(
        [sys.executable, "-m", "citebot", "-v", "index", "--articles", str(articles),
         "--data", str(data), "-q"],
        stderr=subprocess.PIPE,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")},
            "CITEBOT_EMBED_BACKEND": "torch",  # the backend the in-process engines use
        },
    )  # fmt: skip
    assert proc.stderr is not None
    for line in proc.stderr:
        if "embedding" in line and "chunks of" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
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
