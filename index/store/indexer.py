"""Incremental, crash-safe reindexing of an articles folder into a data directory."""

from __future__ import annotations

import fcntl
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.embed.embedder import TITLE_TOKENS, Embedder, passage_for_embedding
from index.errors import IndexMismatchError, ReindexRunningError
from index.ingest.chunking import chunk_text
from index.ingest.readers import MAX_ARTICLE_MB, Article, IngestFailure, load_articles
from index.store.generations import (
    FAISS_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    SQLITE_FILE,
    check_compatible,
    current_generation,
    ensure_data_dir,
    generation_number,
    ids_array,
    new_database,
    publish,
    read_manifest,
    remove_stale,
)
from index.store.lexical import LexicalIndex
from index.store.vectors import (
    APPROXIMATE_FROM,
    EMBEDDINGS_FILE,
    HNSW_SQ8,
    IDS_FILE,
    add_vectors,
    build_index,
    choose_kind,
)

log = logging.getLogger(__name__)

LOCK_FILE = ".writer.lock"
SPLITTER_VERSION = 1

# (stage, done, total): stage is "embedding" or "writing".
ProgressCallback = Callable[[str, int, int], None]


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

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
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
    return max(16, min(chunk_tokens, embedder.max_tokens - TITLE_TOKENS))


@contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """Hold the single-writer lock, or raise ReindexRunningError at once."""
    with open(data_dir / LOCK_FILE, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ReindexRunningError(
                f"Another reindex is running on {data_dir}; try again when it has finished."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
) -> IndexReport:
    """Bring the index in `data_dir` in line with `articles_dir`, embedding only what changed."""
    started = time.perf_counter()
    loaded = load_articles(
        articles_dir, max_article_mb=max_article_mb, indexed_paths=_indexed_paths(data_dir)
    )
    report = index_articles(
        loaded.articles,
        data_dir,
        embedder,
        chunk_tokens=chunk_tokens,
        overlap=overlap,
        rebuild=rebuild,
        approximate_from=approximate_from,
        progress=progress,
    )
    report.failed = loaded.failures
    report.seconds = time.perf_counter() - started
    return report


def index_articles(
    articles: list[Article],
    data_dir: Path,
    embedder: Embedder,
    *,
    chunk_tokens: int = 200,
    overlap: int = 1,
    rebuild: bool = False,
    approximate_from: int = APPROXIMATE_FROM,
    progress: ProgressCallback | None = None,
) -> IndexReport:
    """Make `articles` the content of the index in `data_dir` (the rest of `update_index`)."""
    started = time.perf_counter()
    ensure_data_dir(data_dir)
    params = index_params(embedder, chunk_tokens, overlap)
    with writer_lock(data_dir):
        live = current_generation(data_dir)
        remove_stale(data_dir, live)
        if live is not None and not rebuild:
            try:
                check_compatible(read_manifest(live), params, data_dir)
            except IndexMismatchError as exc:
                log.warning("%s Rebuilding from scratch.", exc)
                rebuild = True
        base = None if rebuild else live
        build = data_dir / f"gen-{generation_number(live) + 1:06d}.build"
        report = _apply(articles, base, build, embedder, params, approximate_from, progress)
    report.seconds = time.perf_counter() - started
    return report


def _apply(
    articles: list[Article],
    base: Path | None,
    build: Path,
    embedder: Embedder,
    params: dict[str, Any],
    approximate_from: int,
    progress: ProgressCallback | None,
) -> IndexReport:
    data_dir = build.parent
    old_hashes = _article_hashes(base)
    wanted = {a.id: a for a in articles}
    to_embed = [a for a in articles if old_hashes.get(a.id) != a.content_hash]
    removed = [aid for aid in old_hashes if aid not in wanted]
    report = IndexReport(
        added=sum(1 for a in to_embed if a.id not in old_hashes),
        updated=sum(1 for a in to_embed if a.id in old_hashes),
        removed=len(removed),
        unchanged=len(articles) - len(to_embed),
    )
    if base is not None and not report.changed:
        counts = read_manifest(base)
        report.articles, report.chunks = counts["articles"], counts["chunks"]
        return report

    build.mkdir()
    db = new_database(build / SQLITE_FILE, base / SQLITE_FILE if base else None)
    ids, vectors = _load_embeddings(base, embedder.dim)
    try:
        with db:
            stale = [a.id for a in to_embed if a.id in old_hashes] + removed
            gone = _delete_articles(db, stale)
            new_ids, new_vectors = _insert_articles(db, to_embed, embedder, params, progress)
        report.articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        report.chunks = db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        if progress:
            progress("writing", 0, 1)
        _build_lexical(db).save(build)
    finally:
        db.close()
    new_vectors = new_vectors.astype(np.float16)  # the precision every generation keeps
    keep = ~np.isin(ids, gone)
    ids = np.concatenate([ids[keep], new_ids])
    vectors = np.concatenate([vectors[keep], new_vectors])
    np.save(build / IDS_FILE, ids)
    np.save(build / EMBEDDINGS_FILE, vectors)
    kind = choose_kind(len(ids), approximate_from)
    index = _extend_graph(base, kind, len(gone), new_ids, new_vectors)
    if index is None:
        index = build_index(kind, ids, vectors)
    faiss.write_index(index, str(build / FAISS_FILE))
    manifest = {
        **params,
        "index_type": kind,
        "articles": report.articles,
        "chunks": report.chunks,
        "created_at": _now(),
    }
    (build / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    gen = publish(data_dir, build, build.name.removesuffix(".build"))
    log.info("published %s: %d articles, %d chunks", gen.name, report.articles, report.chunks)
    remove_stale(data_dir, gen)
    return report


def _extend_graph(
    base: Path | None, kind: str, removed: int, new_ids: np.ndarray, new_vectors: np.ndarray
) -> faiss.Index | None:
    """The previous generation's HNSW graph with the new chunks added, when nothing was removed.

    An HNSW graph cannot remove vectors, so a reindex that deletes or edits articles rebuilds it
    (~27 minutes at 1M chunks on 2 cores); one that only adds articles, the usual case for news,
    adds them to a copy of the old graph instead. Rows stay aligned with the float16 copy, where
    the new chunks are appended too.
    """
    if base is None or removed or kind != HNSW_SQ8:
        return None
    if read_manifest(base).get("index_type") != HNSW_SQ8:
        return None
    index = faiss.read_index(str(base / FAISS_FILE))
    add_vectors(index, new_ids, new_vectors)
    log.info("added %d chunks to the previous HNSW graph", len(new_ids))
    return index


def _build_lexical(db: Any) -> LexicalIndex:
    """BM25 over every chunk (title + text); rebuilt whole, it takes seconds per 100k chunks."""
    rows = db.execute(
        "SELECT c.id, a.title || ' ' || c.text FROM chunks c JOIN articles a ON a.id = c.article_id"
        " ORDER BY c.id"
    ).fetchall()
    return LexicalIndex.build([r[0] for r in rows], [r[1] for r in rows])


def _article_hashes(base: Path | None) -> dict[str, str]:
    if base is None:
        return {}
    import sqlite3

    with sqlite3.connect(f"file:{base / SQLITE_FILE}?mode=ro", uri=True) as conn:
        return dict(conn.execute("SELECT id, content_hash FROM articles"))


def _indexed_paths(data_dir: Path) -> dict[str, str]:
    """Article id -> the file it was read from, in the live generation (settles duplicate ids
    in favour of the file that already holds the article)."""
    import sqlite3

    try:
        live = current_generation(data_dir)
        if live is None:
            return {}
        with sqlite3.connect(f"file:{live / SQLITE_FILE}?mode=ro", uri=True) as conn:
            return dict(conn.execute("SELECT id, path FROM articles"))
    except (OSError, sqlite3.Error):  # no readable index: the reindex itself will say why
        return {}


def _load_embeddings(base: Path | None, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The previous generation's chunk ids and float16 embeddings (memory-mapped)."""
    if base is None:
        return np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float16)
    return np.load(base / IDS_FILE), np.load(base / EMBEDDINGS_FILE, mmap_mode="r")


def _delete_articles(db: Any, article_ids: list[str]) -> np.ndarray:
    """Delete articles and their chunks; return the deleted chunk ids."""
    gone: list[int] = []
    for start in range(0, len(article_ids), 500):
        batch = article_ids[start : start + 500]
        marks = ",".join("?" * len(batch))
        gone.extend(
            row[0]
            for row in db.execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", batch)
        )
        db.execute(f"DELETE FROM chunks WHERE article_id IN ({marks})", batch)
        db.execute(f"DELETE FROM articles WHERE id IN ({marks})", batch)
    return ids_array(gone)


def _insert_articles(
    db: Any,
    articles: list[Article],
    embedder: Embedder,
    params: dict[str, Any],
    progress: ProgressCallback | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Store articles and their chunks; return the new chunk ids and their embeddings."""
    if not articles:
        return ids_array([]), np.zeros((0, embedder.dim), dtype=np.float32)
    next_id = (db.execute("SELECT MAX(id) FROM chunks").fetchone()[0] or 0) + 1
    now = _now()
    rows, texts = [], []
    for article in articles:
        db.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                article.id,
                article.title,
                article.url,
                article.source,
                article.author,
                article.published,
                article.path,
                article.content_hash,
                now,
                article.text,
            ),
        )
        chunker = params["chunker"]
        for chunk in chunk_text(
            article.text, embedder.count_tokens, chunker["max_tokens"], chunker["overlap"]
        ):
            rows.append((next_id, article.id, chunk.start, chunk.end, chunk.text))
            texts.append(passage_for_embedding(article.title, chunk.text, embedder))
            next_id += 1
    db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?)", rows)
    log.info("embedding %d chunks of %d articles", len(texts), len(articles))
    embedded = embedder.embed(
        texts,
        progress=(lambda done, total: progress("embedding", done, total)) if progress else None,
    )
    return ids_array(r[0] for r in rows), embedded


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
