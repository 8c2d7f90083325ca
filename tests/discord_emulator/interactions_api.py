"""Interaction routes: the callback, the original response and follow-up webhooks.

Behaviour worth knowing when writing tests:

* The first callback must arrive within ``interaction_deadline`` (3 s, like Discord) or it gets
  404 ``Unknown interaction`` (10062). Follow-ups and edits work for as long as the token lives,
  15 minutes; after that they get 401 ``Invalid Webhook Token`` (50027). Both are judged on the
  emulated clock (``emu.advance_clock``), so a test can make "10 s later" or "16 minutes later"
  happen without waiting.
* The callback answers ``?with_response=1`` with ``{"interaction": {...}, "resource": {...}}``
  (discord.py 2.7 requires it); a second callback gets 400 code 40060, an unknown one 404 10062.
* Type 5 (defer with "thinking") creates a placeholder message flagged LOADING (128), ephemeral if
  the defer was; the first follow-up *or* an edit of ``@original`` fills that placeholder and
  the defer decides its ephemerality, as on Discord. Later follow-ups are new messages.
* Types 6/7 make ``@original`` the message whose component was used; 7 edits it.
* Ephemeral messages are stored (``StoredMessage.ephemeral``) but never dispatched on the gateway.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .errors import EmulatorError
from .faults import json_response, no_content
from .gateway import GatewayHub
from .records import EPHEMERAL_FLAG, LOADING_FLAG, InteractionRecord, StoredMessage
from .rest import RECORD, RouteTable
from .validation import check_message, form_error
from .world import (
    CHAT_INPUT_COMMAND_MESSAGE,
    CONTEXT_MENU_COMMAND_MESSAGE,
    DEFAULT_MESSAGE,
    World,
)

# SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
RESPONSE_FLAGS = 4 | EPHEMERAL_FLAG | 4096 | (1 << 15)
# Interaction type -> callback types Discord accepts for it.
VALID_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
MESSAGE_RESOURCES = {4, 5, 7}
UNKNOWN_WEBHOOK = {"message": "Unknown Webhook", "code": 10015}
INVALID_WEBHOOK_TOKEN = {"message": "Invalid Webhook Token", "code": 50027}
TOKEN_LIFETIME = 15 * 60.0  # seconds an interaction token can be used for follow-ups


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


class InteractionApi:
    """``/interactions/{id}/{token}/callback`` and ``/webhooks/{application_id}/{token}/...``."""

    def __init__(self, world: World, gateway: GatewayHub) -> None:
        self.world = world
        self.gateway = gateway

    def routes(self) -> RouteTable:
        """The (method, path, handler) triples this class serves."""
        webhook = "/webhooks/{app_id}/{token}"
        message = webhook + "/messages/{message_id}"
        return [
            ("POST", "/interactions/{interaction_id}/{token}/callback", self.callback),
            ("POST", webhook, self.followup),
            ("GET", message, self.get_message),
            ("PATCH", message, self.edit_message),
            ("DELETE", message, self.delete_message),
        ]

    # -- callback ----------------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        """Acknowledge an interaction (types 4, 5, 6, 7, 8, 9)."""
        inter = self.world.interactions.get(int(request.match_info["interaction_id"]))
        if inter is None or inter.token != request.match_info["token"] or self._too_late(inter):
            raise EmulatorError(404, {"message": "Unknown interaction", "code": 10062})
        if inter.acknowledged:
            raise EmulatorError(
                400, {"message": "Interaction has already been acknowledged.", "code": 40060}
            )
        record = request[RECORD]
        body: dict[str, Any] = record.json or {}
        callback_type = int(body.get("type") or 0)
        data: dict[str, Any] = body.get("data") or {}
        if callback_type not in VALID_CALLBACKS.get(inter.type, set()):
            raise EmulatorError(400, form_error(["type"], "BASE_TYPE_CHOICES", "Invalid type"))
        message = self._apply_callback(inter, callback_type, data, record.files)
        inter.callback_type = callback_type
        inter.callback_data = data
        self.world.feed.bump()
        if not _truthy(request.query.get("with_response")):
            return no_content()
        summary: dict[str, Any] = {
            "id": str(inter.id),
            "type": inter.type,
            "response_message_loading": callback_type == 5,
            "response_message_ephemeral": bool(message and message.ephemeral),
        }
        if message is not None:
            summary["response_message_id"] = str(message.id)
        result: dict[str, Any] = {"interaction": summary}
        if message is not None and callback_type in MESSAGE_RESOURCES:
            result["resource"] = {"type": callback_type, "message": copy.deepcopy(message.payload)}
        return json_response(result)

    def _too_late(self, inter: InteractionRecord) -> bool:
        age = self.world.clock.monotonic() - inter.created
        deadline = self.world.interaction_deadline
        return age > TOKEN_LIFETIME or (deadline is not None and age > deadline)

    def _apply_callback(
        self,
        inter: InteractionRecord,
        callback_type: int,
        data: dict[str, Any],
        files: list[dict[str, Any]],
    ) -> StoredMessage | None:
        if callback_type == 4:
            self._check(data, files, is_edit=False)
            message = self._new_message(inter, data, files, "interaction", data.get("flags"))
            inter.original_message_id = message.id
            return message
        if callback_type == 5:
            flags = (int(data.get("flags") or 0) & EPHEMERAL_FLAG) | LOADING_FLAG
            message = self._new_message(inter, {}, [], "interaction", flags)
            inter.original_message_id = message.id
            return message
        if callback_type in (6, 7):
            message = self.world.messages[inter.source_message_id or 0]
            inter.original_message_id = message.id
            if callback_type == 7:
                self._check(data, files, is_edit=True)
                self._edit(message, data, files)
            return message
        if callback_type == 8:
            inter.autocomplete_choices = list(data.get("choices") or [])
        elif callback_type == 9:
            if not (data.get("custom_id") and data.get("title") and data.get("components")):
                raise EmulatorError(
                    400, form_error(["data"], "BASE_TYPE_REQUIRED", "Invalid modal")
                )
            inter.modal = data
        return None

    # -- webhooks ----------------------------------------------------------------------

    def _interaction(self, request: web.Request) -> InteractionRecord:
        if request.match_info["app_id"] != str(self.world.application_id):
            raise EmulatorError(404, UNKNOWN_WEBHOOK)
        token = request.match_info["token"]
        for inter in self.world.interactions.values():
            if inter.token == token:
                if self.world.clock.monotonic() - inter.created > TOKEN_LIFETIME:
                    raise EmulatorError(401, INVALID_WEBHOOK_TOKEN)
                return inter
        raise EmulatorError(404, UNKNOWN_WEBHOOK)

    def _target(self, request: web.Request) -> tuple[InteractionRecord, StoredMessage]:
        inter = self._interaction(request)
        raw_id = request.match_info["message_id"]
        message_id = inter.original_message_id if raw_id == "@original" else int(raw_id)
        owned = {inter.original_message_id, *inter.followup_message_ids}
        stored = self.world.messages.get(message_id or 0)
        if stored is None or stored.deleted or message_id not in owned:
            raise EmulatorError(404, {"message": "Unknown Message", "code": 10008})
        return inter, stored

    async def followup(self, request: web.Request) -> web.Response:
        """POST a follow-up; the first one after a "thinking" defer fills the placeholder."""
        inter = self._interaction(request)
        if not inter.acknowledged:
            raise EmulatorError(404, UNKNOWN_WEBHOOK)
        record = request[RECORD]
        body: dict[str, Any] = record.json or {}
        self._check(body, record.files, is_edit=False)
        original = self.world.messages.get(inter.original_message_id or 0)
        if original is not None and original.loading and inter.callback_type == 5:
            self._fill_placeholder(original, body, record.files)
            stored = original
        else:
            stored = self._new_message(inter, body, record.files, "followup", body.get("flags"))
            inter.followup_message_ids.append(stored.id)
        if not _truthy(request.query.get("wait")):
            return no_content()
        return json_response(copy.deepcopy(stored.payload))

    async def get_message(self, request: web.Request) -> web.Response:
        """GET ``@original`` or a follow-up."""
        return json_response(copy.deepcopy(self._target(request)[1].payload))

    async def edit_message(self, request: web.Request) -> web.Response:
        """PATCH ``@original`` or a follow-up (editing a placeholder fills it)."""
        _, stored = self._target(request)
        record = request[RECORD]
        body: dict[str, Any] = record.json or {}
        if stored.loading:
            self._check(body, record.files, is_edit=False)
            self._fill_placeholder(stored, body, record.files)
        else:
            self._check(body, record.files, is_edit=True)
            self._edit(stored, body, record.files)
        return json_response(copy.deepcopy(stored.payload))

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE ``@original`` or a follow-up."""
        _, stored = self._target(request)
        self.world.delete_message(stored)
        if not stored.ephemeral:
            event = {"id": str(stored.id), "channel_id": str(stored.channel_id)}
            self.gateway.dispatch("MESSAGE_DELETE", {**event, "guild_id": str(self.world.guild.id)})
        return no_content()

    # -- helpers -----------------------------------------------------------------------

    def _check(self, body: dict[str, Any], files: list[dict[str, Any]], *, is_edit: bool) -> None:
        error = check_message(body, has_files=bool(files), is_edit=is_edit)
        if error is not None:
            raise EmulatorError(400, error)

    def _new_message(
        self,
        inter: InteractionRecord,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        source: str,
        flags: int | None,
    ) -> StoredMessage:
        world = self.world
        channel = world.channel(inter.channel_id)
        kind = DEFAULT_MESSAGE
        if inter.type == 2:  # a slash command, or a context menu (type 23 messages)
            command_type = (inter.payload.get("data") or {}).get("type", 1)
            kind = CHAT_INPUT_COMMAND_MESSAGE if command_type == 1 else CONTEXT_MENU_COMMAND_MESSAGE
        payload = world.build_message(
            author=world.bot_member, channel=channel, body=body, files=files, message_type=kind
        )
        user = world.users[inter.user_id].to_payload()
        metadata: dict[str, Any] = {
            "id": str(inter.id),
            "type": inter.type,
            "user": user,
            "authorizing_integration_owners": {"0": str(world.guild.id)},
        }
        if inter.source_message_id is not None:
            metadata["interacted_message_id"] = str(inter.source_message_id)
        if source == "followup" and inter.original_message_id is not None:
            metadata["original_response_message_id"] = str(inter.original_message_id)
        payload.update(
            webhook_id=str(world.application_id),
            application_id=str(world.application_id),
            interaction_metadata=metadata,
            flags=int(flags or 0) & (RESPONSE_FLAGS | LOADING_FLAG),
        )
        if inter.type == 2:
            name = (inter.payload.get("data") or {}).get("name", "")
            payload["interaction"] = {"id": str(inter.id), "type": 2, "name": name, "user": user}
        stored = world.store_message(
            payload,
            source=source,
            interaction_id=inter.id,
            allowed_mentions=body.get("allowed_mentions"),
        )
        if not stored.ephemeral:
            self.gateway.dispatch("MESSAGE_CREATE", copy.deepcopy(payload))
        return stored

    def _fill_placeholder(
        self, stored: StoredMessage, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> None:
        stored.payload["flags"] = stored.flags & ~LOADING_FLAG
        edit = {k: v for k, v in body.items() if k != "flags"}
        self.world.apply_edit(stored, edit, files=files, mark_edited=False)
        if not stored.ephemeral:
            self.gateway.dispatch("MESSAGE_UPDATE", copy.deepcopy(stored.payload))

    def _edit(
        self, stored: StoredMessage, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> None:
        self.world.apply_edit(stored, body, files=files)
        if not stored.ephemeral:
            self.gateway.dispatch("MESSAGE_UPDATE", copy.deepcopy(stored.payload))
