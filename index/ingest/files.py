"""Which files under an articles folder are articles, and why each other one is not read.

The walk is iterative, so folders nested any depth are read (`os.walk` recurses once per
level and raised RecursionError near a thousand). Hidden files and folders (a leading dot) are
left out silently; every other file that will not be read is reported with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

NOT_UTF8 = "the {} name is not valid UTF-8: rename it"


@dataclass
class FolderListing:
    """Article files (sorted) and (display path, reason) for every other file not read."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def list_article_files(root: Path, suffixes: Collection[str]) -> FolderListing:
    """Files under `root` whose suffix (any case) is in `suffixes`, and what else was found."""
    listing = FolderListing()
    not_article = f"not an article file (citebot reads {', '.join(sorted(suffixes))})"
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError as exc:
            listing.skipped.append((display(folder, root), f"cannot read folder: {exc.strerror}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            is_folder = _is_folder(entry)
            if not _is_utf8(entry.name):
                kind = "folder" if is_folder else "file"
                listing.skipped.append((display(path, root), NOT_UTF8.format(kind)))
            elif is_folder:
                if not entry.is_symlink():  # as os.walk: a linked folder is not followed
                    pending.append(path)
            elif path.suffix.lower() in suffixes:
                listing.files.append(path)
            else:
                listing.skipped.append((display(path, root), not_article))
    listing.files.sort(key=lambda path: path.parts)  # Path's order, without its slow __lt__
    listing.skipped.sort()
    return listing


def display(path: Path, root: Path) -> str:
    """`path` relative to `root`, "/"-separated, printable (bytes that are not UTF-8 shown as
    U+FFFD); "." for the root itself."""
    rel = Path(os.path.relpath(path, root)).as_posix()
    return os.fsencode(rel).decode("utf-8", errors="replace")


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes arrive as lone surrogates
        return False
    return True


def too_large(size: int, max_bytes: int, what: str = "") -> str | None:
    """Why `size` bytes (of a file, or `what`) are skipped, or None within `max_bytes`."""
    if size <= max_bytes:
        return None
    limit = f"{max_bytes / 1024 / 1024:g}"
    return f"{what}{size / 1024 / 1024:,.1f} MB, more than CITEBOT_MAX_ARTICLE_MB ({limit} MB)"
