"""The one place that decides "one reindex at a time" for a data directory.

A `ReindexClaim` is taken in two steps, so that a caller on an event loop can claim at once
(no I/O) and let a worker thread do the rest:

1. `ReindexClaim(data_dir)`: an in-process claim (a lock per data directory, taken without
   waiting); a second claim in this process fails at once with ReindexRunningError;
2. `lock_files()`: an exclusive `flock` on `data_dir/.writer.lock`, which also keeps out a
   reindex run by another process (a `citebot index` while the bot runs, say).

Both are released by `release()` (or on leaving `with ReindexClaim(...)`). The engine's
`claim_reindex()` / `reindex(claim=...)` is the API every caller goes through.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from index.errors import ReindexRunningError
from index.store.layout import LOCK_FILE, ensure_data_dir

log = logging.getLogger(__name__)

_REGISTRY_LOCK = threading.Lock()
_CLAIMS: dict[Path, threading.Lock] = {}


def _key(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().resolve()


def running_message(data_dir: Path) -> str:
    return f"Another reindex is running on {data_dir}; try again when it has finished."


class ReindexClaim:
    """The right to reindex `data_dir`; raises ReindexRunningError at once if it is taken."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        with _REGISTRY_LOCK:
            lock = _CLAIMS.setdefault(_key(self.data_dir), threading.Lock())
        if not lock.acquire(blocking=False):
            raise ReindexRunningError(running_message(self.data_dir))
        self._lock: threading.Lock | None = lock
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._lock is not None

    def lock_files(self) -> None:
        """Take the cross-process lock too (idempotent); creates the data directory."""
        if self._file is not None:
            return
        if self._lock is None:
            raise RuntimeError("this reindex claim was released")
        ensure_data_dir(self.data_dir)
        fh = open(self.data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - closed in release()
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.close()
            raise ReindexRunningError(running_message(self.data_dir)) from exc
        self._file = fh

    def release(self) -> None:
        """Give the claim up (idempotent)."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ReindexClaim:
        try:
            self.lock_files()
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def reindex_running(data_dir: Path) -> bool:
    """Whether a reindex of `data_dir` is claimed in this process."""
    with _REGISTRY_LOCK:
        lock = _CLAIMS.get(_key(data_dir))
    return lock is not None and lock.locked()


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[ReindexClaim]:
    """Hold the single-writer claim for a block, or raise ReindexRunningError at once."""
    with ReindexClaim(data_dir) as claim:
        yield claim
