"""Embeddings kept by content, so that no text is embedded twice by the same model.

A chunk's *content key* is a 16-byte hash of the model id and the exact text embedded (title
prefix included). Before embedding a batch, a reindex looks every key up in:

- the journal (`embeddings.journal`): every embedding this reindex, or an earlier one that
  was killed, has computed but not yet published. Records are appended and synced batch by
  batch, each with a CRC, so a run killed at any point (even mid-record) is resumed by the
  next: it re-embeds only what was never written. The journal is deleted once a generation
  is published, since everything in it is then in the generation's segments.
- the live generation's segments, which keep the key of every row: an edited article whose
  chunks are mostly unchanged re-embeds only the changed chunks, and a renamed article none.
- a format-1 generation's float16 embeddings, when upgrading (see format1.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.store.segments import KEY_BYTES, Segment

log = logging.getLogger(__name__)

JOURNAL_MAGIC = b"citebot-embeddings-journal 1\n"
CRC_BYTES = 4
READ_RECORDS = 4096
SYNC_SECONDS = 1.0  # journal records checked at a time when it is opened


def content_key(model_id: str, text: str) -> bytes:
    """The 16-byte key of `text` embedded by `model_id`."""
    payload = f"{model_id}\x00{text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(payload, digest_size=KEY_BYTES).digest()


def content_keys(model_id: str, texts: Sequence[str]) -> np.ndarray:
    return np.array([content_key(model_id, t) for t in texts], dtype=f"S{KEY_BYTES}")


class VectorSource(Protocol):
    """Somewhere embeddings can be reused from: a key per row, and the rows' vectors."""

    def keys(self) -> np.ndarray: ...

    def vectors(self, rows: np.ndarray) -> np.ndarray: ...


class EmbeddingJournal:
    """The append-only file of embeddings made by unfinished reindexes of one model."""

    def __init__(self, path: Path, model_id: str, dim: int) -> None:
        self.path = path
        self.dim = dim
        self.record = np.dtype(
            [("key", f"S{KEY_BYTES}"), ("vector", "<f2", (dim,)), ("crc", "<u4")]
        )
        header = JOURNAL_MAGIC + json.dumps({"model": model_id, "dim": dim}).encode() + b"\n"
        self.header_bytes = len(header)
        recovered = self._recover(header)
        self._parts, self._count = [recovered], len(recovered)
        self._fh = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._synced = time.monotonic()
        self._fd = os.open(path, os.O_RDONLY)

    def _recover(self, header: bytes) -> np.ndarray:
        """Keys of the complete records of a journal left by the same model; anything else
        (another model, a torn last record) is cut off."""
        empty = np.zeros(0, dtype=f"S{KEY_BYTES}")
        try:
            with open(self.path, "rb") as fh:
                if fh.read(len(header)) != header:
                    raise FileNotFoundError
                keys, good = [], 0
                while block := fh.read(self.record.itemsize * READ_RECORDS):
                    n = len(block) // self.record.itemsize
                    ok = _valid_records(block, n, self.record.itemsize)
                    records = np.frombuffer(block, dtype=self.record, count=n)
                    keys.append(records["key"][:ok].copy())
                    good += ok
                    if ok < READ_RECORDS:
                        break
        except FileNotFoundError:
            with open(self.path, "wb") as fh:
                fh.write(header)
                fh.flush()
                os.fsync(fh.fileno())
            return empty
        with open(self.path, "r+b") as fh:
            fh.truncate(len(header) + good * self.record.itemsize)
        if good:
            log.info("resuming: %d embeddings from an unfinished reindex are reused", good)
        return np.concatenate(keys) if keys else empty

    def keys(self) -> np.ndarray:
        if len(self._parts) > 1:
            self._parts = [np.concatenate(self._parts)]
        return self._parts[0]

    @property
    def records(self) -> int:
        return self._count

    def append(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Add records. They are handed to the OS at once (a killed process loses none of
        them) and synced to disk at most `SYNC_SECONDS` apart (a power cut loses at most
        that much work)."""
        records = np.zeros(len(keys), dtype=self.record)
        records["key"] = keys
        records["vector"] = np.asarray(vectors, dtype=np.float16)
        raw = records.tobytes()
        size = self.record.itemsize
        crcs = [zlib.crc32(raw[i * size : (i + 1) * size - CRC_BYTES]) for i in range(len(keys))]
        records["crc"] = crcs
        self._fh.write(records.tobytes())
        self._fh.flush()
        if time.monotonic() - self._synced >= SYNC_SECONDS:
            os.fsync(self._fh.fileno())
            self._synced = time.monotonic()
        # A copy: a field view would keep each whole record (vector included) alive.
        self._parts.append(records["key"].copy())
        self._count += len(keys)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        size = self.record.itemsize
        out = np.empty((len(rows), self.dim), dtype=np.float16)
        for j, row in enumerate(np.asarray(rows, dtype=np.int64).tolist()):
            raw = os.pread(self._fd, size, self.header_bytes + row * size)
            out[j] = np.frombuffer(raw, dtype=self.record)["vector"][0]
        return out

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
        self._fh.close()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def discard(self) -> None:
        """Delete the journal (its embeddings are now in a published generation)."""
        self.close()
        self.path.unlink(missing_ok=True)


def _valid_records(block: bytes, n: int, size: int) -> int:
    """How many leading records of `block` have a matching CRC."""
    for i in range(n):
        record = block[i * size : (i + 1) * size]
        stored = int.from_bytes(record[-CRC_BYTES:], "little")
        if zlib.crc32(record[:-CRC_BYTES]) != stored:
            return i
    return n


class SegmentSource:
    """A segment's rows as a source of embeddings to reuse."""

    def __init__(self, segment: Segment) -> None:
        self.segment = segment

    def keys(self) -> np.ndarray:
        return self.segment.keys()

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self.segment.vectors.take(rows)


class ReuseIndex:
    """Looks content keys up in several sources at once (sorted keys, binary search)."""

    def __init__(self, sources: Sequence[VectorSource]) -> None:
        self.sources = list(sources)
        keys, owners, rows = [], [], []
        for i, source in enumerate(self.sources):
            k = source.keys()
            keys.append(k)
            owners.append(np.full(len(k), i, dtype=np.int32))
            rows.append(np.arange(len(k), dtype=np.int64))
        self._keys = np.concatenate(keys) if keys else np.zeros(0, dtype=f"S{KEY_BYTES}")
        order = np.argsort(self._keys, kind="stable")
        self._keys = self._keys[order]
        self._owner = np.concatenate(owners)[order] if owners else np.zeros(0, np.int32)
        self._row = np.concatenate(rows)[order] if rows else np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, vectors): which keys are known, and their float16 vectors in order."""
        dim = 0
        if not len(self._keys) or not len(keys):
            return np.zeros(len(keys), dtype=bool), np.zeros((0, dim), dtype=np.float16)
        pos = np.searchsorted(self._keys, keys).clip(0, len(self._keys) - 1)
        found = self._keys[pos] == keys
        hits = pos[found]
        owners, rows = self._owner[hits], self._row[hits]
        parts: list[np.ndarray | None] = [None] * len(hits)
        for owner in np.unique(owners):
            picked = np.flatnonzero(owners == owner)
            vectors = self.sources[owner].vectors(rows[picked])
            for j, vector in zip(picked.tolist(), vectors, strict=True):
                parts[j] = vector
        stacked = np.stack(parts) if parts else np.zeros((0, dim), dtype=np.float16)
        return found, stacked.astype(np.float16)
