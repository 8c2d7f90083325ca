"""Per-route rate limits, enforced as Discord does and announced in real ``X-RateLimit-*`` headers.

Each route template (``POST /channels/{channel_id}/messages``) has a limit of requests per
window; the bucket is per major parameter (the channel, the guild, or the webhook or interaction
token), as on Discord. Every answer on the route carries ``X-RateLimit-Limit``, ``-Remaining``,
``-Reset``, ``-Reset-After`` and ``-Bucket``; a request beyond the limit gets 429 with the
``retry_after`` left in the window, without being handled. discord.py reads the headers and
waits before it would exceed a limit, so a well-behaved bot never sees one of these 429s
(``RecordedRequest.rate_limited`` marks them). Windows run on the emulated clock.

The limits are Discord's well-known ones for the routes a bot uses most (5 messages per 5 s per
channel, 5 webhook messages per 2 s, one reaction per 0.25 s); every other route allows 50 per
second. Note what discord.py does with them: the request that spends a bucket's last use
returns only once the window has reset, so the fifth answer posted in a channel within 5 s
reaches its user up to 5 s late. The global limit is not enforced;
``fail_next(..., is_global=True)`` injects a global 429.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .clock import EmulatedClock

MAJOR_PARAMETERS = ("channel_id", "guild_id", "token")


@dataclass(frozen=True)
class RouteLimit:
    """``limit`` requests per ``per`` seconds."""

    limit: int
    per: float


MESSAGES = "/channels/{channel_id}/messages"
WEBHOOK = "/webhooks/{app_id}/{token}"
DISCORD_LIMITS: dict[tuple[str, str], RouteLimit] = {
    ("POST", MESSAGES): RouteLimit(5, 5.0),
    ("PUT", MESSAGES + "/{message_id}/reactions/{emoji}/@me"): RouteLimit(1, 0.25),
    ("DELETE", MESSAGES + "/{message_id}/reactions/{emoji}/@me"): RouteLimit(1, 0.25),
    ("POST", WEBHOOK): RouteLimit(5, 2.0),
    ("PATCH", WEBHOOK + "/messages/{message_id}"): RouteLimit(5, 2.0),
}
OTHER_ROUTES = RouteLimit(50, 1.0)


@dataclass(frozen=True)
class Verdict:
    """The headers for a request's answer, and whether it must be refused (``retry_after``)."""

    headers: dict[str, str]
    retry_after: float | None = None


@dataclass
class _Window:
    remaining: int
    reset_at: float


def bucket_hash(method: str, route: str) -> str:
    """A stable ``X-RateLimit-Bucket`` for a route template."""
    return hashlib.sha1(f"{method} {route}".encode()).hexdigest()[:16]


def headers_for(
    bucket: str, *, limit: int, remaining: int, reset_after: float, now: float
) -> dict[str, str]:
    """Discord's ``X-RateLimit-*`` header set (Remaining always comes with Reset-After)."""
    reset_after = math.ceil(reset_after * 1000) / 1000  # never announce an earlier reset
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{now + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


class RateLimits:
    """The windows of every bucket seen so far."""

    def __init__(
        self,
        clock: EmulatedClock,
        limits: Mapping[tuple[str, str], RouteLimit] | None = None,
        other_routes: RouteLimit = OTHER_ROUTES,
    ) -> None:
        self.clock = clock
        self.limits = dict(DISCORD_LIMITS if limits is None else limits)
        self.other_routes = other_routes
        self._windows: dict[tuple[str, str], _Window] = {}

    def limit_for(self, method: str, route: str) -> RouteLimit:
        """The limit of a route template."""
        return self.limits.get((method.upper(), route), self.other_routes)

    def exhausted_headers(self, method: str, route: str, retry_after: float) -> dict[str, str]:
        """The headers of an injected 429 on ``route``: nothing left for ``retry_after``."""
        return headers_for(
            bucket_hash(method.upper(), route),
            limit=self.limit_for(method, route).limit,
            remaining=0,
            reset_after=retry_after,
            now=self.clock.time(),
        )

    def take(self, method: str, route: str, params: Mapping[str, str]) -> Verdict:
        """Count one request on ``route`` (a template) with its path ``params``."""
        rule = self.limit_for(method, route)
        bucket = bucket_hash(method.upper(), route)
        major = ":".join(params[name] for name in MAJOR_PARAMETERS if name in params)
        now = self.clock.monotonic()
        window = self._windows.get((bucket, major))
        if window is None or now >= window.reset_at:
            window = self._windows[(bucket, major)] = _Window(rule.limit, now + rule.per)
        reset_after = window.reset_at - now
        if window.remaining == 0:
            headers = headers_for(
                bucket,
                limit=rule.limit,
                remaining=0,
                reset_after=reset_after,
                now=self.clock.time(),
            )
            return Verdict(headers, retry_after=math.ceil(reset_after * 1000) / 1000)
        window.remaining -= 1
        headers = headers_for(
            bucket,
            limit=rule.limit,
            remaining=window.remaining,
            reset_after=reset_after,
            now=self.clock.time(),
        )
        return Verdict(headers)
