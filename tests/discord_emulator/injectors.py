"""Builders for what a human does in Discord: post a message, run a slash command, press a button.

Slash-command options are typed from the command the bot registered, the way the Discord client
does it: a test passes ``{"question": "why?"}`` and gets ``{"name", "type": 3, "value"}`` plus the
``resolved`` users/members/roles/channels discord.py needs for USER/ROLE/CHANNEL options.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .models import FakeChannel, FakeMember, FakeRole, FakeUser
from .records import InteractionRecord, StoredMessage, iter_components
from .world import USER_MENTION, World

STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)
SUBCOMMAND, SUBCOMMAND_GROUP = 1, 2
CHAT_INPUT_COMMAND, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def user_message(
    world: World,
    *,
    author: FakeMember,
    channel: FakeChannel,
    content: str,
    mentions: list[FakeMember | FakeUser] | None,
    referenced: StoredMessage | None,
    reply_ping: bool,
    embeds: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The MESSAGE_CREATE payload for a message a person posts."""
    body: dict[str, Any] = {"content": content, "embeds": embeds or []}
    if referenced is not None:
        body["message_reference"] = {
            "message_id": str(referenced.id),
            "channel_id": str(channel.id),
        }
    payload = world.build_message(author=author, channel=channel, body=body, from_bot_api=False)
    if mentions is not None or (referenced is not None and not reply_ping):
        if mentions is not None:
            ids = [m.id for m in mentions]
        else:
            ids = [int(x) for x in USER_MENTION.findall(content)]
        payload["mentions"] = world.mention_payloads(ids)
    return payload


def new_interaction(
    world: World,
    *,
    kind: int,
    member: FakeMember,
    channel: FakeChannel,
    data: dict[str, Any],
    message: StoredMessage | None = None,
    locale: str = "en-US",
) -> InteractionRecord:
    """Create and remember an interaction; its ``payload`` is the INTERACTION_CREATE data."""
    guild = world.guild
    perms = guild.channel_permissions(member, channel)
    interaction_id = world.snowflakes.next()
    token = world.new_token()
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(world.application_id),
        "type": kind,
        "data": data,
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "guild_id": str(guild.id),
        "channel": {**channel.to_payload(guild_id=guild.id), "permissions": str(perms)},
        "channel_id": str(channel.id),
        "member": member.to_payload(permissions=perms),
        "token": token,
        "version": 1,
        "app_permissions": str(guild.channel_permissions(world.bot_member, channel)),
        "locale": locale,
        "guild_locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if message is not None:
        payload["message"] = copy.deepcopy(message.payload)
    record = InteractionRecord(
        interaction_id,
        token,
        kind,
        channel.id,
        member.id,
        payload,
        source_message_id=message.id if message is not None else None,
        created=world.clock.monotonic(),
    )
    world.interactions[interaction_id] = record
    world.feed.bump()
    return record


def command_data(
    world: World,
    command: dict[str, Any],
    options: Mapping[str, Any] | list[dict[str, Any]] | None,
    *,
    member: FakeMember,
    channel: FakeChannel,
    subcommand: str | None,
    group: str | None,
    focused: str | None = None,
) -> dict[str, Any]:
    """The ``data`` of an APPLICATION_COMMAND (or AUTOCOMPLETE) interaction."""
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": command["type"]}
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    schema: list[dict[str, Any]] = command.get("options") or []
    if group is not None:
        schema = (
            _schema_option(schema, group, SUBCOMMAND_GROUP, command["name"]).get("options") or []
        )
    if subcommand is not None:
        schema = (
            _schema_option(schema, subcommand, SUBCOMMAND, command["name"]).get("options") or []
        )
    elif any(o["type"] in (SUBCOMMAND, SUBCOMMAND_GROUP) for o in schema):
        raise ValueError(f"/{command['name']} has subcommands: pass subcommand=")
    resolved: dict[str, dict[str, Any]] = {}
    if isinstance(options, list):
        typed = copy.deepcopy(options)
    else:
        context = _OptionContext(world, member, channel, resolved)
        typed = context.typed_options(schema, dict(options or {}), focused)
    if subcommand is not None:
        typed = [{"type": SUBCOMMAND, "name": subcommand, "options": typed}]
    if group is not None:
        typed = [{"type": SUBCOMMAND_GROUP, "name": group, "options": typed}]
    data["options"] = typed
    if resolved:
        data["resolved"] = resolved
    return data


def context_menu_data(
    world: World,
    command: dict[str, Any],
    target: StoredMessage | FakeMember,
    *,
    channel: FakeChannel,
) -> dict[str, Any]:
    """The ``data`` of a user (type 2) or message (type 3) context-menu command on ``target``.

    As on Discord, the target arrives in ``resolved`` (the message, or the user and member)
    and by id in ``target_id``.
    """
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": command["type"]}
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    if command["type"] == MESSAGE_COMMAND:
        if not isinstance(target, StoredMessage):
            raise TypeError(f"{command['name']!r} is a message command: pass a message")
        data["target_id"] = str(target.id)
        message = copy.deepcopy(target.payload)
        message.pop("member", None)  # resolved messages carry the author, not the member
        data["resolved"] = {"messages": {str(target.id): message}}
        return data
    if not isinstance(target, FakeMember):
        raise TypeError(f"{command['name']!r} is a user command: pass a member")
    perms = world.guild.channel_permissions(target, channel)
    data["target_id"] = str(target.id)
    data["resolved"] = {
        "users": {str(target.id): target.user.to_payload()},
        "members": {str(target.id): target.to_payload(with_user=False, permissions=perms)},
    }
    return data


def _schema_option(
    schema: list[dict[str, Any]], name: str, kind: int, command: str
) -> dict[str, Any]:
    for option in schema:
        if option["name"] == name and option["type"] == kind:
            return option
    raise ValueError(f"/{command} has no {'group' if kind == 2 else 'subcommand'} {name!r}")


class _OptionContext:
    """Converts test-friendly option values into typed options plus ``resolved`` data."""

    def __init__(
        self,
        world: World,
        member: FakeMember,
        channel: FakeChannel,
        resolved: dict[str, dict[str, Any]],
    ) -> None:
        self.world = world
        self.member = member
        self.channel = channel
        self.resolved = resolved

    def typed_options(
        self, schema: list[dict[str, Any]], values: dict[str, Any], focused: str | None
    ) -> list[dict[str, Any]]:
        by_name = {o["name"]: o for o in schema}
        unknown = set(values) - set(by_name)
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)}; command has {sorted(by_name)}")
        missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
        if missing and focused is None:
            raise ValueError(f"required option(s) {missing} not given")
        typed = []
        for name, value in values.items():
            option = by_name[name]
            if name == focused:
                typed.append(
                    {"name": name, "type": option["type"], "value": str(value), "focused": True}
                )
                continue
            choices = [c["value"] for c in option.get("choices") or []]
            if choices and value not in choices:
                raise ValueError(f"{value!r} is not one of the choices {choices} for {name!r}")
            typed.append(
                {"name": name, "type": option["type"], "value": self._value(option, value)}
            )
        return typed

    def _value(self, option: dict[str, Any], value: Any) -> Any:
        kind = option["type"]
        if kind == STRING:
            return str(value)
        if kind == INTEGER:
            return int(value)
        if kind == BOOLEAN:
            return bool(value)
        if kind == NUMBER:
            return float(value)
        if kind == MENTIONABLE and not isinstance(value, FakeRole):
            is_role = (
                not isinstance(value, FakeMember | FakeUser)
                and int(value) in self.world.guild.roles
            )
            kind = ROLE if is_role else USER
        if kind == ROLE:
            role = value if isinstance(value, FakeRole) else self.world.guild.roles[int(value)]
            self.resolved.setdefault("roles", {})[str(role.id)] = role.to_payload()
            return str(role.id)
        if kind == USER:
            if isinstance(value, FakeMember | FakeUser):
                return self._resolve_user(value)
            user_id = int(value)
            return self._resolve_user(
                self.world.guild.members.get(user_id) or self.world.users[user_id]
            )
        if kind == CHANNEL:
            return self._resolve_channel(value)
        if kind == ATTACHMENT:
            return self._resolve_attachment(dict(value))
        raise ValueError(f"cannot convert {value!r} for option type {kind}")

    def _resolve_user(self, value: FakeMember | FakeUser) -> str:
        user = value.user if isinstance(value, FakeMember) else value
        self.resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
        member = self.world.guild.members.get(user.id)
        if member is not None:
            perms = self.world.guild.channel_permissions(member, self.channel)
            payload = member.to_payload(with_user=False, permissions=perms)
            self.resolved.setdefault("members", {})[str(user.id)] = payload
        return str(user.id)

    def _resolve_channel(self, value: FakeChannel | int) -> str:
        channel = value if isinstance(value, FakeChannel) else self.world.channel(int(value))
        perms = self.world.guild.channel_permissions(self.member, channel)
        self.resolved.setdefault("channels", {})[str(channel.id)] = {
            "id": str(channel.id),
            "name": channel.name,
            "type": channel.type,
            "permissions": str(perms),
            "parent_id": None,
            "guild_id": str(self.world.guild.id),
        }
        return str(channel.id)

    def _resolve_attachment(self, value: dict[str, Any]) -> str:
        attachment_id = str(self.world.snowflakes.next())
        filename = value.get("filename", "file.txt")
        url = value.get(
            "url", f"https://cdn.discordapp.com/ephemeral-attachments/0/{attachment_id}/{filename}"
        )
        self.resolved.setdefault("attachments", {})[attachment_id] = {
            "id": attachment_id,
            "filename": filename,
            "size": int(value.get("size", 0)),
            "url": url,
            "proxy_url": url,
            "content_type": value.get("content_type"),
            "ephemeral": True,
        }
        return attachment_id


def find_component(message: StoredMessage, custom_id: str) -> dict[str, Any]:
    """Return the enabled component with ``custom_id`` (a person cannot press what is not there)."""
    for component in iter_components(message.components):
        if component.get("custom_id") == custom_id:
            if component.get("disabled"):
                raise ValueError(f"component {custom_id!r} is disabled")
            return component
    raise LookupError(
        f"message {message.id} has no component {custom_id!r}; has {message.custom_ids()}"
    )


def modal_submit_data(
    modal: dict[str, Any], values: Mapping[str, str | list[str]]
) -> dict[str, Any]:
    """The ``data`` of a MODAL_SUBMIT answering ``modal`` (mirrors its rows/labels layout)."""

    def leaf(component: dict[str, Any]) -> dict[str, Any]:
        custom_id = component.get("custom_id")
        value = values.get(custom_id or "", component.get("value", ""))
        out: dict[str, Any] = {"type": component["type"], "custom_id": custom_id}
        if isinstance(value, list):
            out["values"] = value
        else:
            out["value"] = value
        return out

    components = []
    for top in modal.get("components") or []:
        if top["type"] == 1:
            components.append(
                {"type": 1, "components": [leaf(c) for c in top.get("components") or []]}
            )
        elif top["type"] == 18:
            components.append({"type": 18, "component": leaf(top["component"])})
    inputs = {c.get("custom_id") for c in iter_components(modal.get("components") or [])}
    unknown = set(values) - inputs
    if unknown:
        raise LookupError(f"modal has no input(s) {sorted(unknown)}")
    return {"custom_id": modal["custom_id"], "components": components}
