"""The real engine and feedback store, wrapped to catch blocking work on the event loop.

Any engine, embedding or feedback-store call made on a thread that runs an event loop is
recorded in a `LoopGuard`; the harness fails the test. `ReindexGate` holds a reindex in
progress so a test can ask questions meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from index.engine import Engine
from index.feedback import FeedbackStore
from index.settings import DEFAULT_MODEL, EngineSettings

FIXTURE_ARTICLES = Path(__file__).parents[1] / "fixtures" / "articles"


def on_event_loop() -> bool:
    """Whether the calling thread is running an asyncio event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass
class LoopGuard:
    """Names of blocking calls that were made on an event-loop thread."""

    violations: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        if on_event_loop():
            self.violations.append(name)


class GuardedEngine(Engine):
    """The real engine; records calls made on the event loop."""

    guard: LoopGuard

    def retriever(self) -> Any:
        self.guard.check("Engine.retriever")
        return super().retriever()

    def reindex(self, *args: Any, **kwargs: Any) -> Any:
        self.guard.check("Engine.reindex")
        return super().reindex(*args, **kwargs)


class GuardedEmbedder:
    """The real embedder; records embedding on the event loop."""

    def __init__(self, inner: Any, guard: LoopGuard) -> None:
        self.inner = inner
        self.guard = guard

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str], *, progress: Any = None) -> np.ndarray:
        self.guard.check("embed")
        return self.inner.embed(texts, progress=progress)


class GuardedFeedbackStore(FeedbackStore):
    """The real feedback store; records SQLite work on the event loop."""

    def __init__(self, path: Path, guard: LoopGuard, **options: Any) -> None:
        self.guard = guard
        super().__init__(path, **options)

    def _connect(self) -> Any:
        self.guard.check("FeedbackStore")
        return super()._connect()


@dataclass(frozen=True)
class IndexDirs:
    """An articles folder and the data directory indexed from it."""

    articles: Path
    data: Path


def engine_settings(dirs: IndexDirs) -> EngineSettings:
    """Settings for `dirs`, ignoring any CITEBOT_* variables of the developer's shell."""
    return EngineSettings(
        _env_file=None, articles_dir=dirs.articles, data_dir=dirs.data, model=DEFAULT_MODEL
    )


def make_engine(dirs: IndexDirs, embedder: Any, guard: LoopGuard, cls: type = GuardedEngine) -> Any:
    """A guarded engine over `dirs` (`cls` may be a GuardedEngine subclass)."""
    engine = cls(engine_settings(dirs), embedder=GuardedEmbedder(embedder, guard))
    engine.guard = guard
    return engine


def copy_index(source: IndexDirs, root: Path) -> IndexDirs:
    """A private copy of an index and its articles, free to be reindexed."""
    dirs = IndexDirs(root / "articles", root / "data")
    shutil.copytree(source.articles, dirs.articles)
    shutil.copytree(source.data, dirs.data)
    return dirs


class Gate:
    """Holds threads at one point until the test lets them go.

    Every gate opens when a bot under test closes (`running_bot` calls `open_all`), so a test
    that fails while holding one never leaves a thread waiting behind it.
    """

    _every: ClassVar[weakref.WeakSet[Gate]] = weakref.WeakSet()

    def __init__(self) -> None:
        self.release = threading.Event()
        Gate._every.add(self)

    @classmethod
    def open_all(cls) -> None:
        """Let every thread held by any gate go."""
        for gate in list(cls._every):
            gate.release.set()


class ReindexGate(Gate):
    """Makes the reindex thread's embedding wait until the test releases it.

    Questions embed in other threads and are never held, so a test can ask while a reindex
    is deterministically in progress.
    """

    def __init__(self, thread_name: str) -> None:
        super().__init__()
        self.thread_name = thread_name
        self.entered = threading.Event()

    def wait_here(self) -> None:
        if threading.current_thread().name != self.thread_name:
            return
        self.entered.set()
        if not self.release.wait(30):
            raise TimeoutError("the test never released the reindex")


class Slowdown(Gate):
    """A slow engine and disk: while held, every index read and every feedback-store
    connection made by the engine's worker threads waits here, for as long as the test likes.

    Open unless `held`; `waiting` counts the calls waiting now.
    """

    def __init__(self, thread_prefix: str) -> None:
        super().__init__()
        self.thread_prefix = thread_prefix
        self.release.set()
        self._waiting = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold every worker's engine and feedback calls inside the block."""
        self.release.clear()
        try:
            yield
        finally:
            self.release.set()

    def wait_here(self) -> None:
        if self.release.is_set() or not threading.current_thread().name.startswith(
            self.thread_prefix
        ):
            return
        with self._changed:
            self._waiting += 1
            self._changed.notify_all()
        try:
            if not self.release.wait(30):
                raise TimeoutError("the test never let the slow engine go")
        finally:
            with self._changed:
                self._waiting -= 1

    def wait_for_waiting(self, count: int, timeout: float) -> bool:
        """Block until `count` calls wait here (call it with `asyncio.to_thread`)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._waiting >= count, timeout)


class SlowEngine(GuardedEngine):
    """The real engine, whose every read of the index passes its `Slowdown` first."""

    slowdown: Slowdown

    def retriever(self) -> Any:
        self.slowdown.wait_here()
        return super().retriever()


class SlowFeedbackStore(GuardedFeedbackStore):
    """The real feedback store, whose every connection passes a `Slowdown` first."""

    def __init__(self, path: Path, guard: LoopGuard, slowdown: Slowdown) -> None:
        self.slowdown = slowdown
        self.was_posted = threading.Event()  # set once an answer's message is remembered
        super().__init__(path, guard)

    def _connect(self) -> Any:
        self.slowdown.wait_here()
        return super()._connect()

    def posted(self, *args: Any, **kwargs: Any) -> None:
        super().posted(*args, **kwargs)
        self.was_posted.set()


class GatedEmbedder(GuardedEmbedder):
    """A guarded embedder whose calls from the reindex thread pass through a `ReindexGate`."""

    def __init__(self, inner: Any, guard: LoopGuard, gate: ReindexGate) -> None:
        super().__init__(inner, guard)
        self.gate = gate

    def embed(self, texts: Sequence[str], *, progress: Any = None) -> np.ndarray:
        self.gate.wait_here()
        return super().embed(texts, progress=progress)
