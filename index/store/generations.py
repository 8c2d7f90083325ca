"""The on-disk index: immutable generation folders, each a FAISS index + SQLite + manifest.

Layout of a data directory::

    CURRENT             names the live generation; replaced atomically (os.replace)
    gen-000007/         one complete, never-modified snapshot
        manifest.json   format version, model id, dimension, chunker settings, counts
        store.sqlite    articles and chunks
        vectors.faiss   chunk embeddings; FAISS ids are chunk ids
    .writer.lock        held (flock) by the one running reindex

A reindex builds the next generation in a temporary folder and only then points CURRENT at
it, so a crash or kill at any moment leaves the previous generation fully usable, and
readers, which open a generation read-only, are never blocked.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import DataDirError, IndexMismatchError, IndexMissingError
from index.store.vectors import FLAT, DenseIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT_FILE = "CURRENT"
MANIFEST_FILE = "manifest.json"
SQLITE_FILE = "store.sqlite"
FAISS_FILE = "vectors.faiss"
GENERATIONS_KEPT = 2  # the live one and its predecessor, for readers that are mid-open

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT,
    source TEXT,
    author TEXT,
    published TEXT,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
"""


@dataclass(frozen=True)
class ArticleRecord:
    """An indexed article's metadata."""

    id: str
    title: str
    url: str | None
    source: str | None
    author: str | None
    published: str | None
    path: str
    content_hash: str
    indexed_at: str
    chunks: int = 0


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with its article's citation fields."""

    id: int
    article_id: str
    start: int
    end: int
    text: str
    title: str
    url: str | None
    source: str | None
    published: str | None


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary name and `os.replace`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_generation(data_dir: Path) -> Path | None:
    """The live generation folder, or None when nothing has been indexed yet."""
    try:
        name = (data_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    gen = data_dir / name
    return gen if gen.is_dir() else None


def generation_number(path: Path | None) -> int:
    return int(path.name.split("-")[1]) if path is not None else 0


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data directory, or raise DataDirError with one clear sentence."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataDirError(
            f"Cannot write to the data directory {data_dir}: {exc.strerror or exc}. "
            "Choose another with --data or CITEBOT_DATA_DIR."
        ) from exc


def read_manifest(gen: Path) -> dict[str, Any]:
    return json.loads((gen / MANIFEST_FILE).read_text(encoding="utf-8"))


def check_compatible(manifest: dict[str, Any], expected: dict[str, Any], where: Path) -> None:
    """Refuse an index built with another model, dimension or chunker settings."""
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index in {where} has format {manifest.get('format')}, this citebot reads "
            f"format {FORMAT_VERSION}: run `citebot index --rebuild` to rebuild it."
        )
    built, wanted = str(manifest.get("model")), str(expected.get("model"))
    if built != wanted and built.partition("+")[0] == wanted.partition("+")[0]:
        was, now = built.partition("+")[2] or "torch", wanted.partition("+")[2] or "torch"
        raise IndexMismatchError(
            f"The index in {where} was embedded with the {was} backend, but "
            f"CITEBOT_EMBED_BACKEND is {now}: run `citebot index --rebuild`, or set "
            f"CITEBOT_EMBED_BACKEND={was}."
        )
    for key in ("model", "dim", "chunker"):
        if manifest.get(key) != expected.get(key):
            raise IndexMismatchError(
                f"The index in {where} was built with {key} {manifest.get(key)!r}, but the "
                f"current setting is {expected.get(key)!r}: run `citebot index --rebuild` "
                "to reindex with the current settings."
            )


class IndexSnapshot:
    """One generation opened read-only; safe to search from several threads."""

    def __init__(self, gen: Path) -> None:
        self.path = gen
        self.manifest = read_manifest(gen)
        self.generation = generation_number(gen)
        self.vectors = DenseIndex(gen, FAISS_FILE, self.manifest.get("index_type", FLAT))
        self._db_uri = f"file:{gen / SQLITE_FILE}?mode=ro&immutable=1"
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        """A read-only connection for the calling thread."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._db_uri, uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    @property
    def chunk_count(self) -> int:
        return int(self.vectors.ntotal)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Nearest chunks by inner product (cosine on normalised vectors)."""
        return self.vectors.search(query, k)

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Chunk rows with their article's citation fields, keyed by chunk id."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"""SELECT c.id, c.article_id, c.start, c."end", c.text,
                       a.title, a.url, a.source, a.published
                FROM chunks c JOIN articles a ON a.id = c.article_id
                WHERE c.id IN ({marks})""",
            list(ids),
        ).fetchall()
        return {row[0]: ChunkRecord(*row) for row in rows}

    def articles(self) -> list[ArticleRecord]:
        """Every indexed article, newest published first, with its chunk count."""
        rows = self.db.execute(
            """SELECT a.id, a.title, a.url, a.source, a.author, a.published, a.path,
                      a.content_hash, a.indexed_at, COUNT(c.id)
               FROM articles a LEFT JOIN chunks c ON c.article_id = a.id
               GROUP BY a.id
               ORDER BY a.published IS NULL, a.published DESC, a.indexed_at DESC, a.id"""
        ).fetchall()
        return [ArticleRecord(*row) for row in rows]

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def open_snapshot(data_dir: Path, expected: dict[str, Any] | None = None) -> IndexSnapshot:
    """Open the live generation, checking it was built with the expected settings."""
    gen = current_generation(data_dir)
    if gen is None:
        raise IndexMissingError(f"No index in {data_dir} yet: run `citebot index` to build one.")
    snapshot = IndexSnapshot(gen)
    if expected is not None:
        check_compatible(snapshot.manifest, expected, data_dir)
    return snapshot


def new_database(path: Path, source: Path | None) -> sqlite3.Connection:
    """A writable database at `path`, a copy of `source` when there is one."""
    conn = sqlite3.connect(path)
    if source is not None:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src:
            src.backup(conn)
    conn.executescript(SCHEMA)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def remove_stale(data_dir: Path, live: Path | None) -> None:
    """Delete unfinished builds and generations older than the ones kept."""
    gens = sorted(p for p in data_dir.glob("gen-*") if p.is_dir() and "." not in p.name)
    keep = {p for p in gens[-GENERATIONS_KEPT:]}
    if live is not None:
        keep.add(live)
    for path in data_dir.glob("gen-*"):
        if path not in keep:
            log.debug("removing stale %s", path)
            shutil.rmtree(path, ignore_errors=True)


def publish(data_dir: Path, build_dir: Path, gen_name: str) -> Path:
    """Move a finished build into place and make it the live generation."""
    final = data_dir / gen_name
    for path in build_dir.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    os.replace(build_dir, final)
    fsync_dir(data_dir)
    write_atomic(data_dir / CURRENT_FILE, f"{gen_name}\n".encode())
    return final


def ids_array(ids: Iterable[int]) -> np.ndarray:
    return np.fromiter(ids, dtype=np.int64)
