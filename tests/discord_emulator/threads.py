"""Threads: started from a message or on their own, as the bot (REST) or as a person (tests).

What Discord does, and so what the emulator does:

* ``POST /channels/{channel_id}/messages/{message_id}/threads`` starts a public thread from a
  message; the thread's id *is* the message's id, the message gains a ``thread`` field and
  the HAS_THREAD flag (32, dispatched as MESSAGE_UPDATE), and a message can start only one
  thread (400 code 160004).
* ``POST /channels/{channel_id}/threads`` starts a thread with no starter message (type 11
  public or 12 private, 10 only in announcement channels); a public one posts a
  THREAD_CREATED system message (type 18) in the parent.
* Both need a text (or announcement) channel (400 50024 otherwise) and the Create Public (or
  Private) Threads permission (403 50013); the body is checked: ``name`` 1-100 characters,
  ``auto_archive_duration`` one of 60, 1440, 4320, 10080, ``rate_limit_per_user`` 0-21600.
* THREAD_CREATE (GUILDS intent) carries ``newly_created: true`` and, for the thread's
  creator, its thread ``member`` object. Messages in a thread are sent with Send Messages in
  Threads (not Send Messages) and computed from the parent's permission overwrites.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .errors import EmulatorError
from .faults import json_response
from .gateway import GatewayHub
from .models import (
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    NEWS_CHANNEL,
    NEWS_THREAD,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    TEXT_CHANNEL,
    VIEW_CHANNEL,
    FakeChannel,
    FakeMember,
    FakeThread,
)
from .records import StoredMessage
from .rest import RECORD, RouteTable
from .validation import form_error
from .world import World

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
MAX_THREAD_NAME = 100
MAX_SLOWMODE = 21600
HAS_THREAD_FLAG = 1 << 5
THREAD_CREATED_MESSAGE = 18
ALREADY_HAS_THREAD = {
    "message": "A thread has already been created for this message",
    "code": 160004,
}
WRONG_CHANNEL_TYPE = {"message": "Cannot execute action on this channel type", "code": 50024}
MISSING_PERMISSIONS = {"message": "Missing Permissions", "code": 50013}


def check_thread_body(body: dict[str, Any], *, with_type: bool) -> dict[str, Any] | None:
    """Discord's validation of a start-thread body, or None when it is acceptable."""
    name = str(body.get("name") or "").strip()
    if not name:
        return form_error(["name"], "BASE_TYPE_REQUIRED", "This field is required")
    if len(name) > MAX_THREAD_NAME:
        return form_error(
            ["name"], "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_THREAD_NAME} in length."
        )
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in ARCHIVE_DURATIONS:
        return form_error(
            ["auto_archive_duration"],
            "BASE_TYPE_CHOICES",
            f"Value must be one of {ARCHIVE_DURATIONS}.",
        )
    slowmode = body.get("rate_limit_per_user")
    if slowmode is not None and not 0 <= int(slowmode) <= MAX_SLOWMODE:
        return form_error(
            ["rate_limit_per_user"], "NUMBER_TYPE_MAX", f"Must be between 0 and {MAX_SLOWMODE}."
        )
    if with_type and body.get("type", PRIVATE_THREAD) not in (
        NEWS_THREAD,
        PUBLIC_THREAD,
        PRIVATE_THREAD,
    ):
        return form_error(["type"], "BASE_TYPE_CHOICES", "Value must be one of (10, 11, 12).")
    return None


class Threads:
    """Starting threads in one ``World`` and announcing them on the gateway."""

    def __init__(self, world: World, gateway: GatewayHub) -> None:
        self.world = world
        self.gateway = gateway

    def start(
        self,
        parent: FakeChannel,
        body: dict[str, Any],
        *,
        owner: FakeMember,
        starter: StoredMessage | None = None,
    ) -> FakeThread:
        """Start a thread in ``parent`` as ``owner`` (from ``starter`` when given).

        Raises ``EmulatorError`` with Discord's answer for a bad body, a channel that cannot
        hold threads, a message that already has one, or missing permissions.
        """
        error = check_thread_body(body, with_type=starter is None)
        if error is not None:
            raise EmulatorError(400, error)
        kind = PUBLIC_THREAD if starter is not None else int(body.get("type", PRIVATE_THREAD))
        self._check_parent(parent, kind, owner)
        if starter is not None:
            if starter.ephemeral:
                raise EmulatorError(404, {"message": "Unknown Message", "code": 10008})
            if starter.id in self.world.guild.threads:
                raise EmulatorError(400, ALREADY_HAS_THREAD)
        world = self.world
        thread = FakeThread(
            starter.id if starter is not None else world.snowflakes.next(),
            str(body["name"]).strip(),
            type=kind,
            parent_id=parent.id,
            owner_id=owner.id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
            created_at=world.now().isoformat(),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            member_ids={owner.id},
            starter_message_id=starter.id if starter is not None else None,
        )
        world.guild.threads[thread.id] = thread
        world.feed.bump()
        created = {**thread.to_payload(guild_id=world.guild.id), "newly_created": True}
        if owner.id == world.bot_user.id:
            created["member"] = thread.member_payload(owner.id)
        self.gateway.dispatch("THREAD_CREATE", created)
        if starter is not None:
            self._mark_starter(starter, thread)
        elif kind == PUBLIC_THREAD:
            self._announce(parent, thread, owner)
        return thread

    def _check_parent(self, parent: FakeChannel, kind: int, owner: FakeMember) -> None:
        if isinstance(parent, FakeThread) or parent.type not in (TEXT_CHANNEL, NEWS_CHANNEL):
            raise EmulatorError(400, WRONG_CHANNEL_TYPE)
        if kind == NEWS_THREAD and parent.type != NEWS_CHANNEL:
            raise EmulatorError(400, WRONG_CHANNEL_TYPE)
        needed = VIEW_CHANNEL | READ_MESSAGE_HISTORY
        needed |= CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS
        perms = self.world.guild.channel_permissions(owner, parent)
        if perms & needed != needed:
            raise EmulatorError(403, MISSING_PERMISSIONS)

    def _mark_starter(self, starter: StoredMessage, thread: FakeThread) -> None:
        payload = starter.payload
        payload["flags"] = starter.flags | HAS_THREAD_FLAG
        payload["thread"] = thread.to_payload(guild_id=self.world.guild.id)
        starter.stamp = self.world.feed.bump()
        self.gateway.dispatch("MESSAGE_UPDATE", copy.deepcopy(payload))

    def _announce(self, parent: FakeChannel, thread: FakeThread, owner: FakeMember) -> None:
        payload = self.world.build_message(
            author=owner,
            channel=parent,
            body={"content": thread.name},
            message_type=THREAD_CREATED_MESSAGE,
        )
        payload["message_reference"] = {
            "type": 0,
            "channel_id": str(thread.id),
            "guild_id": str(self.world.guild.id),
        }
        self.world.store_message(
            payload, source="rest" if owner.id == self.world.bot_user.id else "user"
        )
        self.gateway.dispatch("MESSAGE_CREATE", copy.deepcopy(payload))


class ThreadApi:
    """``POST .../messages/{message_id}/threads`` and ``POST /channels/{channel_id}/threads``."""

    def __init__(self, world: World, threads: Threads) -> None:
        self.world = world
        self.threads = threads

    def routes(self) -> RouteTable:
        """The (method, path, handler) triples this class serves."""
        return [
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.from_message),
            ("POST", "/channels/{channel_id}/threads", self.without_message),
        ]

    async def from_message(self, request: web.Request) -> web.Response:
        """Start a public thread from a message (the thread gets the message's id)."""
        parent = self.world.channel(int(request.match_info["channel_id"]))
        starter = self.world.message(parent.id, request.match_info["message_id"])
        body: dict[str, Any] = request[RECORD].json or {}
        thread = self.threads.start(parent, body, owner=self.world.bot_member, starter=starter)
        return json_response(thread.to_payload(guild_id=self.world.guild.id), 201)

    async def without_message(self, request: web.Request) -> web.Response:
        """Start a thread with no starter message."""
        parent = self.world.channel(int(request.match_info["channel_id"]))
        body: dict[str, Any] = request[RECORD].json or {}
        thread = self.threads.start(parent, body, owner=self.world.bot_member)
        return json_response(thread.to_payload(guild_id=self.world.guild.id), 201)
