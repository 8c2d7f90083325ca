"""Reading the index: a generation opened read-only, whatever its format.

`open_snapshot` is how retrieval and the engine get at the index; the layout, file names and
SQL it reads are in this package only (layout.py, database.py, segments.py, format1.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import IndexMismatchError, IndexMissingError
from index.store.database import ArticleRecord, ChunkRecord, GenerationReader
from index.store.files import write_atomic
from index.store.format1 import Format1Lexical, Format1Reader, open_dense
from index.store.layout import (
    CURRENT_FILE,
    DATABASE_FILE,
    DELETED_DIR,
    FORMAT_VERSION,
    SEGMENTS_DIR,
    VECTORS_FILE,
    current_generation,
    generation_number,
    read_manifest,
)
from index.store.lexical import LexicalIndex
from index.store.segments import RowSpace, Segment
from index.store.vectors import FLAT, DenseIndex, read_index

log = logging.getLogger(__name__)

READABLE_FORMATS = (1, FORMAT_VERSION)

__all__ = [
    "CURRENT_FILE",
    "ArticleRecord",
    "ChunkRecord",
    "IndexSnapshot",
    "check_compatible",
    "current_generation",
    "open_snapshot",
    "write_atomic",
]


def check_compatible(manifest: dict[str, Any], expected: dict[str, Any], where: Path) -> None:
    """Refuse an index built with another model, dimension or chunker settings."""
    if manifest.get("format") not in READABLE_FORMATS:
        raise IndexMismatchError(
            f"The index in {where} has format {manifest.get('format')}, which this citebot "
            f"cannot read: run `citebot index --rebuild` to rebuild it."
        )
    built, wanted = str(manifest.get("model")), str(expected.get("model"))
    if built != wanted and built.partition("+")[0] == wanted.partition("+")[0]:
        was, now = built.partition("+")[2] or "torch", wanted.partition("+")[2] or "torch"
        raise IndexMismatchError(
            f"The index in {where} was embedded with the {was} backend, but "
            f"CITEBOT_EMBED_BACKEND is {now}: run `citebot index --rebuild`, or set "
            f"CITEBOT_EMBED_BACKEND={was}."
        )
    changes = describe_changes(manifest, expected)
    if changes:
        raise IndexMismatchError(
            f"The index in {where} was built with other settings ({'; '.join(changes)}): "
            "run `citebot index` to reindex with the current settings."
        )


def describe_changes(manifest: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """What differs between the settings an index was built with and `expected`, in words."""
    changes = []
    if manifest.get("model") != expected.get("model"):
        changes.append(f"model {manifest.get('model')}, now {expected.get('model')}")
    elif manifest.get("dim") != expected.get("dim"):
        changes.append(f"dimension {manifest.get('dim')}, now {expected.get('dim')}")
    old, new = manifest.get("chunker") or {}, expected.get("chunker") or {}
    phrases = {
        "max_tokens": "chunks of at most {} word pieces, now {}",
        "overlap": "{} sentences of overlap between chunks, now {}",
        "title_tokens": "{} title word pieces embedded, now {}",
        "splitter": "sentence splitter version {}, now {}",
    }
    for key, phrase in phrases.items():
        if old.get(key) != new.get(key):
            changes.append(phrase.format(old.get(key), new.get(key)))
    return changes


class IndexSnapshot:
    """One generation opened read-only; safe to search from several threads.

    `vectors` is the dense index, `lexical` the BM25 index, both over the same chunks;
    the other methods read articles and chunks.
    """

    def __init__(self, gen: Path) -> None:
        self.path = gen
        self.manifest = read_manifest(gen)
        self.generation = generation_number(gen)
        self.format = int(self.manifest.get("format", 1))
        kind = self.manifest.get("index_type", FLAT)
        self._reader: GenerationReader | Format1Reader
        if self.format == 1:
            self.vectors = open_dense(gen, kind)
            self.lexical: LexicalIndex | Format1Lexical = Format1Lexical(gen)
            self._reader = Format1Reader(gen)
            return
        self.rows = open_segments(gen, self.manifest)
        self.vectors = DenseIndex(kind, read_index(gen / VECTORS_FILE, kind), self.rows)
        self.lexical = LexicalIndex(self.rows)
        self._reader = GenerationReader(gen.parent / DATABASE_FILE, self.generation)

    @property
    def db(self) -> Any:
        """A read-only SQLite connection for the calling thread, where `articles` and
        `chunks` show this generation only."""
        return self._reader.db

    @property
    def chunk_count(self) -> int:
        return int(self.vectors.ntotal)

    def chunks(self, ids: Sequence[int]) -> dict[int, ChunkRecord]:
        """Chunk rows with their article's citation fields, keyed by chunk id."""
        return self._reader.chunks(ids)

    def articles(self) -> list[ArticleRecord]:
        """Every indexed article, newest published first, with its chunk count."""
        return self._reader.articles()

    def article_text(self, article_id: str) -> str | None:
        return self._reader.article_text(article_id)

    def chunk_ids_where(
        self,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
        as_of: str | None = None,
    ) -> np.ndarray:
        """Chunk ids of the articles from `source` (any case) published on or after `since`
        and on or before `until` (ISO dates), and not after `as_of` (undated articles pass
        that one); each condition only when given."""
        return self._reader.chunk_ids_where(source, since, until, as_of)


def open_segments(gen: Path, manifest: dict[str, Any]) -> RowSpace:
    """The rows of a format-2 generation: its segments and their tombstones."""
    entries = manifest["segments"]
    segments = [Segment(gen / SEGMENTS_DIR / entry["name"]) for entry in entries]
    return RowSpace(segments, [_load_dead(gen, entry["name"]) for entry in entries])


def open_lexical(gen: Path) -> LexicalIndex | Format1Lexical:
    """The BM25 index of a generation folder."""
    manifest = read_manifest(gen)
    if int(manifest.get("format", 1)) == 1:
        return Format1Lexical(gen)
    return LexicalIndex(open_segments(gen, manifest))


def _load_dead(gen: Path, segment: str) -> np.ndarray | None:
    path = gen / DELETED_DIR / f"{segment}.npy"
    return np.load(path) if path.exists() else None


def open_snapshot(data_dir: Path, expected: dict[str, Any] | None = None) -> IndexSnapshot:
    """Open the live generation, checking it was built with the expected settings."""
    gen = current_generation(data_dir)
    if gen is None:
        raise IndexMissingError(f"No index in {data_dir} yet: run `citebot index` to build one.")
    snapshot = IndexSnapshot(gen)
    if expected is not None:
        check_compatible(snapshot.manifest, expected, data_dir)
    return snapshot
