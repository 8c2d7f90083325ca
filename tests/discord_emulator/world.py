"""The emulated Discord's state: one guild, its people, messages, commands and interactions.

``World`` is plain synchronous state shared by the REST handlers, the gateway and the test-facing
``DiscordEmulator``. It also knows how Discord turns a request body into a message object
(mentions filtered by ``allowed_mentions``, replies, attachments).
"""

from __future__ import annotations

import copy
import logging
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .clock import EmulatedClock
from .commands import CommandRegistry
from .errors import EmulatorError, unknown
from .models import (
    EVERYONE_DEFAULT_PERMISSIONS,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeThread,
    FakeUser,
    SnowflakeFactory,
)
from .ratelimits import RateLimits, RouteLimit
from .records import ChangeFeed, GatewayFrame, InteractionRecord, RecordedRequest, StoredMessage
from .validation import form_error

log = logging.getLogger(__name__)

USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")
DEFAULT_MESSAGE = 0
REPLY_MESSAGE = 19
CHAT_INPUT_COMMAND_MESSAGE = 20
CONTEXT_MENU_COMMAND_MESSAGE = 23


class World:
    """All mutable state of one emulator instance."""

    def __init__(
        self,
        *,
        token: str,
        bot_name: str,
        guild_name: str,
        bot_permissions: int,
        interaction_deadline: float | None = 3.0,
        now: datetime | None = None,
        route_limits: Mapping[tuple[str, str], RouteLimit] | None = None,
    ) -> None:
        self.token = token
        self.interaction_deadline = interaction_deadline
        self.clock = EmulatedClock(now)
        self.snowflakes = SnowflakeFactory(self.clock)
        self.rate_limits = RateLimits(self.clock, route_limits)
        self.feed = ChangeFeed()
        self.application_id = self.snowflakes.next()
        self.bot_user = FakeUser(self.application_id, bot_name, bot=True)
        self.owner_user = FakeUser(self.snowflakes.next(), "guild-owner")
        guild_id = self.snowflakes.next()
        self.guild = FakeGuild(guild_id, guild_name, owner_id=self.owner_user.id)
        self.guild.roles[guild_id] = FakeRole(guild_id, "@everyone", EVERYONE_DEFAULT_PERMISSIONS)
        self.users: dict[int, FakeUser] = {}
        self.messages: dict[int, StoredMessage] = {}
        self.commands = CommandRegistry(self.snowflakes, self.feed, self.application_id, guild_id)
        self.interactions: dict[int, InteractionRecord] = {}
        self.requests: list[RecordedRequest] = []
        self.frames: list[GatewayFrame] = []
        self.internal_errors: list[BaseException] = []
        bot_role = self.add_role(bot_name, bot_permissions, managed=True, bot_id=self.bot_user.id)
        self.bot_member = self.add_member(self.bot_user, role_ids=[bot_role.id])
        self.add_member(self.owner_user)
        self.default_channel = self.add_channel("general")

    # -- people and places --------------------------------------------------------------

    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        role_id: int | None = None,
        managed: bool = False,
        bot_id: int | None = None,
    ) -> FakeRole:
        """Create a role above every existing one."""
        role = FakeRole(
            role_id or self.snowflakes.next(),
            name,
            permissions,
            position=len(self.guild.roles),
            managed=managed,
            bot_id=bot_id,
        )
        self.guild.roles[role.id] = role
        return role

    def add_member(self, user: FakeUser, *, role_ids: list[int] | None = None) -> FakeMember:
        """Make ``user`` a member of the guild with the given roles."""
        self.users[user.id] = user
        member = FakeMember(user, list(role_ids or []))
        self.guild.members[user.id] = member
        return member

    def add_channel(
        self, name: str, *, overwrites: list[dict[str, Any]] | None = None
    ) -> FakeChannel:
        """Create a text channel."""
        channel = FakeChannel(
            self.snowflakes.next(),
            name,
            position=len(self.guild.channels),
            overwrites=overwrites or [],
        )
        self.guild.channels[channel.id] = channel
        return channel

    def make_test_member(
        self,
        username: str,
        *,
        roles: list[FakeRole | int] | None = None,
        permissions: int | None = None,
        bot: bool = False,
        user_id: int | None = None,
    ) -> FakeMember:
        """Create a user and membership; ``permissions`` creates a dedicated role granting them."""
        role_ids = [role.id if isinstance(role, FakeRole) else int(role) for role in roles or []]
        missing = [role_id for role_id in role_ids if role_id not in self.guild.roles]
        if missing:
            raise ValueError(f"no such role(s) {missing}: create them with add_role first")
        if permissions is not None:
            role_ids.append(self.add_role(f"{username}-role", permissions).id)
        user = FakeUser(user_id or self.snowflakes.next(), username, bot=bot)
        return self.add_member(user, role_ids=role_ids)

    def member(self, user_id: int) -> FakeMember:
        """Return the guild member with ``user_id`` (KeyError if there is none)."""
        return self.guild.members[user_id]

    def channel(self, channel_id: int) -> FakeChannel:
        """Return the channel or thread, or raise Discord's ``Unknown Channel``."""
        try:
            key = int(channel_id)
        except ValueError:
            raise unknown("Channel", 10003) from None
        found = self.guild.channels.get(key) or self.guild.threads.get(key)
        if found is None:
            raise unknown("Channel", 10003)
        return found

    def now(self) -> datetime:
        """The emulated time (see ``clock.py``)."""
        return self.clock.now()

    def message(self, channel_id: int, message_id: int | str) -> StoredMessage:
        """Return a live message in ``channel_id`` or raise ``Unknown Message``."""
        try:
            stored = self.messages[int(message_id)]
        except (KeyError, ValueError):
            raise unknown("Message", 10008) from None
        if stored.deleted or stored.channel_id != int(channel_id):
            raise unknown("Message", 10008)
        return stored

    def new_token(self) -> str:
        """A fresh interaction token."""
        return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)

    # -- messages -----------------------------------------------------------------------

    def build_message(
        self,
        *,
        author: FakeMember,
        channel: FakeChannel,
        body: dict[str, Any],
        files: list[dict[str, Any]] | None = None,
        message_type: int = DEFAULT_MESSAGE,
        from_bot_api: bool = True,
    ) -> dict[str, Any]:
        """Turn a create-message body into the Discord message object.

        ``from_bot_api`` applies ``allowed_mentions`` (Discord's default is to ping everything
        mentioned, including the author of a replied-to message); injected user messages
        resolve every mention.
        """
        content = str(body.get("content") or "")
        allowed = body.get("allowed_mentions") if from_bot_api else None
        reference, referenced = self._resolve_reference(channel, body.get("message_reference"))
        user_ids = self._allowed_ids(USER_MENTION.findall(content), allowed, "users")
        if referenced is not None and (allowed is None or allowed.get("replied_user")):
            user_ids.append(int(referenced["author"]["id"]))
        role_ids = self._allowed_ids(ROLE_MENTION.findall(content), allowed, "roles")
        everyone_ok = allowed is None or "everyone" in (allowed.get("parse") or [])
        payload: dict[str, Any] = {
            "id": str(self.snowflakes.next()),
            "channel_id": str(channel.id),
            "guild_id": str(self.guild.id),
            "author": author.user.to_payload(),
            "member": author.to_payload(with_user=False),
            "content": content,
            "timestamp": self.now().isoformat(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": everyone_ok and ("@everyone" in content or "@here" in content),
            "mentions": self.mention_payloads(user_ids),
            "mention_roles": [str(r) for r in role_ids if r in self.guild.roles],
            "attachments": [self._attachment(f) for f in files or []],
            "embeds": copy.deepcopy(body.get("embeds") or []),
            "components": copy.deepcopy(body.get("components") or []),
            "pinned": False,
            "type": REPLY_MESSAGE if reference else message_type,
            "flags": int(body.get("flags") or 0),
        }
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        if reference is not None:
            payload["message_reference"] = reference
            payload["referenced_message"] = referenced
        return payload

    def store_message(
        self,
        payload: dict[str, Any],
        *,
        source: str,
        interaction_id: int | None = None,
        allowed_mentions: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """Remember a new message and bump the change feed."""
        stored = StoredMessage(
            self.feed.bump(),
            payload,
            source,
            interaction_id=interaction_id,
            allowed_mentions=allowed_mentions,
        )
        self.messages[stored.id] = stored
        channel = self.guild.channels.get(stored.channel_id)
        if channel is None:
            channel = self.guild.threads.get(stored.channel_id)
            if isinstance(channel, FakeThread):
                channel.message_count += 1
                channel.member_ids.add(stored.author_id)
        if channel is not None:
            channel.last_message_id = stored.id
        return stored

    def apply_edit(
        self,
        stored: StoredMessage,
        body: dict[str, Any],
        *,
        files: list[dict[str, Any]] | None = None,
        mark_edited: bool = True,
    ) -> None:
        """Apply a message-edit body (only the keys present change) and bump the change feed."""
        payload = stored.payload
        for key in ("content", "embeds", "components"):
            if key in body:
                default: Any = "" if key == "content" else []
                payload[key] = copy.deepcopy(body[key]) if body[key] is not None else default
        if "content" in body:
            allowed = body.get("allowed_mentions", stored.allowed_mentions)
            ids = self._allowed_ids(USER_MENTION.findall(payload["content"]), allowed, "users")
            payload["mentions"] = self.mention_payloads(ids)
        if "flags" in body and body["flags"] is not None:
            # Only SUPPRESS_EMBEDS (4) and IS_COMPONENTS_V2 (32768) may be changed by an edit.
            editable = 4 | (1 << 15)
            payload["flags"] = (payload.get("flags", 0) & ~editable) | (
                int(body["flags"]) & editable
            )
        if "attachments" in body and body["attachments"] is not None:
            keep = {str(a.get("id")) for a in body["attachments"]}
            payload["attachments"] = [a for a in payload["attachments"] if str(a["id"]) in keep]
        payload["attachments"] = payload.get("attachments", []) + [
            self._attachment(f) for f in files or []
        ]
        if "allowed_mentions" in body:
            stored.allowed_mentions = body["allowed_mentions"]
        if mark_edited:
            payload["edited_timestamp"] = self.now().isoformat()
            stored.edit_count += 1
        stored.stamp = self.feed.bump()

    def delete_message(self, stored: StoredMessage) -> None:
        """Mark a message deleted and bump the change feed."""
        stored.deleted = True
        stored.stamp = self.feed.bump()

    def _allowed_ids(
        self, found: list[str], allowed: dict[str, Any] | None, kind: str
    ) -> list[int]:
        ids = list(dict.fromkeys(int(x) for x in found))
        if allowed is None or kind in (allowed.get("parse") or []):
            return ids
        explicit = {int(x) for x in allowed.get(kind) or []}
        return [x for x in ids if x in explicit]

    def mention_payloads(self, user_ids: list[int]) -> list[dict[str, Any]]:
        """The ``mentions`` array entries (user plus member) for ``user_ids``."""
        payloads = []
        for user_id in dict.fromkeys(user_ids):
            member = self.guild.members.get(user_id)
            if member is not None:
                payloads.append(
                    {**member.user.to_payload(), "member": member.to_payload(with_user=False)}
                )
            elif user_id in self.users:
                payloads.append(self.users[user_id].to_payload())
        return payloads

    def _resolve_reference(
        self, channel: FakeChannel, reference: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if not reference or reference.get("message_id") is None:
            return None, None
        ref_channel = int(reference.get("channel_id") or channel.id)
        try:
            target = self.message(ref_channel, reference["message_id"])
        except EmulatorError:
            if reference.get("fail_if_not_exists", True):
                raise EmulatorError(
                    400,
                    form_error(
                        ["message_reference"],
                        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                        "Unknown message",
                    ),
                ) from None
            return None, None
        resolved = copy.deepcopy(target.payload)
        resolved.pop("referenced_message", None)
        full = {
            "type": 0,
            "message_id": str(target.id),
            "channel_id": str(target.channel_id),
            "guild_id": str(self.guild.id),
        }
        return full, resolved

    def _attachment(self, file: dict[str, Any]) -> dict[str, Any]:
        attachment_id = self.snowflakes.next()
        url = f"https://cdn.discordapp.com/attachments/0/{attachment_id}/{file['filename']}"
        return {
            "id": str(attachment_id),
            "filename": file["filename"],
            "size": file["size"],
            "url": url,
            "proxy_url": url,
            "content_type": file.get("content_type"),
            "description": file.get("description"),
        }
