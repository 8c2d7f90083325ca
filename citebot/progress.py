"""A progress bar on stderr for long work."""

from __future__ import annotations

import sys
from typing import Any

from index.progress import EMBEDDING, Progress


class ProgressBar:
    """A tqdm bar for the embedding stage (chunks done of the estimated total, articles,
    rate and time left); silent when disabled (quiet, or not on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def __call__(self, progress: Progress) -> None:
        if not self.enabled or progress.stage != EMBEDDING:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(unit="chunk", desc="embedding", file=sys.stderr)
        self._bar.total = progress.total
        self._bar.n = progress.done
        self._bar.set_postfix_str(
            f"{progress.articles_done:,}/{progress.articles_total:,} articles", refresh=False
        )
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
