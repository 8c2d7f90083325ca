"""HTTP response helpers: exact JSON content type, rate-limit headers and injected failures.

discord.py only parses a body as JSON when ``Content-Type`` is exactly ``application/json``
(aiohttp's ``json_response`` appends ``; charset=utf-8``), retries a 429 only when the response
has a ``Via`` header and a JSON ``retry_after``, and reads ``X-RateLimit-Reset-After`` whenever
``X-RateLimit-Remaining`` is present - so every response here is built accordingly.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

# Generous limits on normal responses: discord.py never pre-emptively sleeps on them.
NORMAL_LIMIT = 50
NORMAL_RESET_AFTER = 1.0
STATUS_TEXT = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response with ``Content-Type: application/json`` and no charset suffix."""
    all_headers = {"Content-Type": "application/json", "Via": "1.1 google", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def no_content() -> web.Response:
    """A 204 response."""
    return web.Response(status=204, headers={"Via": "1.1 google"})


def bucket_for(method: str, route_pattern: str) -> str:
    """A stable rate-limit bucket hash for a route template."""
    return hashlib.sha1(f"{method} {route_pattern}".encode()).hexdigest()[:16]


def ratelimit_headers(
    bucket: str, *, remaining: int, reset_after: float, limit: int
) -> dict[str, str]:
    """The ``X-RateLimit-*`` header set Discord sends (Remaining always with Reset-After)."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def normal_ratelimit_headers(bucket: str) -> dict[str, str]:
    """Headers for a successful response with plenty of requests left in the bucket."""
    return ratelimit_headers(
        bucket, remaining=NORMAL_LIMIT - 1, reset_after=NORMAL_RESET_AFTER, limit=NORMAL_LIMIT
    )


@dataclass
class FaultRule:
    """Answer the next ``count`` requests matching ``method`` and ``path_regex`` with ``status``.

    ``path_regex`` is searched (``re.search``) in the path after ``/api/v10``, e.g.
    ``r"^/channels/\\d+/messages$"``; ``method`` may be ``"*"``.
    """

    method: str
    path_regex: re.Pattern[str]
    status: int
    retry_after: float
    count: int
    is_global: bool = False
    body: dict[str, Any] | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule still applies to ``method path``."""
        method_ok = self.method == "*" or self.method == method.upper()
        return self.count > 0 and method_ok and self.path_regex.search(path) is not None

    def response(self, bucket: str) -> web.Response:
        """Consume one use of the rule and build the failure response."""
        self.count -= 1
        if self.status != 429:
            reason = STATUS_TEXT.get(self.status, "Error")
            body = self.body or {"message": f"{self.status}: {reason}", "code": 0}
            return json_response(body, self.status)
        body = self.body or {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.is_global,
            "code": 0,
        }
        headers = ratelimit_headers(
            bucket, remaining=0, reset_after=self.retry_after, limit=NORMAL_LIMIT
        )
        headers["Retry-After"] = str(math.ceil(self.retry_after))
        headers["X-RateLimit-Scope"] = "global" if self.is_global else "user"
        if self.is_global:
            headers["X-RateLimit-Global"] = "true"
        return json_response(body, 429, headers)
