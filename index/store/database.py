"""The SQLite database of articles and chunks, shared by every kept generation.

One file (`store.sqlite`, WAL mode) is changed in place rather than copied per generation.
The generation guarantee (a reader of generation G sees exactly G's articles, whatever a
reindex is doing meanwhile) is kept by tagging rows instead of copying them:

- each row of `articles` is one *version* of an article: `added_gen` is the generation that
  added it, `removed_gen` the one that removed or replaced it (NULL while it is current);
  a chunk belongs to one version and never changes;
- generation G consists of the versions with `added_gen <= G` and `removed_gen` NULL or
  `> G`; every query of a reader filters on that (or looks up chunk ids that only G's own
  indexes hold: ids are never reused);
- a reindex building G+1 inserts versions tagged G+1 and sets `removed_gen = G+1` on the ones
  it drops, committing batch by batch; readers of G do not see any of it;
- a reindex that dies leaves rows tagged with a generation that was never published: the
  next writer deletes them and clears those `removed_gen` marks before it starts (`recover`);
- a version is physically deleted only once no kept generation can see it (`purge`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
SQL_BATCH = 500  # parameters per `IN (...)` list, well under SQLite's limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    version INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    source TEXT,
    author TEXT,
    published TEXT,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    indexed_at TEXT NOT NULL,
    text TEXT NOT NULL,
    file_size INTEGER,
    file_mtime_ns INTEGER,
    added_gen INTEGER NOT NULL,
    removed_gen INTEGER
);
CREATE INDEX IF NOT EXISTS articles_by_id ON articles(id);
CREATE INDEX IF NOT EXISTS articles_by_added ON articles(added_gen);
CREATE INDEX IF NOT EXISTS articles_by_removed ON articles(removed_gen)
    WHERE removed_gen IS NOT NULL;
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_version ON chunks(version);
"""

# Versions that generation :g holds.
VISIBLE = "a.added_gen <= :g AND (a.removed_gen IS NULL OR a.removed_gen > :g)"


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


@dataclass(frozen=True)
class LiveArticle:
    """What the writer needs to know about an article the base generation holds."""

    version: int
    content_hash: str
    path: str
    file_size: int | None
    file_mtime_ns: int | None


def connect_writer(path: Path) -> sqlite3.Connection:
    """The writer's connection: WAL (readers are never blocked), synced commits."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    return conn


class GenerationReader:
    """Reads of generation `generation` from the shared database; one connection per thread.

    Each connection also gets temporary views named `articles` and `chunks` that show this
    generation only, with the columns of format 1, for ad-hoc queries through `db`.
    """

    def __init__(self, path: Path, generation: int) -> None:
        self.path = path
        self.generation = generation
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        """A read-only connection for the calling thread."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            g = int(self.generation)
            visible = VISIBLE.replace(":g", str(g))
            conn.executescript(
                f"""CREATE TEMP VIEW articles AS
                      SELECT a.id, a.title, a.url, a.source, a.author, a.published, a.path,
                             a.content_hash, a.indexed_at, a.text
                      FROM main.articles a WHERE {visible};
                    CREATE TEMP VIEW chunks AS
                      SELECT c.id, a.id AS article_id, c.start, c."end", c.text
                      FROM main.chunks c JOIN main.articles a ON a.version = c.version
                      WHERE {visible};"""
            )
            self._local.conn = conn
        return conn

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Chunk rows with their article's citation fields, keyed by chunk id."""
        out: dict[int, ChunkRecord] = {}
        for start in range(0, len(ids), SQL_BATCH):
            batch = [int(i) for i in ids[start : start + SQL_BATCH]]
            marks = ",".join("?" * len(batch))
            rows = self.db.execute(
                f"""SELECT c.id, a.id, c.start, c."end", c.text,
                           a.title, a.url, a.source, a.published
                    FROM main.chunks c JOIN main.articles a ON a.version = c.version
                    WHERE c.id IN ({marks})""",
                batch,
            ).fetchall()
            out.update((row[0], ChunkRecord(*row)) for row in rows)
        return out

    def articles(self) -> list[ArticleRecord]:
        """Every article of the generation, newest published first, with its chunk count."""
        rows = self.db.execute(
            f"""SELECT a.id, a.title, a.url, a.source, a.author, a.published, a.path,
                       a.content_hash, a.indexed_at,
                       (SELECT COUNT(*) FROM main.chunks c WHERE c.version = a.version)
                FROM main.articles a WHERE {VISIBLE}
                ORDER BY a.published IS NULL, a.published DESC, a.indexed_at DESC, a.id""",
            {"g": self.generation},
        ).fetchall()
        return [ArticleRecord(*row) for row in rows]

    def article_text(self, article_id: str) -> str | None:
        row = self.db.execute(
            f"SELECT a.text FROM main.articles a WHERE a.id = :id AND {VISIBLE}",
            {"id": article_id, "g": self.generation},
        ).fetchone()
        return row[0] if row else None

    def chunk_ids_where(
        self,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        as_of: str | None = None,
    ) -> np.ndarray:
        """Chunk ids of the articles from `source` published between `since` and `until`
        (ISO dates, inclusive), and not after `as_of` (undated articles pass that one); each
        condition applies only when given."""
        clauses, params = [VISIBLE], {"g": self.generation}
        if source:
            clauses.append("lower(a.source) = lower(:source)")
            params["source"] = source.strip()
        if since:
            clauses.append("a.published IS NOT NULL AND substr(a.published, 1, 10) >= :since")
            params["since"] = since
        if until:
            clauses.append("a.published IS NOT NULL AND substr(a.published, 1, 10) <= :until")
            params["until"] = until
        if as_of:
            clauses.append("(a.published IS NULL OR substr(a.published, 1, 10) <= :as_of)")
            params["as_of"] = as_of
        rows = self.db.execute(
            "SELECT c.id FROM main.chunks c JOIN main.articles a ON a.version = c.version "
            f"WHERE {' AND '.join(clauses)}",
            params,
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))


class DatabaseWriter:
    """The changes one reindex makes, all tagged with the generation it builds."""

    def __init__(self, path: Path, generation: int) -> None:
        self.generation = generation
        self.conn = connect_writer(path)

    def recover(self, live: int) -> None:
        """Forget every change of a generation after `live` (a reindex that died)."""
        with self.transaction():
            self.conn.execute(
                "DELETE FROM chunks WHERE version IN "
                "(SELECT version FROM articles WHERE added_gen > ?)",
                (live,),
            )
            gone = self.conn.execute("DELETE FROM articles WHERE added_gen > ?", (live,)).rowcount
            back = self.conn.execute(
                "UPDATE articles SET removed_gen = NULL WHERE removed_gen > ?", (live,)
            ).rowcount
        if gone or back:
            log.info(
                "rolled back an unfinished reindex: %d versions dropped, %d restored", gone, back
            )

    def purge(self, oldest_kept: int) -> None:
        """Delete the versions no kept generation can see any more."""
        with self.transaction():
            self.conn.execute(
                "DELETE FROM chunks WHERE version IN "
                "(SELECT version FROM articles WHERE removed_gen <= ?)",
                (oldest_kept,),
            )
            self.conn.execute("DELETE FROM articles WHERE removed_gen <= ?", (oldest_kept,))

    def live_articles(self, base: int) -> dict[str, LiveArticle]:
        """Every article of generation `base` by id."""
        rows = self.conn.execute(
            f"""SELECT a.id, a.version, a.content_hash, a.path, a.file_size, a.file_mtime_ns
                FROM articles a WHERE {VISIBLE}""",
            {"g": base},
        )
        return {row[0]: LiveArticle(*row[1:]) for row in rows}

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    def insert_article(
        self,
        fields: Sequence[object],
        signature: tuple[int, int] | None,
        chunks: Iterable[tuple[int, int, int, str]],
    ) -> int:
        """Add one article version (its 10 format-1 columns) and its (id, start, end, text)
        chunks; return the version. Call inside `transaction()`."""
        size, mtime = signature if signature is not None else (None, None)
        cursor = self.conn.execute(
            "INSERT INTO articles (id, title, url, source, author, published, path, "
            "content_hash, indexed_at, text, file_size, file_mtime_ns, added_gen) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*fields, size, mtime, self.generation),
        )
        version = int(cursor.lastrowid or 0)
        self.conn.executemany(
            'INSERT INTO chunks (id, version, start, "end", text) VALUES (?,?,?,?,?)',
            ((cid, version, start, end, text) for cid, start, end, text in chunks),
        )
        return version

    def remove_versions(self, versions: Sequence[int]) -> np.ndarray:
        """Mark versions as removed by this generation; return their chunk ids."""
        gone: list[int] = []
        for start in range(0, len(versions), SQL_BATCH):
            batch = list(versions[start : start + SQL_BATCH])
            marks = ",".join("?" * len(batch))
            gone.extend(
                r[0]
                for r in self.conn.execute(
                    f"SELECT id FROM chunks WHERE version IN ({marks})", batch
                )
            )
            self.conn.execute(
                f"UPDATE articles SET removed_gen = ? WHERE version IN ({marks})",
                [self.generation, *batch],
            )
        return np.asarray(sorted(gone), dtype=np.int64)

    def set_signature(self, version: int, signature: tuple[int, int] | None) -> None:
        """Record the file size and mtime an unchanged article was read from (these columns
        only help the writer skip unchanged files, so changing them in place is safe)."""
        size, mtime = signature if signature is not None else (None, None)
        self.conn.execute(
            "UPDATE articles SET file_size = ?, file_mtime_ns = ? WHERE version = ?",
            (size, mtime, version),
        )

    def chunk_rows(self, base: int) -> Iterable[tuple[int, str, str]]:
        """(chunk id, title, text) of every chunk of generation `base`, by chunk id."""
        return self.conn.execute(
            f"""SELECT c.id, a.title, c.text FROM chunks c
                JOIN articles a ON a.version = c.version WHERE {VISIBLE} ORDER BY c.id""",
            {"g": base},
        )

    def counts(self, generation: int) -> tuple[int, int]:
        """(articles, chunks) of a generation."""
        articles = self.conn.execute(
            f"SELECT COUNT(*) FROM articles a WHERE {VISIBLE}", {"g": generation}
        ).fetchone()[0]
        chunks = self.conn.execute(
            f"SELECT COUNT(*) FROM chunks c JOIN articles a ON a.version = c.version "
            f"WHERE {VISIBLE}",
            {"g": generation},
        ).fetchone()[0]
        return int(articles), int(chunks)

    def close(self) -> None:
        self.conn.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an exception)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
