"""The data directory: generation folders, the CURRENT pointer, manifests, and recovery.

Layout of a data directory (format 2)::

    CURRENT                 names the live generation; replaced atomically (os.replace)
    store.sqlite            articles and chunks of every kept generation (see database.py)
    gen-000007/             one complete generation, never modified once published
        manifest.json       format, model, dimension, chunker settings, counts, segments
        vectors.faiss       the candidate index over every live chunk (see vectors.py)
        segments/seg-…/     immutable segments (see segments.py), hard-linked from the
                            generation that wrote them, so an update writes only what changed
        deleted/seg-….npy   rows of each segment that this generation no longer holds
    embeddings.journal      embeddings of an unfinished reindex, reused when it is re-run
    .writer.lock            held (flock) by the one running reindex
    feedback.sqlite         the bot's answers and votes (not part of the index)

A reindex builds `gen-N.build/`, renames it to `gen-N` once every file in it is synced, and
only then points CURRENT at it. A crash can therefore leave: a build folder (removed by the
next writer), a published generation that CURRENT does not name yet (complete by
construction: the next writer makes it current), or a `.CURRENT.tmp-*` file (removed).
Format-1 generations (store.sqlite, vectors.faiss, bm25/, embeddings.f16.npy inside the
generation folder) are still read, and the next reindex upgrades them (see format1.py).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from index.errors import DataDirError
from index.store.files import fsync_dir, fsync_tree, write_atomic

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
CURRENT_FILE = "CURRENT"
MANIFEST_FILE = "manifest.json"
DATABASE_FILE = "store.sqlite"
JOURNAL_FILE = "embeddings.journal"
LOCK_FILE = ".writer.lock"
SEGMENTS_DIR = "segments"
DELETED_DIR = "deleted"
VECTORS_FILE = "vectors.faiss"
BUILD_SUFFIX = ".build"
GENERATIONS_KEPT = 2  # the live one and its predecessor, for readers that are mid-open

_GENERATION = re.compile(r"gen-(\d{6,})")


def generation_name(number: int) -> str:
    return f"gen-{number:06d}"


def generation_number(path: Path | None) -> int:
    """The number in a generation folder's name (0 for None)."""
    if path is None:
        return 0
    match = _GENERATION.fullmatch(path.name.removesuffix(BUILD_SUFFIX))
    return int(match[1]) if match else 0


def current_generation(data_dir: Path) -> Path | None:
    """The live generation folder, or None when nothing has been indexed yet."""
    try:
        name = (data_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    gen = data_dir / name
    return gen if _GENERATION.fullmatch(name) and gen.is_dir() else None


def read_manifest(gen: Path) -> dict[str, Any]:
    return json.loads((gen / MANIFEST_FILE).read_text(encoding="utf-8"))


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    write_atomic(folder / MANIFEST_FILE, json.dumps(manifest, indent=2).encode("utf-8"))


def published_generations(data_dir: Path) -> list[Path]:
    """Complete generation folders (a readable manifest), oldest first."""
    found = []
    for path in data_dir.glob("gen-*"):
        if not path.is_dir() or not _GENERATION.fullmatch(path.name):
            continue
        try:
            read_manifest(path)
        except (OSError, ValueError):
            log.warning("ignoring %s: it has no readable manifest", path)
            continue
        found.append(path)
    return sorted(found, key=generation_number)


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data directory, or raise DataDirError with one clear sentence."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-test-{id(data_dir)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataDirError(
            f"Cannot write to the data directory {data_dir}: {exc.strerror or exc}. "
            "Choose another with --data or CITEBOT_DATA_DIR."
        ) from exc


def recover(data_dir: Path) -> Path | None:
    """Bring a data directory a crash left behind back to a clean state; return the live
    generation. Only the writer (holding the lock) calls this.

    - a `.CURRENT.tmp-*` left by a write of CURRENT that was cut short is removed;
    - an unfinished `gen-N.build/` is removed;
    - a published generation newer than the one CURRENT names (the crash came between the
      rename and the switch) is complete, so it becomes the live one.
    """
    for tmp in data_dir.glob(f".{CURRENT_FILE}.tmp-*"):
        log.info("removing %s, left by an interrupted switch", tmp.name)
        tmp.unlink(missing_ok=True)
    for build in data_dir.glob(f"gen-*{BUILD_SUFFIX}"):
        log.info("removing the unfinished build %s", build.name)
        shutil.rmtree(build, ignore_errors=True)
    live = current_generation(data_dir)
    published = published_generations(data_dir)
    newest = published[-1] if published else None
    if newest is not None and generation_number(newest) > generation_number(live):
        log.warning(
            "%s was published but never made current (interrupted reindex): making it current",
            newest.name,
        )
        switch_current(data_dir, newest.name)
        live = newest
    return live


def new_build_folder(data_dir: Path, live: Path | None) -> Path:
    """An empty build folder for the generation after `live`."""
    number = max([generation_number(live), *map(generation_number, data_dir.glob("gen-*"))])
    build = data_dir / f"{generation_name(number + 1)}{BUILD_SUFFIX}"
    build.mkdir()
    return build


def switch_current(data_dir: Path, name: str) -> None:
    write_atomic(data_dir / CURRENT_FILE, f"{name}\n".encode())


def publish(build: Path) -> Path:
    """Move a finished build into place and make it the live generation."""
    data_dir = build.parent
    final = data_dir / build.name.removesuffix(BUILD_SUFFIX)
    fsync_tree(build)
    build.rename(final)
    fsync_dir(data_dir)
    switch_current(data_dir, final.name)
    return final


def remove_stale(data_dir: Path, live: Path | None) -> None:
    """Delete generations older than the ones kept (the live one and its predecessor)."""
    gens = published_generations(data_dir)
    keep = set(gens[-GENERATIONS_KEPT:])
    if live is not None:
        keep.add(live)
    for path in gens:
        if path not in keep:
            log.debug("removing old generation %s", path.name)
            shutil.rmtree(path, ignore_errors=True)


def oldest_kept(data_dir: Path) -> int:
    """The number of the oldest generation still on disk (0 if none)."""
    gens = published_generations(data_dir)
    return generation_number(gens[0]) if gens else 0
