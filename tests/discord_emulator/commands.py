"""Application-command registry: global and guild scopes, as ``CommandTree.sync`` sees them.

Like Discord, a bulk overwrite keeps the id of a command whose name and type are unchanged, and
invalid definitions (bad names, >100 commands, required options after optional ones, ...) are
refused with 400 ``Invalid Form Body``.
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import EmulatorError, unknown
from .models import SnowflakeFactory
from .records import ChangeFeed
from .validation import check_commands, form_error

Scope = int | None  # None is the global scope, otherwise a guild id


class CommandRegistry:
    """Registered commands per scope, with Discord's id-preserving overwrite semantics."""

    def __init__(
        self, snowflakes: SnowflakeFactory, feed: ChangeFeed, application_id: int, guild_id: int
    ) -> None:
        self.snowflakes = snowflakes
        self.feed = feed
        self.application_id = application_id
        self.guild_id = guild_id
        self.scopes: dict[Scope, list[dict[str, Any]]] = {None: [], guild_id: []}

    def list(self, scope: Scope) -> list[dict[str, Any]]:
        """A copy of the commands registered in ``scope``."""
        return copy.deepcopy(self.scopes.get(scope, []))

    def overwrite(self, scope: Scope, body: Any) -> list[dict[str, Any]]:
        """Replace every command in ``scope`` (PUT); returns the stored commands."""
        if not isinstance(body, list):
            raise EmulatorError(400, form_error([], "LIST_TYPE_CONVERT", "Must be a list."))
        error = check_commands(body)
        if error is not None:
            raise EmulatorError(400, error)
        previous = {(c["name"], c["type"]): c for c in self.scopes.get(scope, [])}
        stored = []
        for command in body:
            old = previous.get((command["name"], int(command.get("type", 1))))
            stored.append(self._payload(command, scope, old))
        self.scopes[scope] = stored
        self.feed.bump()
        return copy.deepcopy(stored)

    def upsert(self, scope: Scope, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace one command (POST)."""
        kind = int(body.get("type", 1))
        others = [
            c
            for c in self.scopes.get(scope, [])
            if not (c["name"] == body.get("name") and c["type"] == kind)
        ]
        return self.overwrite(scope, [*others, body])[-1]

    def get(self, scope: Scope, command_id: str) -> dict[str, Any]:
        """One command by id, or Discord's ``Unknown application command``."""
        for command in self.scopes.get(scope, []):
            if command["id"] == command_id:
                return command
        raise unknown("application command", 10063)

    def edit(self, scope: Scope, command_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Patch one command (PATCH)."""
        command = self.get(scope, command_id)
        commands = [{**c, **body} if c is command else c for c in self.scopes[scope]]
        return next(c for c in self.overwrite(scope, commands) if c["id"] == command_id)

    def delete(self, scope: Scope, command_id: str) -> None:
        """Remove one command (DELETE)."""
        command = self.get(scope, command_id)
        self.scopes[scope] = [c for c in self.scopes[scope] if c is not command]
        self.feed.bump()

    def find(self, name: str, kind: int = 1) -> dict[str, Any]:
        """A command by name, guild scope first (as the Discord client resolves it)."""
        for scope in (self.guild_id, None):
            for command in self.scopes.get(scope, []):
                if command["name"] == name and command["type"] == kind:
                    return command
        registered = sorted(c["name"] for commands in self.scopes.values() for c in commands)
        raise LookupError(f"no command {name!r} of type {kind} is registered (have {registered})")

    def _payload(
        self, body: dict[str, Any], scope: Scope, old: dict[str, Any] | None
    ) -> dict[str, Any]:
        kind = int(body.get("type", 1))
        payload: dict[str, Any] = {
            "id": old["id"] if old else str(self.snowflakes.next()),
            "application_id": str(self.application_id),
            "version": str(self.snowflakes.next()),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description", "") if kind == 1 else "",
            "description_localizations": body.get("description_localizations"),
            "default_member_permissions": body.get("default_member_permissions"),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types", [0]),
            "options": copy.deepcopy(body.get("options") or []),
        }
        if scope is not None:
            payload["guild_id"] = str(scope)
        else:
            payload["dm_permission"] = body.get("dm_permission", True)
        return payload
