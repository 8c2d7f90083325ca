"""A per-user sliding-window limit on questions, so one member cannot monopolise the model."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
PRUNE_ABOVE = 1000  # users tracked before idle ones are forgotten


@dataclass(frozen=True)
class Verdict:
    """Whether a question may go ahead; if not, when the user may ask again."""

    allowed: bool
    retry_after: float = 0.0
    repeated: bool = False  # the user was already refused in this window


class QuestionRateLimiter:
    """At most `limit` questions per user in any `per` seconds (a sliding window)."""

    def __init__(self, limit: int, per: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.per = per
        self.clock = clock
        self._asked: dict[int, deque[float]] = {}
        self._refused: dict[int, float] = {}

    def acquire(self, user_id: int) -> Verdict:
        """Count a question by `user_id` if the window has room; otherwise refuse it."""
        now = self.clock()
        asked = self._asked.setdefault(user_id, deque())
        while asked and asked[0] <= now - self.per:
            asked.popleft()
        if len(asked) < self.limit:
            asked.append(now)
            self._refused.pop(user_id, None)
            self._prune(now)
            return Verdict(allowed=True)
        retry_after = asked[0] + self.per - now
        refused_at = self._refused.get(user_id)
        repeated = refused_at is not None and refused_at > now - self.per
        if not repeated:
            self._refused[user_id] = now
        return Verdict(allowed=False, retry_after=retry_after, repeated=repeated)

    def _prune(self, now: float) -> None:
        if len(self._asked) <= PRUNE_ABOVE:
            return
        idle = [
            uid for uid, asked in self._asked.items() if not asked or asked[-1] <= now - self.per
        ]
        for uid in idle:
            del self._asked[uid]
            self._refused.pop(uid, None)
