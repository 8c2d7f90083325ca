"""File primitives of the store: atomic replaces, fsync, hard links, raw arrays read by position.

Every index file is written either through a temporary name and `os.replace` (files that live
directly in the data directory) or inside a generation's build folder, which is itself
published with one `os.replace` of the folder once every file in it is complete and synced.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

WRITE_SLICE_BYTES = 1 << 24  # arrays are written 16 MiB at a time (no whole-array copies)
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary name and `os.replace`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """fsync every file and folder under `folder` (before it is published by a rename)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        fsync_dir(path)
    fsync_dir(folder)


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link `source` as `target` (files are immutable once written); copy if the
    filesystem cannot link."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno in DISK_FULL_ERRNOS:
            raise
        log.debug("cannot hard-link %s (%s); copying", source, exc)
        shutil.copyfile(source, target)


def write_array(path: Path, array: np.ndarray) -> None:
    """Write `array`'s raw bytes (C order) to a new file, in slices."""
    with open(path, "wb") as fh:
        append_array(fh, array)
        fh.flush()
        os.fsync(fh.fileno())


def append_array(fh: object, array: np.ndarray) -> None:
    """Append `array`'s raw bytes to an open binary file, in slices."""
    flat = np.ascontiguousarray(array).reshape(-1)
    step = max(1, WRITE_SLICE_BYTES // max(1, flat.itemsize))
    for start in range(0, len(flat), step):
        fh.write(flat[start : start + step].tobytes())  # type: ignore[attr-defined]


class ArrayFile:
    """A raw array file read by position (`os.pread`), never mapped into memory.

    Only the rows asked for are read, into ordinary memory that is freed after use, so an
    answering process's resident memory does not grow with the parts of the index it touched.
    """

    def __init__(self, path: Path, dtype: np.dtype | str, row_shape: tuple[int, ...] = ()) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.row_shape = row_shape
        self.row_bytes = self.dtype.itemsize * int(np.prod(row_shape, dtype=np.int64))
        self._fd = os.open(path, os.O_RDONLY)
        self.rows = os.fstat(self._fd).st_size // self.row_bytes if self.row_bytes else 0

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows `start` to `stop` (exclusive)."""
        stop = min(stop, self.rows)
        if stop <= start:
            return np.zeros((0, *self.row_shape), dtype=self.dtype)
        raw = os.pread(self._fd, (stop - start) * self.row_bytes, start * self.row_bytes)
        return np.frombuffer(raw, dtype=self.dtype).reshape(-1, *self.row_shape)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows, in the order given (runs of adjacent rows are read at once)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), *self.row_shape), dtype=self.dtype)
        if not len(rows):
            return out
        order = np.argsort(rows, kind="stable")
        sorted_rows = rows[order]
        breaks = np.flatnonzero(np.diff(sorted_rows) != 1) + 1
        for run in np.split(np.arange(len(rows)), breaks):
            first = int(sorted_rows[run[0]])
            out[order[run]] = self.read(first, first + len(run))
        return out

    def all(self) -> np.ndarray:
        """Every row (for small files, or when writing a merge)."""
        return self.read(0, self.rows)

    def slices(self, step: int) -> Iterator[np.ndarray]:
        """Every row, `step` rows at a time."""
        for start in range(0, self.rows, step):
            yield self.read(start, start + step)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` says the filesystem is full (or the quota reached)."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        return True
    if isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return "full" in str(exc).lower()
    return isinstance(exc, RuntimeError) and "No space left" in str(exc)


def tree_bytes(path: Path) -> int:
    """Bytes used by the files under `path` (a file that vanishes meanwhile counts 0)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for item in path.rglob("*"):
        try:
            if item.is_file():
                total += item.stat().st_size
        except OSError:
            continue
    return total


def free_bytes(path: Path) -> int:
    """Bytes available to this user on the filesystem holding `path`."""
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize
