"""The error type REST handlers raise to answer with Discord's JSON error body."""

from __future__ import annotations

from typing import Any


class EmulatorError(Exception):
    """A request Discord would refuse; carries the HTTP status and Discord's JSON error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {body.get('message')}")
        self.status = status
        self.body = body


def unknown(kind: str, code: int) -> EmulatorError:
    """A 404 such as ``Unknown Message`` (10008) or ``Unknown Channel`` (10003)."""
    return EmulatorError(404, {"message": f"Unknown {kind}", "code": code})
