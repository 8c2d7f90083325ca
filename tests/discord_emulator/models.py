"""Guild-side entities of the emulated Discord (users, roles, members, the guild), payloads;
channels and threads are in ``channels.py``.

Payload builders return the JSON shapes Discord's API v10 sends, with snowflakes as strings.
Permission arithmetic follows Discord's documented algorithm (base permissions, then channel
overwrites for @everyone, roles and the member, in that order).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Channels are models too: re-exported from here.
from .channels import NEWS_CHANNEL as NEWS_CHANNEL
from .channels import NEWS_THREAD as NEWS_THREAD
from .channels import PRIVATE_THREAD as PRIVATE_THREAD
from .channels import PUBLIC_THREAD as PUBLIC_THREAD
from .channels import TEXT_CHANNEL as TEXT_CHANNEL
from .channels import THREAD_TYPES as THREAD_TYPES
from .channels import FakeChannel, FakeThread
from .clock import EmulatedClock

DISCORD_EPOCH_MS = 1420070400000

# Permission bits used by the emulator (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 52) - 1

EVERYONE_DEFAULT_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS
    | SEND_MESSAGES_IN_THREADS
)
BOT_DEFAULT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)


def permission_value(permissions: int | Any) -> int:
    """Accept a raw int or anything with an int ``.value`` (e.g. ``discord.Permissions``)."""
    return int(getattr(permissions, "value", permissions))


def iso_now() -> str:
    """Return the current UTC time as the ISO-8601 string Discord uses."""
    return datetime.now(UTC).isoformat()


class SnowflakeFactory:
    """Produce unique, increasing snowflakes whose timestamp part is the emulated time.

    The time comes from an ``EmulatedClock`` (``clock.py``): a test can hold a conversation
    "on 2024-04-01", and move the clock forward; message timestamps and ids say so.
    """

    def __init__(self, clock: EmulatedClock | None = None) -> None:
        self.clock = clock or EmulatedClock()
        self._last = 0
        self._increment = itertools.count()

    def now(self) -> datetime:
        """The emulated time (UTC)."""
        return self.clock.now()

    def next(self) -> int:
        """Return a new snowflake."""
        millis = int(self.clock.time() * 1000) - DISCORD_EPOCH_MS
        candidate = (millis << 22) | (next(self._increment) & 0xFFF)
        self._last = max(candidate, self._last + 1)
        return self._last


@dataclass
class FakeUser:
    """A Discord user account (human or bot)."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        """The ``<@id>`` string that mentions this user in message content."""
        return f"<@{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        """Return the user object as Discord sends it."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "banner": None,
            "accent_color": None,
        }
        if self.bot:
            payload["bot"] = True
        return payload


@dataclass
class FakeRole:
    """A guild role; the role whose id equals the guild id is @everyone."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        """The ``<@&id>`` string that mentions this role."""
        return f"<@&{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        """Return the role object as Discord sends it."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            payload["tags"] = {"bot_id": str(self.bot_id)}
        return payload


@dataclass
class FakeMember:
    """A user's membership of the emulated guild."""

    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        """The member's user id."""
        return self.user.id

    @property
    def mention(self) -> str:
        """The ``<@id>`` string that mentions this member."""
        return self.user.mention

    def to_payload(
        self, *, with_user: bool = True, permissions: int | None = None
    ) -> dict[str, Any]:
        """Return the guild member object; ``permissions`` is set only inside interactions."""
        payload: dict[str, Any] = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.user.to_payload()
        if permissions is not None:
            payload["permissions"] = str(permissions)
        return payload


@dataclass
class FakeGuild:
    """The single guild the emulated bot is a member of."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, FakeRole] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    threads: dict[int, FakeThread] = field(default_factory=dict)

    @property
    def everyone(self) -> FakeRole:
        """The @everyone role (its id is the guild id)."""
        return self.roles[self.id]

    def base_permissions(self, member: FakeMember) -> int:
        """Guild-wide permissions of ``member`` (owner and Administrator get everything)."""
        if member.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions
        for role_id in member.role_ids:
            role = self.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def channel_permissions(self, member: FakeMember, channel: FakeChannel) -> int:
        """Permissions of ``member`` in ``channel`` after applying overwrites (a thread's are
        its parent channel's)."""
        if isinstance(channel, FakeThread):
            channel = self.channels[channel.parent_id]
        perms = self.base_permissions(member)
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        by_id = {int(ow["id"]): ow for ow in channel.overwrites}
        everyone = by_id.get(self.id)
        if everyone is not None:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for role_id in member.role_ids:
            overwrite = by_id.get(role_id)
            if overwrite is not None and overwrite.get("type", 0) == 0:
                allow |= int(overwrite["allow"])
                deny |= int(overwrite["deny"])
        perms = (perms & ~deny) | allow
        own = by_id.get(member.id)
        if own is not None and own.get("type") == 1:
            perms = (perms & ~int(own["deny"])) | int(own["allow"])
        return perms

    def to_create_payload(self, *, bot_user_id: int) -> dict[str, Any]:
        """Return the GUILD_CREATE payload (every member included, so the guild is 'chunked')."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "features": [],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw": False,
            "large": False,
            "lazy": True,
            "unavailable": False,
            "joined_at": self.members[bot_user_id].joined_at,
            "member_count": len(self.members),
            "roles": [role.to_payload() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "members": [member.to_payload() for member in self.members.values()],
            "channels": [channel.to_payload() for channel in self.channels.values()],
            "threads": [
                thread.to_payload(guild_id=self.id)
                for thread in self.threads.values()
                if not thread.archived
            ],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "incidents_data": None,
        }
