"""A progress bar on stderr for long work."""

from __future__ import annotations

import sys
from typing import Any


class ProgressBar:
    """A tqdm bar for the embedding stage; silent when disabled (quiet, or not on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or stage != "embedding":
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
