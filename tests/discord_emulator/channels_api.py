"""Channel message routes: send, fetch, history, edit, delete, typing and the bot's reactions.

Threads are channels here too; sending in one needs Send Messages in Threads instead of Send
Messages.

Like Discord, a message the bot sends is also dispatched back to it as MESSAGE_CREATE (edits as
MESSAGE_UPDATE, deletes as MESSAGE_DELETE), and the bot's channel permissions are enforced.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .errors import EmulatorError
from .faults import json_response, no_content
from .gateway import GatewayHub
from .models import (
    ATTACH_FILES,
    MANAGE_MESSAGES,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    FakeChannel,
    FakeThread,
)
from .records import StoredMessage
from .rest import RECORD, RouteTable
from .validation import check_message
from .world import World

MISSING_ACCESS = EmulatorError(403, {"message": "Missing Access", "code": 50001})
MISSING_PERMISSIONS = EmulatorError(403, {"message": "Missing Permissions", "code": 50013})


class ChannelApi:
    """Routes under ``/channels/{channel_id}/...``."""

    def __init__(self, world: World, gateway: GatewayHub) -> None:
        self.world = world
        self.gateway = gateway

    def routes(self) -> RouteTable:
        """The (method, path, handler) triples this class serves."""
        messages = "/channels/{channel_id}/messages"
        message = messages + "/{message_id}"
        own_reaction = message + "/reactions/{emoji}/@me"
        return [
            ("GET", messages, self.history),
            ("POST", messages, self.create),
            ("GET", message, self.fetch),
            ("PATCH", message, self.edit),
            ("DELETE", message, self.delete),
            ("POST", "/channels/{channel_id}/typing", self.typing),
            ("PUT", own_reaction, self.add_reaction),
            ("DELETE", own_reaction, self.remove_reaction),
        ]

    def _channel(self, request: web.Request, needed: int = VIEW_CHANNEL) -> FakeChannel:
        channel = self.world.channel(int(request.match_info["channel_id"]))
        if isinstance(channel, FakeThread) and needed & SEND_MESSAGES:
            needed = (needed & ~SEND_MESSAGES) | SEND_MESSAGES_IN_THREADS
        perms = self.world.guild.channel_permissions(self.world.bot_member, channel)
        if not perms & VIEW_CHANNEL:
            raise MISSING_ACCESS
        if perms & needed != needed:
            raise MISSING_PERMISSIONS
        return channel

    def _visible_message(self, request: web.Request) -> StoredMessage:
        channel = self._channel(request)
        stored = self.world.message(channel.id, request.match_info["message_id"])
        if stored.ephemeral:
            raise EmulatorError(404, {"message": "Unknown Message", "code": 10008})
        return stored

    async def history(self, request: web.Request) -> web.Response:
        """GET messages, newest first, honouring ``limit``, ``before`` and ``after``."""
        channel = self._channel(request)
        limit = min(int(request.query.get("limit", 50)), 100)
        before = int(request.query.get("before", 0)) or None
        after = int(request.query.get("after", 0))
        found = [
            m.payload
            for m in sorted(self.world.messages.values(), key=lambda m: m.id, reverse=True)
            if m.channel_id == channel.id and not m.deleted and not m.ephemeral
            if (before is None or m.id < before) and m.id > after
        ]
        return json_response(copy.deepcopy(found[:limit]))

    async def create(self, request: web.Request) -> web.Response:
        """POST a message as the bot; it is stored and dispatched as MESSAGE_CREATE."""
        record = request[RECORD]
        body: dict[str, Any] = record.json or {}
        needed = SEND_MESSAGES | (ATTACH_FILES if record.files else 0)
        channel = self._channel(request, needed)
        error = check_message(body, has_files=bool(record.files), is_edit=False)
        if error is not None:
            raise EmulatorError(400, error)
        payload = self.world.build_message(
            author=self.world.bot_member, channel=channel, body=body, files=record.files
        )
        payload["flags"] = int(body.get("flags") or 0) & (4 | 4096 | (1 << 15))
        self.world.store_message(
            payload, source="rest", allowed_mentions=body.get("allowed_mentions")
        )
        self.gateway.dispatch("MESSAGE_CREATE", copy.deepcopy(payload))
        return json_response(payload)

    async def fetch(self, request: web.Request) -> web.Response:
        """GET one message."""
        return json_response(copy.deepcopy(self._visible_message(request).payload))

    async def edit(self, request: web.Request) -> web.Response:
        """PATCH one of the bot's messages; dispatched as MESSAGE_UPDATE."""
        stored = self._visible_message(request)
        if stored.author_id != self.world.bot_user.id:
            raise EmulatorError(
                403, {"message": "Cannot edit a message authored by another user", "code": 50005}
            )
        record = request[RECORD]
        body: dict[str, Any] = record.json or {}
        error = check_message(body, has_files=bool(record.files), is_edit=True)
        if error is not None:
            raise EmulatorError(400, error)
        self.world.apply_edit(stored, body, files=record.files)
        self.gateway.dispatch("MESSAGE_UPDATE", copy.deepcopy(stored.payload))
        return json_response(copy.deepcopy(stored.payload))

    async def delete(self, request: web.Request) -> web.Response:
        """DELETE a message (others' messages need Manage Messages)."""
        stored = self._visible_message(request)
        if stored.author_id != self.world.bot_user.id:
            self._channel(request, MANAGE_MESSAGES)
        self.world.delete_message(stored)
        self.gateway.dispatch(
            "MESSAGE_DELETE",
            {
                "id": str(stored.id),
                "channel_id": str(stored.channel_id),
                "guild_id": str(self.world.guild.id),
            },
        )
        return no_content()

    async def typing(self, request: web.Request) -> web.Response:
        """POST typing indicator (recorded only)."""
        self._channel(request, SEND_MESSAGES)
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        """PUT the bot's reaction; dispatched as MESSAGE_REACTION_ADD."""
        stored = self._visible_message(request)
        emoji = request.match_info["emoji"]
        stored.reactions.setdefault(emoji, set()).add(self.world.bot_user.id)
        stored.stamp = self.world.feed.bump()
        self.gateway.dispatch("MESSAGE_REACTION_ADD", self._reaction_event(stored, emoji))
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        """DELETE the bot's reaction; dispatched as MESSAGE_REACTION_REMOVE."""
        stored = self._visible_message(request)
        emoji = request.match_info["emoji"]
        stored.reactions.get(emoji, set()).discard(self.world.bot_user.id)
        stored.stamp = self.world.feed.bump()
        event = self._reaction_event(stored, emoji)
        event.pop("member")
        self.gateway.dispatch("MESSAGE_REACTION_REMOVE", event)
        return no_content()

    def _reaction_event(self, stored: StoredMessage, emoji: str) -> dict[str, Any]:
        name, _, emoji_id = emoji.partition(":")
        return {
            "user_id": str(self.world.bot_user.id),
            "channel_id": str(stored.channel_id),
            "message_id": str(stored.id),
            "guild_id": str(self.world.guild.id),
            "member": self.world.bot_member.to_payload(),
            "emoji": {"id": emoji_id or None, "name": name},
            "burst": False,
            "type": 0,
            "message_author_id": str(stored.author_id),
        }
