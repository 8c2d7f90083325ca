"""Channels and threads of the emulated guild, and the payloads Discord sends for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TEXT_CHANNEL = 0
NEWS_CHANNEL = 5
NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 10, 11, 12
THREAD_TYPES = (NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)

__all__ = [
    "NEWS_CHANNEL",
    "NEWS_THREAD",
    "PRIVATE_THREAD",
    "PUBLIC_THREAD",
    "TEXT_CHANNEL",
    "THREAD_TYPES",
    "FakeChannel",
    "FakeThread",
]


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class FakeChannel:
    """A guild channel; ``overwrites`` holds Discord permission-overwrite dicts."""

    id: int
    name: str
    type: int = TEXT_CHANNEL
    position: int = 0
    topic: str | None = None
    overwrites: list[dict[str, Any]] = field(default_factory=list)
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        """The ``<#id>`` string that mentions this channel."""
        return f"<#{self.id}>"

    def to_payload(self, *, guild_id: int | None = None) -> dict[str, Any]:
        """Return the channel object; GUILD_CREATE omits ``guild_id``, REST includes it."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [dict(ow) for ow in self.overwrites],
            "nsfw": False,
            "topic": self.topic,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": 0,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        return payload


@dataclass
class FakeThread(FakeChannel):
    """A thread: a channel under ``parent_id``, started by ``owner_id`` (from a message when
    ``starter_message_id`` is set; the thread then has the message's id)."""

    parent_id: int = 0
    owner_id: int = 0
    auto_archive_duration: int = 1440
    created_at: str = field(default_factory=_now)
    archived: bool = False
    locked: bool = False
    rate_limit_per_user: int = 0
    message_count: int = 0
    member_ids: set[int] = field(default_factory=set)
    starter_message_id: int | None = None

    def to_payload(self, *, guild_id: int | None = None) -> dict[str, Any]:
        """The thread channel object (Discord always includes ``guild_id`` for threads)."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(guild_id) if guild_id is not None else None,
            "name": self.name,
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "rate_limit_per_user": self.rate_limit_per_user,
            "message_count": self.message_count,
            "total_message_sent": self.message_count,
            "member_count": min(len(self.member_ids), 50),
            "flags": 0,
            "thread_metadata": {
                "archived": self.archived,
                "auto_archive_duration": self.auto_archive_duration,
                "archive_timestamp": self.created_at,
                "locked": self.locked,
                "create_timestamp": self.created_at,
            },
        }
        if guild_id is None:
            payload.pop("guild_id")
        return payload

    def member_payload(self, user_id: int) -> dict[str, Any]:
        """The thread member object of ``user_id``."""
        return {
            "id": str(self.id),
            "user_id": str(user_id),
            "join_timestamp": self.created_at,
            "flags": 0,
        }
