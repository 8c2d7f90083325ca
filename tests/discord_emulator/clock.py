"""The emulated clock: Discord's idea of the time, which a test can move forward.

It runs at real speed from ``start`` (default: the real time), so deadlines that discord.py
meets or misses in real time are judged as Discord would; ``advance(seconds)`` jumps ahead
without waiting, so "the engine took 10 s" or "the reindex outlived the 15-minute interaction
token" need no real waiting. Snowflakes, message timestamps, the 3-second interaction deadline,
token expiry and rate-limit windows are all read from it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class EmulatedClock:
    """Real time, shifted to ``start`` and by whatever tests have ``advance``d."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = 0.0 if start is None else start.timestamp() - time.time()
        self._skipped = 0.0

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (for deadlines and windows)."""
        return time.monotonic() + self._skipped

    def time(self) -> float:
        """The emulated Unix time."""
        return time.time() + self._offset + self._skipped

    def now(self) -> datetime:
        """The emulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> None:
        """Jump ``seconds`` ahead (never back)."""
        if seconds < 0:
            raise ValueError("the emulated clock only moves forward")
        self._skipped += seconds
