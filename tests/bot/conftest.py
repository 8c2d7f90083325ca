"""Fixtures for the bot tests: one real index, built once per session from the fixture articles.

The engine the bots get is the real one (the bundled model, FAISS, BM25, SQLite), wrapped so
that blocking calls made on the event loop fail the test (see `engines.py`).
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.async_engine import QUERY_THREAD_PREFIX
from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from tests.bot.engines import (
    FIXTURE_ARTICLES,
    GuardedFeedbackStore,
    IndexDirs,
    LoopGuard,
    Slowdown,
    SlowEngine,
    SlowFeedbackStore,
    copy_index,
    engine_settings,
    make_engine,
)


@pytest.fixture(scope="session")
def embedder(real_embedder: SentenceTransformerEmbedder) -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole suite (tests/conftest.py).

    The model is loaded here, not by the first bot that warms it up: a bot has STEP_TIMEOUT
    to become ready, and a test run on its own would otherwise spend it loading the model.
    """
    real_embedder.embed(["warm-up"])
    return real_embedder


@pytest.fixture(scope="session")
def built_index(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> IndexDirs:
    """The four fixture articles, indexed once per session (never modified afterwards)."""
    root = tmp_path_factory.mktemp("built")
    dirs = IndexDirs(root / "articles", root / "data")
    shutil.copytree(FIXTURE_ARTICLES, dirs.articles)
    report = Engine(engine_settings(dirs), embedder=embedder).reindex()
    assert (report.added, report.failed) == (4, [])
    # The model's objects live for the whole session: leave them out of the garbage
    # collections each scenario runs to find leaked sessions (0.7 s each otherwise).
    gc.freeze()
    return dirs


@pytest.fixture
def guard() -> LoopGuard:
    """Where blocking calls on the event loop are recorded."""
    return LoopGuard()


@pytest.fixture
def engine(built_index: IndexDirs, embedder: SentenceTransformerEmbedder, guard: LoopGuard) -> Any:
    """The real engine over the shared index: tests using it must not reindex."""
    return make_engine(built_index, embedder, guard)


@pytest.fixture
def own_index(built_index: IndexDirs, tmp_path: Path) -> IndexDirs:
    """A private copy of the index and articles, for tests that reindex."""
    return copy_index(built_index, tmp_path / "own")


@pytest.fixture
def own_engine(
    own_index: IndexDirs, embedder: SentenceTransformerEmbedder, guard: LoopGuard
) -> Any:
    """The real engine over a private copy of the index."""
    return make_engine(own_index, embedder, guard)


@pytest.fixture
def feedback(tmp_path: Path, guard: LoopGuard) -> GuardedFeedbackStore:
    """A fresh feedback store for one test."""
    return GuardedFeedbackStore(tmp_path / "feedback.sqlite", guard)


@pytest.fixture
def slowdown() -> Slowdown:
    """A slow engine and disk, for the bot's worker threads (open until `held`)."""
    return Slowdown(QUERY_THREAD_PREFIX)


@pytest.fixture
def slow_engine(own_index: IndexDirs, embedder: Any, guard: LoopGuard, slowdown: Slowdown) -> Any:
    """The real engine over a private index, whose index reads wait while `slowdown` is held."""
    engine = make_engine(own_index, embedder, guard, cls=SlowEngine)
    engine.slowdown = slowdown
    return engine


@pytest.fixture
def slow_feedback(tmp_path: Path, guard: LoopGuard, slowdown: Slowdown) -> SlowFeedbackStore:
    """A fresh feedback store whose connections wait while `slowdown` is held."""
    return SlowFeedbackStore(tmp_path / "feedback.sqlite", guard, slowdown)
