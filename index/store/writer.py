"""Writing the next generation: what the indexer asks of the store.

`GenerationWriter` is opened by a reindex that holds the writer lock. It recovers whatever a
crashed writer left, then takes batches of chunked articles: it embeds what the embedding
cache does not have (journaling each slice), stores articles and chunks in SQLite (tagged
with the new generation), and appends rows to a new segment. Removed or replaced articles
become tombstones. `publish()` merges segments where the policy says so, updates the vector
index, writes the manifest and switches CURRENT; `abort()` removes the build folder.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.store.database import DatabaseWriter, LiveArticle
from index.store.dense_writer import write_dense_index
from index.store.embedding_cache import (
    EmbeddingJournal,
    ReuseIndex,
    SegmentSource,
    VectorSource,
    content_keys,
)
from index.store.files import link_or_copy
from index.store.format1 import Format1Reader, Format1Rows, Format1Source
from index.store.layout import (
    DATABASE_FILE,
    DELETED_DIR,
    FORMAT_VERSION,
    JOURNAL_FILE,
    SEGMENTS_DIR,
    generation_number,
    new_build_folder,
    oldest_kept,
    publish,
    read_manifest,
    recover,
    remove_stale,
    write_manifest,
)
from index.store.lexical import term_counts
from index.store.segments import (
    SEGMENT_ROWS,
    RowSpace,
    Segment,
    SegmentWriter,
    merge_segments,
    plan_merges,
)

log = logging.getLogger(__name__)

EMBED_SLICE = 8  # texts embedded (and journaled) at a time: a kill loses at most this many


@dataclass
class ChunkedArticle:
    """An article ready to store: its SQL fields, file signature, chunks and embedded texts."""

    article_id: str
    fields: tuple[object, ...]  # id, title, url, source, author, published, path, hash, text
    signature: tuple[int, int] | None
    spans: list[tuple[int, int, str]]  # (start, end, text) of each chunk
    embedded: list[str]  # what is embedded for each chunk (title prefix + text)
    lexical: list[str]  # what BM25 indexes for each chunk (title + text)


@dataclass
class WriteStats:
    """What a writer did, for the report."""

    embedded: int = 0  # texts the model embedded
    reused: int = 0  # chunks whose embedding was found by content
    articles_added: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    new_segments: list[str] = field(default_factory=list)


Embed = Callable[[list[str]], np.ndarray]


class GenerationWriter:
    """Builds one generation on top of the live one (or from nothing)."""

    def __init__(
        self,
        data_dir: Path,
        params: dict[str, Any],
        *,
        from_scratch: bool,
        reuse_live: bool,
        embedded_text: Callable[[str, str], str],
    ) -> None:
        self.data_dir = data_dir
        self.params = params
        self.live = recover(data_dir)
        live_manifest = read_manifest(self.live) if self.live is not None else {}
        self.live_format = int(live_manifest.get("format", FORMAT_VERSION))
        self.base = None if from_scratch or self.live_format != FORMAT_VERSION else self.live
        self.base_manifest = live_manifest if self.base is not None else {}
        self.build = new_build_folder(data_dir, self.live)
        try:
            self._open(live_manifest, reuse_live, embedded_text)
        except BaseException:
            shutil.rmtree(self.build, ignore_errors=True)
            raise

    def _open(
        self,
        live_manifest: dict[str, Any],
        reuse_live: bool,
        embedded_text: Callable[[str, str], str],
    ) -> None:
        data_dir, params = self.data_dir, self.params
        self.generation = generation_number(self.build)
        self.db = DatabaseWriter(data_dir / DATABASE_FILE, self.generation)
        # Rows of a format-2 live generation are kept; anything newer is from a dead writer.
        self.live_number = generation_number(self.live) if self.live_format == 2 else 0
        self.db.recover(self.live_number)
        self.db.purge(oldest_kept(data_dir))
        self.segments: list[Segment] = []
        self.dead: list[np.ndarray | None] = []
        if self.live is not None and self.live_format == FORMAT_VERSION:
            self._open_live_segments(self.live, live_manifest)
        self.next_id = self._first_free_id(live_manifest)
        self.journal = EmbeddingJournal(data_dir / JOURNAL_FILE, params["model"], params["dim"])
        self._embedded_text = embedded_text
        self._reuse_live = reuse_live
        self._reuse: ReuseIndex | None = None
        self._writer: SegmentWriter | None = None
        self._live_space: RowSpace | None = None
        self.stats = WriteStats()
        self.first_new_id = self.next_id
        self._removed: list[np.ndarray] = []
        if self.base is None and self.live is not None and self.live_format == FORMAT_VERSION:
            # From scratch on top of a format-2 generation: everything it holds goes (its
            # segments stay readable as a source of embeddings to reuse).
            old = self.db.live_articles(generation_number(self.live))
            self.remove([a.version for a in old.values()])

    def _open_live_segments(self, live: Path, manifest: dict[str, Any]) -> None:
        for entry in manifest.get("segments", []):
            self.segments.append(Segment(live / SEGMENTS_DIR / entry["name"]))
            path = live / DELETED_DIR / f"{entry['name']}.npy"
            self.dead.append(np.load(path) if path.exists() else None)

    def _first_free_id(self, manifest: dict[str, Any]) -> int:
        """Chunk ids are never reused: old segments may still hold a removed chunk's row."""
        candidates = [int(manifest.get("next_chunk_id", 1))]
        row = self.db.conn.execute("SELECT MAX(id) FROM chunks").fetchone()
        candidates.append(int(row[0] or 0) + 1)
        if self.live is not None and self.live_format == 1:
            ids = Format1Rows(self.live).chunk_ids
            candidates.append(int(ids.max()) + 1 if len(ids) else 1)
        return max(candidates)

    def live_articles(self) -> dict[str, LiveArticle]:
        """The articles of the generation this one starts from."""
        if self.base is None:
            return {}
        return self.db.live_articles(generation_number(self.base))

    def upgraded_hashes(self) -> dict[str, str]:
        """Content hash by article id of the format-1 generation being upgraded (else empty),
        so that an upgrade reports what changed since that index, not "all added"."""
        if self.live is None or self.live_format != 1:
            return {}
        reader = Format1Reader(self.live)
        try:
            return dict(reader.db.execute("SELECT id, content_hash FROM articles"))
        finally:
            reader.db.close()

    def _reuse_index(self) -> ReuseIndex:
        """Where embeddings are looked up before embedding (built on first need)."""
        if self._reuse is None:
            sources: list[VectorSource] = [self.journal]
            if self._reuse_live and self.live is not None:
                if self.live_format == FORMAT_VERSION:
                    sources.extend(SegmentSource(s) for s in self.segments)
                elif read_manifest(self.live).get("model") == self.params["model"]:
                    sources.append(
                        Format1Source(self.live, self.params["model"], self._embedded_text)
                    )
            self._reuse = ReuseIndex(sources)
        return self._reuse

    def remove(self, versions: Sequence[int]) -> None:
        """Drop article versions from the new generation (tombstoning their rows)."""
        if not versions:
            return
        with self.db.transaction():
            chunk_ids = self.db.remove_versions(list(versions))
        self.stats.chunks_removed += len(chunk_ids)
        self._removed.append(chunk_ids)
        self._tombstone(chunk_ids)

    def _tombstone(self, chunk_ids: np.ndarray) -> None:
        if not len(chunk_ids) or not self.segments:
            return
        if self._live_space is None:
            self._live_space = RowSpace(self.segments, self.dead)
        space = self._live_space
        rows, _ = space.find(chunk_ids)
        for i in np.unique(np.searchsorted(space.offsets, rows, side="right") - 1):
            picked = rows[(rows >= space.offsets[i]) & (rows < space.offsets[i + 1])]
            mask = self.dead[i]
            mask = np.zeros(self.segments[i].rows, dtype=bool) if mask is None else mask.copy()
            mask[picked - space.offsets[i]] = True
            self.dead[i] = mask
        space.live[rows] = False

    def keep_signatures(self, signatures: Sequence[tuple[int, tuple[int, int] | None]]) -> None:
        """Record the file size and mtime unchanged articles were read from this time."""
        if signatures:
            with self.db.transaction():
                for version, signature in signatures:
                    self.db.set_signature(version, signature)

    def add(self, articles: Sequence[ChunkedArticle], embed: Embed) -> None:
        """Store a batch of articles: embed what is not known, then SQLite, then a segment."""
        texts = [t for a in articles for t in a.embedded]
        keys = content_keys(self.params["model"], texts)
        vectors = self._vectors_for(texts, keys, embed)
        ids = np.arange(self.next_id, self.next_id + len(texts), dtype=np.int64)
        self.next_id += len(texts)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.db.transaction():
            start = 0
            for article in articles:
                n = len(article.spans)
                chunk_rows = [
                    (int(cid), s, e, text)
                    for cid, (s, e, text) in zip(ids[start : start + n], article.spans, strict=True)
                ]
                fields = (*article.fields[:8], now, article.fields[8])
                self.db.insert_article(fields, article.signature, chunk_rows)
                start += n
        counts = [term_counts(t) for a in articles for t in a.lexical]
        self._append_rows(ids, keys, vectors, counts)
        self.stats.chunks_added += len(texts)
        self.stats.articles_added += len(articles)

    def _vectors_for(self, texts: list[str], keys: np.ndarray, embed: Embed) -> np.ndarray:
        vectors = np.zeros((len(texts), self.params["dim"]), dtype=np.float16)
        found, reused = self._reuse_index().lookup(keys)
        if found.any():
            vectors[found] = reused
        self.stats.reused += int(found.sum())
        missing = np.flatnonzero(~found)
        first = {}  # the same text twice in one batch is embedded once
        for i in missing.tolist():
            first.setdefault(keys[i], i)
        todo = list(first.values())
        for start in range(0, len(todo), EMBED_SLICE):
            part = todo[start : start + EMBED_SLICE]
            log.debug("embedding texts %d-%d of this batch", start + 1, start + len(part))
            embedded = np.asarray(embed([texts[i] for i in part]), dtype=np.float16)
            self.journal.append(keys[part], embedded)
            vectors[part] = embedded
            self.stats.embedded += len(part)
        for i in missing.tolist():
            vectors[i] = vectors[first[keys[i]]]
        return vectors

    def _append_rows(
        self,
        ids: np.ndarray,
        keys: np.ndarray,
        vectors: np.ndarray,
        counts: list[tuple[np.ndarray, np.ndarray]],
    ) -> None:
        start = 0
        while start < len(ids):
            if self._writer is None:
                name = f"seg-{self.generation:06d}-{len(self.stats.new_segments) + 1:03d}"
                self._writer = SegmentWriter(self.build / SEGMENTS_DIR / name, self.params["dim"])
                self.stats.new_segments.append(name)
            room = SEGMENT_ROWS - self._writer.rows
            stop = min(len(ids), start + room)
            self._writer.append(ids[start:stop], keys[start:stop], vectors[start:stop],
                                counts[start:stop])  # fmt: skip
            start = stop
            if self._writer.rows >= SEGMENT_ROWS:
                self._close_segment()

    def _close_segment(self) -> None:
        if self._writer is not None:
            self.segments.append(self._writer.finish())
            self.dead.append(None)
            self._writer = None

    @property
    def changed(self) -> bool:
        return bool(self.stats.chunks_added or self.stats.chunks_removed) or self.base is None

    def publish(self, counts: tuple[int, int], approximate_from: int) -> Path:
        """Finish the generation and make it the live one."""
        self._close_segment()
        self._merge()
        self._link_and_tombstone()
        space = RowSpace(self.segments, self.dead)
        removed = np.concatenate(self._removed) if self._removed else np.zeros(0, np.int64)
        kind = write_dense_index(
            self.build, space, self.base, self.base_manifest, approximate_from,
            removed, self.first_new_id, self.params["dim"],
        )  # fmt: skip
        manifest = {
            **self.params,
            "format": FORMAT_VERSION,
            "index_type": kind["index_type"],
            **{k: v for k, v in kind.items() if k != "index_type"},
            "articles": counts[0],
            "chunks": counts[1],
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "next_chunk_id": self.next_id,
            "segments": [
                {"name": s.name, "rows": s.rows, "dead": int(d.sum()) if d is not None else 0}
                for s, d in zip(self.segments, self.dead, strict=True)
            ],
        }
        write_manifest(self.build, manifest)
        self.db.close()
        gen = publish(self.build)
        log.info("published %s: %d articles, %d chunks", gen.name, *counts)
        self.journal.discard()
        remove_stale(self.data_dir, gen)
        return gen

    def _merge(self) -> None:
        started = time.perf_counter()
        rows = [s.rows for s in self.segments]
        dead = [int(d.sum()) if d is not None else 0 for d in self.dead]
        for group in reversed(plan_merges(rows, dead)):
            name = f"seg-{self.generation:06d}-m{group[0]:03d}"
            parts = [(self.segments[i], self.dead[i]) for i in group]
            merged = merge_segments(parts, self.build / SEGMENTS_DIR / name)
            for i in reversed(group):
                del self.segments[i], self.dead[i]
            self.segments.insert(group[0], merged)
            self.dead.insert(group[0], None)
            log.info("merged %d segments into %s (%d rows) in %.1f s", len(group), name,
                     merged.rows, time.perf_counter() - started)  # fmt: skip
        # Segments with no live row left are dropped.
        keep = [d is None or not d.all() for d in self.dead]
        self.segments = [s for s, k in zip(self.segments, keep, strict=True) if k]
        self.dead = [d for d, k in zip(self.dead, keep, strict=True) if k]

    def _link_and_tombstone(self) -> None:
        """Hard-link the segments this generation shares with older ones; write tombstones."""
        (self.build / DELETED_DIR).mkdir(exist_ok=True)
        for segment, dead in zip(self.segments, self.dead, strict=True):
            target = self.build / SEGMENTS_DIR / segment.name
            if segment.folder != target:
                target.mkdir(parents=True)
                for item in segment.folder.iterdir():
                    link_or_copy(item, target / item.name)
            if dead is not None and dead.any():
                np.save(self.build / DELETED_DIR / f"{segment.name}.npy", dead)

    def abort(self) -> None:
        """Remove the unfinished build (SQLite rows it added are rolled back by the next
        writer, and are invisible meanwhile); the journal is kept for the next run."""
        self._writer = None
        if self.build.exists():  # not published: its rows can go (else they are needed)
            shutil.rmtree(self.build, ignore_errors=True)
            try:
                self.db.recover(self.live_number)
            except Exception as exc:  # a full disk, say: the next writer will do it
                log.debug("could not roll back the unfinished generation yet: %s", exc)
        self.db.close()
        if self.journal.records:
            self.journal.close()  # kept: the next run reuses what was embedded
        else:
            self.journal.discard()
