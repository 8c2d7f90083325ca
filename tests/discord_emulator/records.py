"""What the emulator remembers: REST requests, gateway frames, messages and interactions.

Every record carries a ``stamp`` from one emulator-wide counter, so a test can take
``emu.checkpoint()`` and later wait only for things that happened (or changed) after it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .mentions import pings

T = TypeVar("T")

EPHEMERAL_FLAG = 1 << 6
LOADING_FLAG = 1 << 7


class ChangeFeed:
    """A monotonically increasing stamp plus a wake-up for anyone waiting on emulator state."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._current = 0
        self._changed = asyncio.Event()

    @property
    def current(self) -> int:
        """The stamp of the latest change (0 before anything happened)."""
        return self._current

    def bump(self) -> int:
        """Allocate a new stamp and wake every waiter."""
        self._current = next(self._counter)
        self.notify()
        return self._current

    def notify(self) -> None:
        """Wake every waiter so it re-evaluates its condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        """Return the first truthy ``check()`` result, re-checking after each change.

        Raises ``TimeoutError`` naming ``what`` when nothing matched within ``timeout`` seconds.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    result = check()
                    if result:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}") from None


@dataclass
class RecordedRequest:
    """One REST request as the bot sent it, plus how the emulator answered.

    ``path`` is relative to ``/api/v10``; ``json`` is the parsed body (for multipart uploads, the
    ``payload_json`` part); ``route`` is the matched route template, or None when no emulated
    route exists; ``time`` is the emulated clock's ``monotonic()`` on arrival.
    """

    stamp: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    files: list[dict[str, Any]]
    route: str | None = None
    time: float = field(default_factory=time.monotonic)
    status: int | None = None
    injected_fault: bool = False
    rate_limited: bool = False
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def authorization(self) -> str | None:
        """The ``Authorization`` header value, if any."""
        return self.headers.get("Authorization")


@dataclass
class GatewayFrame:
    """A payload the bot sent over the gateway websocket."""

    stamp: int
    connection_id: int
    path: str
    op: int
    d: Any
    time: float = field(default_factory=time.monotonic)


@dataclass
class StoredMessage:
    """A message in the emulated guild; ``payload`` is its current Discord message object.

    ``source`` is one of ``"user"`` (injected by a test), ``"rest"`` (POST /channels/…/messages),
    ``"interaction"`` (an interaction callback) or ``"followup"`` (an interaction webhook).
    ``allowed_mentions`` is what the bot sent with the latest create or edit, if anything.
    """

    stamp: int
    payload: dict[str, Any]
    source: str
    interaction_id: int | None = None
    deleted: bool = False
    edit_count: int = 0
    allowed_mentions: dict[str, Any] | None = None
    reactions: dict[str, set[int]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        """The message id."""
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        """The channel the message lives in."""
        return int(self.payload["channel_id"])

    @property
    def author_id(self) -> int:
        """The author's user id."""
        return int(self.payload["author"]["id"])

    @property
    def content(self) -> str:
        """The message text."""
        return str(self.payload.get("content") or "")

    @property
    def flags(self) -> int:
        """The message flags bit field."""
        return int(self.payload.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user can see it (flag 64)."""
        return bool(self.flags & EPHEMERAL_FLAG)

    @property
    def loading(self) -> bool:
        """Whether it is still a deferred 'is thinking…' placeholder (flag 128)."""
        return bool(self.flags & LOADING_FLAG)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """The embed objects."""
        return list(self.payload.get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        """The top-level component objects."""
        return list(self.payload.get("components") or [])

    @property
    def pings(self) -> list[str]:
        """Every notification this message would send, mentions in embeds included (see
        ``mentions.py``); ``[]`` when nothing, and nobody, would be pinged."""
        return pings(self.payload, self.allowed_mentions)

    def custom_ids(self) -> list[str]:
        """Every ``custom_id`` found in the component tree, depth first."""
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]


def iter_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Walk a component tree (action rows, sections, containers, labels) depth first."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        child = component.get("component")
        if isinstance(child, dict):
            yield from iter_components([child])
        accessory = component.get("accessory")
        if isinstance(accessory, dict):
            yield from iter_components([accessory])


@dataclass
class InteractionRecord:
    """An interaction the emulator dispatched, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    channel_id: int
    user_id: int
    payload: dict[str, Any]
    source_message_id: int | None = None
    callback_type: int | None = None
    callback_data: dict[str, Any] | None = None
    original_message_id: int | None = None
    followup_message_ids: list[int] = field(default_factory=list)
    autocomplete_choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    created: float = field(default_factory=time.monotonic)

    @property
    def acknowledged(self) -> bool:
        """Whether the bot has answered the interaction callback."""
        return self.callback_type is not None
