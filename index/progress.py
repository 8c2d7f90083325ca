"""What a running reindex reports, and the one callback type that receives it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

READING = "reading"  # scanning the articles folder for what changed
EMBEDDING = "embedding"  # chunking, embedding and storing changed articles
WRITING = "writing"  # writing the new generation's indexes and publishing it


@dataclass(frozen=True)
class Progress:
    """One progress report of a reindex.

    `done` / `total` count the stage's own unit: files for reading, chunks for embedding
    (`total` is an estimate from the text still to do until the last article is chunked),
    nothing for writing. `seconds_left` is None while it cannot be estimated.
    """

    stage: str
    done: int = 0
    total: int = 0
    articles_done: int = 0
    articles_total: int = 0
    chunks_done: int = 0
    chunks_per_second: float = 0.0
    seconds_left: float | None = None

    def describe(self) -> str:
        """One line for a terminal or a log."""
        if self.stage == EMBEDDING:
            left = (
                "" if self.seconds_left is None else f", about {_duration(self.seconds_left)} left"
            )
            return (
                f"{self.articles_done:,} of {self.articles_total:,} changed articles, "
                f"{self.chunks_done:,} chunks ({self.chunks_per_second:.1f} chunks/s{left})"
            )
        if self.stage == READING:
            return f"reading articles: {self.done:,} of {self.total:,} files"
        return "writing the new index"


ProgressCallback = Callable[[Progress], None]


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
