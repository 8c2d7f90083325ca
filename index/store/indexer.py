"""Incremental, crash-safe, streaming reindexing of articles into a data directory.

A reindex reads the articles folder twice: first to find what changed (files whose size and
modification time match what was indexed are not even read), then to process only the
changed articles, a batch at a time (`BATCH_CHUNKS`): chunk, look embeddings up by content,
embed the rest, store. Memory therefore does not grow with the collection or the change, and
the time taken follows the change. See writer.py for what is written, layout.py for where.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.embedder import TITLE_TOKENS, Embedder, passage_for_embedding
from index.errors import DiskFullError, IndexMismatchError
from index.ingest.chunking import chunk_text
from index.ingest.readers import MAX_ARTICLE_MB, Article, IngestFailure
from index.progress import EMBEDDING, READING, WRITING, Progress, ProgressCallback
from index.store.files import free_bytes, is_disk_full, tree_bytes
from index.store.generations import check_compatible, describe_changes
from index.store.layout import FORMAT_VERSION, VECTORS_FILE, current_generation, read_manifest
from index.store.sources import ArticleSource, FolderSource, Plan, Source
from index.store.vectors import APPROXIMATE_FROM
from index.store.writer import ChunkedArticle, GenerationWriter
from index.store.writer_lock import ReindexClaim, writer_lock

log = logging.getLogger(__name__)

__all__ = ["IndexReport", "index_articles", "index_params", "update_index", "writer_lock"]

SPLITTER_VERSION = 1
BATCH_CHUNKS = 512  # chunks chunked, embedded and stored together
MIN_CHUNK_TOKENS = 16
BYTES_PER_TEXT_CHAR = 6  # disk an indexed character of text takes, all files (measured: see README)
MIB = 1 << 20


@dataclass
class IndexReport:
    """What one reindex did; `failed` lists the files that were skipped and why."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[IngestFailure] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    seconds: float = 0.0
    embedded: int = 0  # texts the model embedded this run (logged; not in the JSON)
    reused: int = 0  # chunks whose embedding was found by content (unchanged text, a resume)

    def as_json(self) -> dict[str, Any]:
        """The `citebot index --json` object (README: added ... seconds)."""
        data = asdict(self)
        del data["embedded"], data["reused"]
        data["failed"] = [{"path": f.path, "error": f.error} for f in self.failed]
        data["seconds"] = round(self.seconds, 3)
        return data

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def index_params(embedder: Embedder, chunk_tokens: int, overlap: int) -> dict[str, Any]:
    """The settings an index is built with; a mismatch on open means reindex."""
    return {
        "format": FORMAT_VERSION,
        "model": embedder.model_id,
        "dim": embedder.dim,
        "chunker": {
            "max_tokens": effective_chunk_tokens(embedder, chunk_tokens),
            "overlap": overlap,
            "title_tokens": TITLE_TOKENS,
            "splitter": SPLITTER_VERSION,
        },
    }


def effective_chunk_tokens(embedder: Embedder, chunk_tokens: int) -> int:
    """Chunk size that still fits the model window once the title prefix is added."""
    return max(MIN_CHUNK_TOKENS, min(chunk_tokens, embedder.max_tokens - TITLE_TOKENS))


def update_index(
    articles_dir: Path,
    data_dir: Path,
    embedder: Embedder,
    *,
    chunk_tokens: int = 200,
    overlap: int = 1,
    rebuild: bool = False,
    approximate_from: int = APPROXIMATE_FROM,
    progress: ProgressCallback | None = None,
    max_article_mb: float = MAX_ARTICLE_MB,
    claim: ReindexClaim | None = None,
) -> IndexReport:
    """Bring the index in `data_dir` in line with `articles_dir`, embedding only what changed
    (a file over `max_article_mb` is skipped and reported)."""
    source = FolderSource(Path(articles_dir), max_article_mb)
    return _reindex(source, Path(data_dir), embedder, chunk_tokens, overlap, rebuild,
                    approximate_from, progress, claim)  # fmt: skip


def index_articles(
    articles: Iterable[Article],
    data_dir: Path,
    embedder: Embedder,
    *,
    chunk_tokens: int = 200,
    overlap: int = 1,
    rebuild: bool = False,
    approximate_from: int = APPROXIMATE_FROM,
    progress: ProgressCallback | None = None,
    claim: ReindexClaim | None = None,
) -> IndexReport:
    """Make `articles` the content of the index in `data_dir` (a list is read twice, to
    report progress against a total; any other iterable once)."""
    return _reindex(ArticleSource(articles), Path(data_dir), embedder, chunk_tokens, overlap,
                    rebuild, approximate_from, progress, claim)  # fmt: skip


def _reindex(
    source: Source,
    data_dir: Path,
    embedder: Embedder,
    chunk_tokens: int,
    overlap: int,
    rebuild: bool,
    approximate_from: int,
    progress: ProgressCallback | None,
    claim: ReindexClaim | None,
) -> IndexReport:
    started = time.perf_counter()
    source.check()
    params = index_params(embedder, chunk_tokens, overlap)
    own = claim is None
    claim = claim or ReindexClaim(data_dir)
    try:
        claim.lock_files()
        from_scratch = rebuild or _settings_changed(data_dir, params)
        run = _Run(source, data_dir, embedder, params, progress)
        report = run.execute(
            from_scratch, reuse_live=not rebuild, approximate_from=approximate_from
        )
    finally:
        if own:
            claim.release()
    report.seconds = time.perf_counter() - started
    return report


def _settings_changed(data_dir: Path, params: dict[str, Any]) -> bool:
    """Whether the live index was built with other settings (then it is rebuilt, reusing the
    embeddings of every chunk whose embedded text is unchanged)."""
    live = current_generation(data_dir)
    if live is None:
        return False
    manifest = read_manifest(live)
    try:
        check_compatible(manifest, params, data_dir)
    except IndexMismatchError:
        changes = describe_changes(manifest, params) or ["another backend or format"]
        log.warning(
            "The settings changed since the index in %s was built (%s): rebuilding it now; "
            "chunks whose text is unchanged are not embedded again.",
            data_dir,
            "; ".join(changes),
        )
        return True
    if manifest.get("format") != FORMAT_VERSION:
        log.warning(
            "Upgrading the index in %s to format %d; stored embeddings are reused.",
            data_dir,
            FORMAT_VERSION,
        )
    return False


class _Run:
    """One reindex: plan, check space, process the changed articles in batches, publish."""

    def __init__(
        self,
        source: Source,
        data_dir: Path,
        embedder: Embedder,
        params: dict[str, Any],
        progress: ProgressCallback | None,
    ) -> None:
        self.source = source
        self.data_dir = data_dir
        self.embedder = embedder
        self.params = params
        self.progress = progress
        self.report = IndexReport()
        self.need = 0

    def execute(self, from_scratch: bool, reuse_live: bool, approximate_from: int) -> IndexReport:
        writer = None
        try:
            writer = GenerationWriter(
                self.data_dir,
                self.params,
                from_scratch=from_scratch,
                reuse_live=reuse_live,
                embedded_text=lambda title, text: passage_for_embedding(title, text, self.embedder),
            )
            live = writer.live_articles()
            plan = self.source.plan(live, self._reading)
            self.report.failed = plan.failures
            if not self._needs_generation(writer, plan):
                writer.keep_signatures(plan.signatures)
                writer.abort()
                return self._finish_unchanged(writer, plan)
            self._check_space(writer, plan)
            self._process(writer, plan, live)
            if writer.base is not None and not self.report.changed:
                writer.abort()  # a one-pass source that turned out unchanged
                return self._finish_unchanged(writer, plan)
            self._report(WRITING)
            counts = self._counts(writer, plan)
            writer.publish(counts, approximate_from)
        except BaseException as exc:
            if writer is not None:
                writer.abort()
            if is_disk_full(exc):
                raise self._disk_full() from exc
            raise
        self.report.articles, self.report.chunks = counts
        self.report.embedded, self.report.reused = writer.stats.embedded, writer.stats.reused
        log.info(
            "embedded %d texts, reused %d embeddings", self.report.embedded, self.report.reused
        )
        return self.report

    def _needs_generation(self, writer: GenerationWriter, plan: Plan) -> bool:
        if writer.base is None:
            return True  # first build, rebuild, or an upgrade from format 1
        return plan.changed is None or bool(plan.changed or plan.removed)

    def _finish_unchanged(self, writer: GenerationWriter, plan: Plan) -> IndexReport:
        self.report.unchanged = max(self.report.unchanged, plan.unchanged)
        manifest = writer.base_manifest
        self.report.articles, self.report.chunks = manifest["articles"], manifest["chunks"]
        return self.report

    def _check_space(self, writer: GenerationWriter, plan: Plan) -> None:
        """Refuse to start when the filesystem cannot hold what this reindex will write."""
        rewritten = tree_bytes(writer.base / VECTORS_FILE) if writer.base is not None else 0
        self.need = plan.chars * BYTES_PER_TEXT_CHAR + rewritten
        if plan.changed is None:
            return  # a one-pass source: the size of the change is unknown
        free = free_bytes(self.data_dir)
        if free < self.need:
            raise self._disk_full(free)

    def _disk_full(self, free: int | None = None) -> DiskFullError:
        free = free_bytes(self.data_dir) if free is None else free
        more = max(1, -(-(self.need - free) // MIB))
        still = (
            "the previous index is still in use"
            if current_generation(self.data_dir) is not None
            else "nothing was indexed"
        )
        return DiskFullError(
            f"Not enough disk space in {self.data_dir}: the new index needs about {more} MB "
            f"more; {still}."
        )

    def _process(self, writer: GenerationWriter, plan: Plan, live: dict) -> None:
        """Chunk, embed and store the changed articles, a batch at a time."""
        report, batch, chunks_in_batch = self.report, [], 0
        report.unchanged = plan.unchanged
        self._started = time.perf_counter()
        self._chars_total, self._chars_done, self._articles_done = plan.chars, 0, 0
        self._articles_total = len(plan.changed or ())
        replaced: list[int] = []
        upgraded = writer.upgraded_hashes()
        for article, signature in self.source.changed(plan):
            old = live.get(article.id)
            if old is not None and old.content_hash == article.content_hash:
                report.unchanged += 1  # a one-pass source: only now known to be unchanged
                plan.signatures.append((old.version, signature))
                continue
            if old is not None:
                replaced.append(old.version)
                report.updated += 1
            elif article.id in upgraded:  # stored anew in format 2, reported against format 1
                same = upgraded[article.id] == article.content_hash
                report.unchanged += same
                report.updated += not same
            else:
                report.added += 1
            item = self._chunked(article, signature)
            batch.append(item)
            chunks_in_batch += len(item.spans)
            if chunks_in_batch >= BATCH_CHUNKS:
                self._flush(writer, batch)
                batch, chunks_in_batch = [], 0
        self._flush(writer, batch)
        removed = [live[a].version for a in plan.removed_ids(live)]
        report.removed = len(removed) + len(set(upgraded) - plan.seen)
        writer.remove(replaced + removed)
        writer.keep_signatures(plan.signatures)

    def _chunked(self, article: Article, signature: tuple[int, int] | None) -> ChunkedArticle:
        chunker = self.params["chunker"]
        chunks = chunk_text(
            article.text, self.embedder.count_tokens, chunker["max_tokens"], chunker["overlap"]
        )
        return ChunkedArticle(
            article_id=article.id,
            fields=(article.id, article.title, article.url, article.source, article.author,
                    article.published, article.path, article.content_hash, article.text),
            signature=signature,
            spans=[(c.start, c.end, c.text) for c in chunks],
            embedded=[passage_for_embedding(article.title, c.text, self.embedder) for c in chunks],
            lexical=[f"{article.title} {c.text}" for c in chunks],
        )  # fmt: skip

    def _flush(self, writer: GenerationWriter, batch: list[ChunkedArticle]) -> None:
        if not batch:
            return
        n = sum(len(a.spans) for a in batch)
        log.info("embedding %d chunks of %d articles", n, len(batch))

        def embed(texts: list[str]) -> np.ndarray:
            vectors = self.embedder.embed(texts)
            self._report(EMBEDDING, extra=len(texts))
            return vectors

        writer.add(batch, embed)
        self._chunks_done = writer.stats.chunks_added
        self._articles_done += len(batch)
        self._chars_done += sum(len(a.fields[8]) for a in batch)  # type: ignore[arg-type]
        self._report(EMBEDDING)

    def _reading(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(Progress(stage=READING, done=done, total=total))

    def _report(self, stage: str, extra: int = 0) -> None:
        if self.progress is None:
            return
        if stage != EMBEDDING:
            self.progress(Progress(stage=stage))
            return
        done = getattr(self, "_chunks_done", 0) + extra
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        rate = done / elapsed
        total = done
        if self._chars_done and self._chars_total:
            per_char = self._chunks_done / self._chars_done
            total = max(done, round(per_char * self._chars_total))
        left = (total - done) / rate if rate > 0 and self._chars_done else None
        self.progress(
            Progress(stage=EMBEDDING, done=done, total=total, articles_done=self._articles_done,
                     articles_total=self._articles_total, chunks_done=done,
                     chunks_per_second=rate, seconds_left=left)
        )  # fmt: skip

    def _counts(self, writer: GenerationWriter, plan: Plan) -> tuple[int, int]:
        """(articles, chunks) of the new generation, from the base's counts and the change."""
        if writer.base is None:
            return writer.stats.articles_added, writer.stats.chunks_added
        base = writer.base_manifest
        return (
            int(base["articles"]) + self.report.added - self.report.removed,
            int(base["chunks"]) + writer.stats.chunks_added - writer.stats.chunks_removed,
        )
