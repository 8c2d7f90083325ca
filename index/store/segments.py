"""Segments: immutable batches of chunks with their embeddings and BM25 term counts.

A generation is a list of segments plus, per segment, the rows it no longer holds
(tombstones). A reindex appends new segments and tombstones the rows of removed or edited
articles, so its cost follows the change, not the collection; segments are merged when
there are too many of a size, or when too many of their rows are dead (`plan_merges`).

Files of a segment folder (raw little-endian arrays, row i = chunk `chunk_ids[i]`)::

    meta.json       rows, dim, terms, postings, total_length
    chunk_ids.i64   chunk id per row (ids are never reused)
    keys.s16        content key of what was embedded (see embedding_cache.py)
    vectors.f16     float16 embedding per row
    lengths.i32     BM25 document length (terms) per row
    terms.u64       sorted 64-bit hashes of the segment's terms (see lexical.term_hash)
    indptr.i64      postings of term j are postings[indptr[j]:indptr[j+1]]
    postings.i32    rows holding each term, ascending within a term
    tfs.u16         the term's count in that row
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.store.files import ArrayFile, append_array, write_array
from index.store.ids import RowLookup

log = logging.getLogger(__name__)

SEGMENT_ROWS = 65_536  # rows a new segment holds at most (its postings are sorted in memory)
MERGE_FACTOR = 8  # this many segments of one size tier are merged into one
DEAD_SHARE_TO_MERGE = 0.25  # a segment with this share of dead rows is rewritten without them
MERGE_BLOCK_POSTINGS = 4_000_000  # postings held in memory at once while merging
KEY_BYTES = 16
MAX_TF = np.iinfo(np.uint16).max

META_FILE = "meta.json"


@dataclass
class SegmentMeta:
    rows: int
    dim: int
    terms: int
    postings: int
    total_length: int


class Segment:
    """A segment opened for reading; postings and vectors are read by position."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        self.meta = SegmentMeta(**json.loads((folder / META_FILE).read_text(encoding="utf-8")))
        self.chunk_ids = np.fromfile(folder / "chunk_ids.i64", dtype=np.int64)
        self.lengths = np.fromfile(folder / "lengths.i32", dtype=np.int32)
        self.terms = np.fromfile(folder / "terms.u64", dtype=np.uint64)
        self.indptr = ArrayFile(folder / "indptr.i64", np.int64)
        self.postings = ArrayFile(folder / "postings.i32", np.int32)
        self.tfs = ArrayFile(folder / "tfs.u16", np.uint16)
        self.vectors = ArrayFile(folder / "vectors.f16", np.float16, (self.meta.dim,))

    @property
    def rows(self) -> int:
        return self.meta.rows

    def keys(self) -> np.ndarray:
        """Content keys per row (read when a reindex looks for embeddings to reuse)."""
        return np.fromfile(self.folder / "keys.s16", dtype=f"S{KEY_BYTES}")

    def term_range(self, first: int, last: int) -> tuple[int, int]:
        """Local term ids [start, stop) whose hashes lie in [first, last]."""
        start = int(np.searchsorted(self.terms, np.uint64(first), side="left"))
        stop = int(np.searchsorted(self.terms, np.uint64(last), side="right"))
        return start, stop

    def postings_of(self, term_hash: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, term counts) of one term, or None if the segment lacks it."""
        pos = int(np.searchsorted(self.terms, np.uint64(term_hash)))
        if pos >= len(self.terms) or int(self.terms[pos]) != term_hash:
            return None
        start, stop = (int(x) for x in self.indptr.read(pos, pos + 2))
        return self.postings.read(start, stop), self.tfs.read(start, stop)

    def close(self) -> None:
        for f in (self.indptr, self.postings, self.tfs, self.vectors):
            f.close()


class SegmentWriter:
    """Writes one new segment: rows are appended batch by batch, postings sorted at the end."""

    def __init__(self, folder: Path, dim: int) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        self.dim = dim
        self.rows = 0
        self.total_length = 0
        self._files = {
            name: open(folder / name, "wb")  # noqa: SIM115 - closed in finish()
            for name in ("chunk_ids.i64", "keys.s16", "vectors.f16", "lengths.i32")
        }
        self._hashes: list[np.ndarray] = []
        self._rows: list[np.ndarray] = []
        self._tfs: list[np.ndarray] = []

    def append(
        self,
        chunk_ids: np.ndarray,
        keys: np.ndarray,
        vectors: np.ndarray,
        term_counts: Sequence[tuple[np.ndarray, np.ndarray]],
    ) -> None:
        """Add rows: their chunk ids, content keys, vectors, and (term hashes, counts) each."""
        n = len(chunk_ids)
        append_array(self._files["chunk_ids.i64"], np.asarray(chunk_ids, dtype=np.int64))
        append_array(self._files["keys.s16"], np.asarray(keys, dtype=f"S{KEY_BYTES}"))
        append_array(self._files["vectors.f16"], np.asarray(vectors, dtype=np.float16))
        lengths = np.fromiter((int(c.sum()) for _, c in term_counts), dtype=np.int64, count=n)
        append_array(self._files["lengths.i32"], lengths.astype(np.int32))
        self.total_length += int(lengths.sum())
        sizes = [len(h) for h, _ in term_counts]
        if sum(sizes):
            self._hashes.append(np.concatenate([h for h, _ in term_counts]).astype(np.uint64))
            self._tfs.append(
                np.minimum(np.concatenate([c for _, c in term_counts]), MAX_TF).astype(np.uint16)
            )
            self._rows.append(np.repeat(np.arange(self.rows, self.rows + n, dtype=np.int32), sizes))
        self.rows += n

    def finish(self) -> Segment:
        """Sort and write the postings, sync everything, and open the segment for reading."""
        for fh in self._files.values():
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, np.uint64)
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int32)
        tfs = np.concatenate(self._tfs) if self._tfs else np.zeros(0, np.uint16)
        self._hashes, self._rows, self._tfs = [], [], []
        order = np.argsort(hashes, kind="stable")  # rows stay ascending within a term
        hashes = hashes[order]
        terms, counts = np.unique(hashes, return_counts=True)
        del hashes
        write_postings(self.folder, terms, counts, rows[order], tfs[order])
        write_meta(self.folder, SegmentMeta(self.rows, self.dim, len(terms), len(rows),
                                            self.total_length))  # fmt: skip
        return Segment(self.folder)


def write_postings(
    folder: Path, terms: np.ndarray, counts: np.ndarray, rows: np.ndarray, tfs: np.ndarray
) -> None:
    indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    write_array(folder / "terms.u64", terms.astype(np.uint64))
    write_array(folder / "indptr.i64", indptr)
    write_array(folder / "postings.i32", rows.astype(np.int32))
    write_array(folder / "tfs.u16", tfs.astype(np.uint16))


def write_meta(folder: Path, meta: SegmentMeta) -> None:
    with open(folder / META_FILE, "w", encoding="utf-8") as fh:
        json.dump(meta.__dict__, fh)
        fh.flush()
        os.fsync(fh.fileno())


def merge_segments(parts: Sequence[tuple[Segment, np.ndarray | None]], folder: Path) -> Segment:
    """One segment holding the live rows of `parts` (segment, dead-row mask or None), in order.

    Memory stays bounded: rows are copied a slice at a time and postings a block of terms at a
    time (`MERGE_BLOCK_POSTINGS`), whatever the size of the segments.
    """
    folder.mkdir(parents=True)
    dim = parts[0][0].meta.dim
    remaps, offset, total_length = [], 0, 0
    for segment, dead in parts:
        keep = np.ones(segment.rows, dtype=bool) if dead is None else ~dead
        remap = np.full(segment.rows, -1, dtype=np.int64)
        remap[keep] = offset + np.arange(int(keep.sum()))
        remaps.append(remap)
        offset += int(keep.sum())
        total_length += int(segment.lengths[keep].sum())
    _copy_rows(parts, remaps, folder)
    terms = np.unique(np.concatenate([s.terms for s, _ in parts]))
    postings = _merge_postings(parts, remaps, terms, folder)
    write_meta(folder, SegmentMeta(offset, dim, len(terms), postings, total_length))
    return Segment(folder)


def _copy_rows(
    parts: Sequence[tuple[Segment, np.ndarray | None]], remaps: list[np.ndarray], folder: Path
) -> None:
    step = SEGMENT_ROWS
    with (
        open(folder / "chunk_ids.i64", "wb") as ids_out,
        open(folder / "keys.s16", "wb") as keys_out,
        open(folder / "vectors.f16", "wb") as vec_out,
        open(folder / "lengths.i32", "wb") as len_out,
    ):
        for (segment, _), remap in zip(parts, remaps, strict=True):
            keep = remap >= 0
            keys = segment.keys()
            append_array(ids_out, segment.chunk_ids[keep])
            append_array(keys_out, keys[keep])
            append_array(len_out, segment.lengths[keep])
            for start, block in zip(range(0, segment.rows, step), segment.vectors.slices(step),
                                    strict=True):  # fmt: skip
                append_array(vec_out, block[keep[start : start + step]])
        for fh in (ids_out, keys_out, vec_out, len_out):
            fh.flush()
            os.fsync(fh.fileno())


def _merge_postings(
    parts: Sequence[tuple[Segment, np.ndarray | None]],
    remaps: list[np.ndarray],
    terms: np.ndarray,
    folder: Path,
) -> int:
    """Write the merged postings block by block; return how many were written."""
    indptrs = [s.indptr.all() for s, _ in parts]
    sizes = np.zeros(len(terms), dtype=np.int64)
    for (segment, _), indptr in zip(parts, indptrs, strict=True):
        np.add.at(sizes, np.searchsorted(terms, segment.terms), np.diff(indptr))
    counts = np.zeros(len(terms), dtype=np.int64)
    written = 0
    with (
        open(folder / "postings.i32", "wb") as rows_out,
        open(folder / "tfs.u16", "wb") as tfs_out,
    ):
        for first, stop in _blocks(sizes):
            lo, hi = int(terms[first]), int(terms[stop - 1])
            ids, rows, tfs = [], [], []
            for (segment, _), remap, indptr in zip(parts, remaps, indptrs, strict=True):
                t0, t1 = segment.term_range(lo, hi)
                if t0 == t1:
                    continue
                p0, p1 = int(indptr[t0]), int(indptr[t1])
                local = np.searchsorted(terms, segment.terms[t0:t1]) - first
                new_rows = remap[segment.postings.read(p0, p1)]
                alive = new_rows >= 0
                ids.append(np.repeat(local, np.diff(indptr[t0 : t1 + 1]))[alive])
                rows.append(new_rows[alive])
                tfs.append(segment.tfs.read(p0, p1)[alive])
            if not ids:
                continue
            block_ids = np.concatenate(ids)
            order = np.argsort(block_ids, kind="stable")
            append_array(rows_out, np.concatenate(rows)[order].astype(np.int32))
            append_array(tfs_out, np.concatenate(tfs)[order])
            counts[first:stop] = np.bincount(block_ids, minlength=stop - first)
            written += len(block_ids)
        for fh in (rows_out, tfs_out):
            fh.flush()
            os.fsync(fh.fileno())
    indptr = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    write_array(folder / "terms.u64", terms)
    write_array(folder / "indptr.i64", indptr)
    return written


def _blocks(sizes: np.ndarray) -> Iterator[tuple[int, int]]:
    """Consecutive term ranges of about `MERGE_BLOCK_POSTINGS` postings each."""
    start, total = 0, 0
    for stop, size in enumerate(sizes.tolist(), start=1):
        total += size
        if total >= MERGE_BLOCK_POSTINGS:
            yield start, stop
            start, total = stop, 0
    if start < len(sizes):
        yield start, len(sizes)


def plan_merges(rows: Sequence[int], dead: Sequence[int]) -> list[list[int]]:
    """Which segments (by position) to merge: each group becomes one segment.

    A segment whose dead share reaches `DEAD_SHARE_TO_MERGE` is rewritten; otherwise segments
    fall in tiers by live size (powers of `MERGE_FACTOR`), and a tier holding `MERGE_FACTOR`
    segments is merged into one. The cost of merging is thus amortised: each row is rewritten
    about once per tier, i.e. O(log n) times over its life.
    """
    groups: list[list[int]] = []
    tiers: dict[int, list[int]] = {}
    for i, (n, d) in enumerate(zip(rows, dead, strict=True)):
        live = n - d
        if n and d / n >= DEAD_SHARE_TO_MERGE:
            groups.append([i])
            continue
        tier = 0
        while live >= SEGMENT_ROWS * MERGE_FACTOR**tier:
            tier += 1
        tiers.setdefault(tier, []).append(i)
    for members in tiers.values():
        if len(members) >= MERGE_FACTOR:
            groups.append(members)
    return [sorted(g) for g in groups]


class RowSpace:
    """A generation's rows: its segments end to end, minus the tombstoned ones.

    BM25 scores and the exact float16 vectors are both addressed by these rows; `find` turns
    chunk ids into rows.
    """

    def __init__(self, segments: Sequence[Segment], dead: Sequence[np.ndarray | None]) -> None:
        self.segments = list(segments)
        sizes = [s.rows for s in self.segments]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
        empty = np.zeros(0, dtype=np.int64)
        self.chunk_ids = np.concatenate([s.chunk_ids for s in self.segments] or [empty])
        self.live = np.ones(len(self.chunk_ids), dtype=bool)
        for start, mask in zip(self.offsets, dead, strict=False):
            if mask is not None:
                self.live[start : start + len(mask)] &= ~mask
        self.lengths = np.concatenate(
            [s.lengths for s in self.segments] or [np.zeros(0, dtype=np.int32)]
        )
        self._lookup = RowLookup(self.chunk_ids)

    @property
    def n_live(self) -> int:
        return int(self.live.sum())

    def find(self, chunk_ids: np.ndarray | list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, found) of live chunks, as `RowLookup.find`."""
        rows, found = self._lookup.find(chunk_ids)
        alive = self.live[rows]
        if not alive.all():
            found = found.copy()
            found[np.flatnonzero(found)[~alive]] = False
            rows = rows[alive]
        return rows, found

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The float16 embeddings of the given rows, in order (read by position)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.segments[0].meta.dim if self.segments else 0), np.float16)
        which = np.searchsorted(self.offsets, rows, side="right") - 1
        for seg in np.unique(which):
            picked = which == seg
            out[picked] = self.segments[seg].vectors.take(rows[picked] - self.offsets[seg])
        return out
