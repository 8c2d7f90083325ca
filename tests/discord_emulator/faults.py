"""HTTP response helpers: exact JSON content type, Discord's 429, and injected failures.

discord.py only parses a body as JSON when ``Content-Type`` is exactly ``application/json``
(aiohttp's ``json_response`` appends ``; charset=utf-8``), retries a 429 only when the response
has a ``Via`` header and a JSON ``retry_after``, and reads ``X-RateLimit-Reset-After`` whenever
``X-RateLimit-Remaining`` is present - so every response here is built accordingly.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

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


def too_many_requests(
    retry_after: float, headers: dict[str, str], *, is_global: bool = False, body: Any = None
) -> web.Response:
    """Discord's 429: ``retry_after`` in the JSON body and in ``Retry-After``, and the scope."""
    body = body or {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
        "code": 0,
    }
    headers = {**headers, "Retry-After": str(math.ceil(retry_after))}
    headers["X-RateLimit-Scope"] = "global" if is_global else "user"
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    return json_response(body, 429, headers)


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

    def response(self, headers: dict[str, str]) -> web.Response:
        """Consume one use of the rule and build the failure response; a 429 carries the
        route's rate-limit ``headers`` (nothing remaining until ``retry_after``)."""
        self.count -= 1
        if self.status != 429:
            reason = STATUS_TEXT.get(self.status, "Error")
            body = self.body or {"message": f"{self.status}: {reason}", "code": 0}
            return json_response(body, self.status)
        return too_many_requests(
            self.retry_after, headers, is_global=self.is_global, body=self.body
        )
