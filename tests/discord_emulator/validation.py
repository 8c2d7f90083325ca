"""Discord's server-side limits, so a bot that would be rejected by Discord is rejected here too.

Each check returns ``None`` when the payload is acceptable, or the JSON error body Discord would
answer with (status 400): ``50006`` for an empty message, ``50035`` "Invalid Form Body" with an
``errors`` tree for everything else.
"""

from __future__ import annotations

import re
from typing import Any

from .records import iter_components

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
MAX_FIELDS = 25
FIELD_LIMITS = {"name": 256, "value": 1024}
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_ACTION_ROWS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
MAX_COMMANDS = 100
MAX_CONTEXT_MENUS = 15  # of each kind (user, message) per scope
MAX_OPTIONS = 25
MAX_CHOICES = 25
SUBCOMMAND_TYPES = (1, 2)

Errors = dict[str, Any]


def form_error(path: list[str | int], code: str, message: str) -> dict[str, Any]:
    """Build Discord's 50035 body with one error at ``path`` (e.g. ``["embeds", 0, "title"]``)."""
    node: Errors = {"_errors": [{"code": code, "message": message}]}
    for key in reversed(path):
        node = {str(key): node}
    return {"code": 50035, "errors": node, "message": "Invalid Form Body"}


def _too_long(path: list[str | int], limit: int) -> dict[str, Any]:
    return form_error(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def check_message(body: dict[str, Any], *, has_files: bool, is_edit: bool) -> dict[str, Any] | None:
    """Validate a create/edit message body (channel message, interaction response or webhook)."""
    content = body.get("content")
    if content is not None and len(str(content)) > MAX_CONTENT:
        return _too_long(["content"], MAX_CONTENT)
    embeds = body.get("embeds") or []
    if len(embeds) > MAX_EMBEDS:
        return _too_long(["embeds"], MAX_EMBEDS)
    error = _check_embeds(embeds)
    if error is None:
        error = _check_components(body.get("components") or [], body.get("flags") or 0)
    if error is not None:
        return error
    if is_edit:
        return None
    has_text = bool(str(content or "").strip())
    has_other = any(body.get(key) for key in ("embeds", "components", "sticker_ids", "poll"))
    if not (has_text or has_other or has_files or body.get("attachments")):
        return {"code": 50006, "message": "Cannot send an empty message"}
    return None


def _check_embeds(embeds: list[dict[str, Any]]) -> dict[str, Any] | None:
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in EMBED_LIMITS.items():
            text = str(embed.get(key) or "")
            total += len(text)
            if len(text) > limit:
                return _too_long(["embeds", index, key], limit)
        fields = embed.get("fields") or []
        if len(fields) > MAX_FIELDS:
            return _too_long(["embeds", index, "fields"], MAX_FIELDS)
        for field_index, embed_field in enumerate(fields):
            for key, limit in FIELD_LIMITS.items():
                text = str(embed_field.get(key) or "")
                total += len(text)
                if not text:
                    path: list[str | int] = ["embeds", index, "fields", field_index, key]
                    return form_error(path, "BASE_TYPE_REQUIRED", "This field is required")
                if len(text) > limit:
                    return _too_long(["embeds", index, "fields", field_index, key], limit)
        footer = str((embed.get("footer") or {}).get("text") or "")
        if len(footer) > MAX_FOOTER_TEXT:
            return _too_long(["embeds", index, "footer", "text"], MAX_FOOTER_TEXT)
        author = str((embed.get("author") or {}).get("name") or "")
        if len(author) > MAX_AUTHOR_NAME:
            return _too_long(["embeds", index, "author", "name"], MAX_AUTHOR_NAME)
        total += len(footer) + len(author)
    if total > MAX_EMBED_TOTAL:
        return form_error(
            ["embeds"], "BASE_TYPE_MAX_LENGTH", "Embed size exceeds maximum size of 6000"
        )
    return None


def _check_components(components: list[dict[str, Any]], flags: int) -> dict[str, Any] | None:
    components_v2 = bool(flags & (1 << 15))
    if not components_v2 and len(components) > MAX_ACTION_ROWS:
        return _too_long(["components"], MAX_ACTION_ROWS)
    for index, component in enumerate(components):
        if not components_v2 and component.get("type") != 1:
            return form_error(["components", index], "UNION_TYPE_CHOICES", "Value must be a row")
    for component in iter_components(components):
        custom_id = component.get("custom_id")
        if custom_id is not None and not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
            return _too_long(["components", "custom_id"], MAX_CUSTOM_ID)
        label = component.get("label")
        if component.get("type") == 2 and label is not None and len(label) > MAX_BUTTON_LABEL:
            return _too_long(["components", "label"], MAX_BUTTON_LABEL)
    return None


def check_commands(commands: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Validate a bulk-overwrite list of application commands."""
    chat_input = [c for c in commands if c.get("type", 1) == CHAT_INPUT]
    if len(chat_input) > MAX_COMMANDS:
        return _too_long([], MAX_COMMANDS)
    for kind in (USER_COMMAND, MESSAGE_COMMAND):
        if sum(1 for c in commands if c.get("type") == kind) > MAX_CONTEXT_MENUS:
            return form_error(
                [], "APPLICATION_COMMANDS_TOO_MANY", f"Maximum number of {kind} commands reached"
            )
    seen: set[tuple[str, int]] = set()
    for index, command in enumerate(commands):
        key = (str(command.get("name")), int(command.get("type", 1)))
        if key in seen:
            return form_error(
                [index, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name"
            )
        seen.add(key)
        error = check_command(command, [index])
        if error is not None:
            return error
    return None


def check_command(command: dict[str, Any], path: list[str | int]) -> dict[str, Any] | None:
    """Validate one application command (names, descriptions, options)."""
    kind = command.get("type", CHAT_INPUT)
    if kind not in (CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND):
        return form_error([*path, "type"], "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3).")
    if kind != CHAT_INPUT:
        return _check_context_menu(command, path)
    name = str(command.get("name") or "")
    if not COMMAND_NAME.match(name) or name != name.lower():
        return form_error([*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
    description = str(command.get("description") or "")
    if not 1 <= len(description) <= 100:
        return form_error(
            [*path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    return _check_options(command.get("options") or [], [*path, "options"])


def _check_context_menu(command: dict[str, Any], path: list[str | int]) -> dict[str, Any] | None:
    """User and message commands: a 1-32 character name (spaces and capitals allowed), no
    description, no options."""
    name = str(command.get("name") or "")
    if not 1 <= len(name) <= 32 or name != name.strip():
        return form_error([*path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
    if command.get("description"):
        return form_error(
            [*path, "description"],
            "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
            "Context menu commands cannot have a description",
        )
    if command.get("options"):
        return form_error(
            [*path, "options"],
            "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS",
            "Context menu commands cannot have options",
        )
    return None


def _check_options(options: list[dict[str, Any]], path: list[str | int]) -> dict[str, Any] | None:
    if len(options) > MAX_OPTIONS:
        return _too_long(path, MAX_OPTIONS)
    seen_optional = False
    for index, option in enumerate(options):
        error = check_command({**option, "type": 1}, [*path, index])
        if error is not None:
            return error
        if option.get("type") in SUBCOMMAND_TYPES:
            continue
        if option.get("required"):
            if seen_optional:
                return form_error(
                    [*path, index, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if len(option.get("choices") or []) > MAX_CHOICES:
            return _too_long([*path, index, "choices"], MAX_CHOICES)
    return None
