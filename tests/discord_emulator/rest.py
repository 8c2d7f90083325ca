"""The REST side: request recording, auth, fault injection and rate limits (one middleware), and the
account-level routes (users, gateway discovery, application info and commands, guild reads).

Message routes live in ``channels_api``, interaction routes in ``interactions_api``; ``server``
assembles them into the aiohttp application.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import EmulatorError, unknown
from .faults import FaultRule, json_response, no_content, too_many_requests
from .gateway import GatewayHub
from .records import RecordedRequest
from .world import World

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
# Interaction callbacks and token webhooks are authorised by their token, /gateway by nothing.
NO_AUTH_PATHS = re.compile(r"^/(interactions/\d+/[^/]+/callback|webhooks/\d+/[^/]+(/.*)?|gateway)$")

RECORD = web.RequestKey("record", RecordedRequest)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RouteTable = list[tuple[str, str, Handler]]


async def read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    """Return ``(json_body, files)``; multipart uploads yield their ``payload_json`` and files."""
    if request.content_type == "multipart/form-data":
        payload: Any = None
        files: list[dict[str, Any]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                data = await part.read()
                files.append(
                    {
                        "field": part.name,
                        "filename": part.filename,
                        "content_type": part.headers.get("Content-Type"),
                        "size": len(data),
                        "data": bytes(data),
                    }
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    if request.content_type == "application/json":
        return json.loads(raw), []
    return raw.decode(errors="replace"), []


def make_middleware(world: World, faults: list[FaultRule]) -> Any:
    """Record every API request, check the bot token, inject faults, add rate-limit headers."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        path = request.path[len(API_PREFIX) :] or "/"
        body, files = await read_body(request)
        resource = request.match_info.route.resource
        pattern = resource.canonical[len(API_PREFIX) :] if resource is not None else None
        record = RecordedRequest(
            world.feed.bump(),
            request.method,
            path,
            dict(request.query),
            dict(request.headers),
            body,
            files,
            route=pattern if pattern != "/{tail}" else None,
            time=world.clock.monotonic(),
        )
        world.requests.append(record)
        request[RECORD] = record
        response = await _answer(world, faults, request, handler, record)
        record.status = response.status
        record.response_headers = dict(response.headers)
        if isinstance(response, web.Response) and response.content_type == "application/json":
            record.response = json.loads(response.body)  # type: ignore[arg-type]
        world.feed.notify()
        return response

    return middleware


async def _answer(
    world: World,
    faults: list[FaultRule],
    request: web.Request,
    handler: Handler,
    record: RecordedRequest,
) -> web.StreamResponse:
    auth = request.headers.get("Authorization")
    exempt = NO_AUTH_PATHS.match(record.path) is not None
    if (auth is not None or not exempt) and auth != f"Bot {world.token}":
        return json_response({"message": "401: Unauthorized", "code": 0}, 401)
    route = record.route or record.path
    for rule in faults:
        if rule.matches(request.method, record.path):
            record.injected_fault = True
            log.info("injecting %d for %s %s", rule.status, request.method, record.path)
            headers = world.rate_limits.exhausted_headers(request.method, route, rule.retry_after)
            return rule.response(headers)
    verdict = world.rate_limits.take(request.method, route, request.match_info)
    if verdict.retry_after is not None:
        record.rate_limited = True
        log.info("rate limiting %s %s for %.3f s", request.method, record.path, verdict.retry_after)
        return too_many_requests(verdict.retry_after, verdict.headers)
    try:
        response = await handler(request)
    except EmulatorError as exc:
        response = json_response(exc.body, exc.status)
    except Exception as exc:
        # A bug in the emulator, not a Discord error: remember it so the test fails loudly.
        log.exception("emulator failed handling %s %s", request.method, record.path)
        world.internal_errors.append(exc)
        return json_response({"message": "emulator internal error", "code": 0}, 599)
    response.headers.update(verdict.headers)
    return response


class AccountApi:
    """Users, gateway discovery, application info, application commands and guild reads."""

    def __init__(self, world: World, gateway: GatewayHub, gateway_url: Callable[[], str]) -> None:
        self.world = world
        self.gateway = gateway
        self.gateway_url = gateway_url
        self.verify_key = secrets.token_hex(32)

    def routes(self) -> RouteTable:
        """The (method, path, handler) triples this class serves."""
        commands = "/applications/{app_id}/commands"
        guild_commands = "/applications/{app_id}/guilds/{guild_id}/commands"
        return [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/users/{user_id}", self.get_user),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway_bot),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/applications/@me", self.get_application),
            ("GET", commands, self.list_commands),
            ("PUT", commands, self.overwrite_commands),
            ("POST", commands, self.upsert_command),
            ("GET", commands + "/{command_id}", self.get_command),
            ("PATCH", commands + "/{command_id}", self.edit_command),
            ("DELETE", commands + "/{command_id}", self.delete_command),
            ("GET", guild_commands, self.list_commands),
            ("PUT", guild_commands, self.overwrite_commands),
            ("POST", guild_commands, self.upsert_command),
            ("GET", guild_commands + "/{command_id}", self.get_command),
            ("PATCH", guild_commands + "/{command_id}", self.edit_command),
            ("DELETE", guild_commands + "/{command_id}", self.delete_command),
            ("GET", "/guilds/{guild_id}", self.get_guild),
            ("GET", "/guilds/{guild_id}/channels", self.get_guild_channels),
            ("GET", "/guilds/{guild_id}/roles", self.get_guild_roles),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self.get_guild_member),
            ("GET", "/channels/{channel_id}", self.get_channel),
        ]

    async def get_me(self, request: web.Request) -> web.Response:
        """GET /users/@me - the bot's own user (this is how discord.py logs in)."""
        me = {
            **self.world.bot_user.to_payload(),
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
        }
        return json_response(me)

    async def get_user(self, request: web.Request) -> web.Response:
        """GET /users/{id}."""
        user = self.world.users.get(_snowflake(request, "user_id"))
        if user is None:
            raise unknown("User", 10013)
        return json_response(user.to_payload())

    async def get_gateway(self, request: web.Request) -> web.Response:
        """GET /gateway."""
        return json_response({"url": self.gateway_url()})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        """GET /gateway/bot (used by AutoShardedClient)."""
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return json_response({"url": self.gateway_url(), "shards": 1, "session_start_limit": limit})

    async def get_application(self, request: web.Request) -> web.Response:
        """GET /oauth2/applications/@me - discord.py fetches this during login."""
        world = self.world
        flags = (1 << 12) | (1 << 14) | (1 << 18) if self.gateway.privileged_intents else 0
        return json_response(
            {
                "id": str(world.application_id),
                "name": world.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": world.bot_user.to_payload(),
                "owner": world.owner_user.to_payload(),
                "team": None,
                "verify_key": self.verify_key,
                "flags": flags,
                "interactions_endpoint_url": None,
                "redirect_uris": [],
                "tags": [],
                "approximate_guild_count": 1,
                "integration_types_config": {"0": {}},
            }
        )

    def _scope(self, request: web.Request) -> int | None:
        if _snowflake(request, "app_id") != self.world.application_id:
            raise EmulatorError(403, {"message": "Missing Access", "code": 50001})
        if "guild_id" not in request.match_info:
            return None
        guild_id = _snowflake(request, "guild_id")
        if guild_id != self.world.guild.id:
            raise EmulatorError(403, {"message": "Missing Access", "code": 50001})
        return guild_id

    async def list_commands(self, request: web.Request) -> web.Response:
        """GET the registered global or guild commands."""
        return json_response(self.world.commands.list(self._scope(request)))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        """PUT (bulk overwrite) - what ``CommandTree.sync`` calls."""
        scope = self._scope(request)
        return json_response(self.world.commands.overwrite(scope, request[RECORD].json))

    async def upsert_command(self, request: web.Request) -> web.Response:
        """POST one command (replaces a same-named one)."""
        scope = self._scope(request)
        return json_response(self.world.commands.upsert(scope, request[RECORD].json or {}), 201)

    async def get_command(self, request: web.Request) -> web.Response:
        """GET one command."""
        scope = self._scope(request)
        command = self.world.commands.get(scope, request.match_info["command_id"])
        return json_response(copy.deepcopy(command))

    async def edit_command(self, request: web.Request) -> web.Response:
        """PATCH one command."""
        scope, command_id = self._scope(request), request.match_info["command_id"]
        edited = self.world.commands.edit(scope, command_id, request[RECORD].json or {})
        return json_response(edited)

    async def delete_command(self, request: web.Request) -> web.Response:
        """DELETE one command."""
        self.world.commands.delete(self._scope(request), request.match_info["command_id"])
        return no_content()

    def _guild(self, request: web.Request) -> None:
        if _snowflake(request, "guild_id") != self.world.guild.id:
            raise unknown("Guild", 10004)

    async def get_guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}."""
        self._guild(request)
        payload = self.world.guild.to_create_payload(bot_user_id=self.world.bot_user.id)
        for key in ("members", "channels", "threads", "presences", "voice_states", "joined_at"):
            payload.pop(key, None)
        payload["approximate_member_count"] = len(self.world.guild.members)
        return json_response(payload)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/channels."""
        self._guild(request)
        guild = self.world.guild
        return json_response([c.to_payload(guild_id=guild.id) for c in guild.channels.values()])

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles."""
        self._guild(request)
        return json_response([r.to_payload() for r in self.world.guild.roles.values()])

    async def get_guild_member(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members/{user_id}."""
        self._guild(request)
        member = self.world.guild.members.get(_snowflake(request, "user_id"))
        if member is None:
            raise unknown("Member", 10007)
        return json_response(member.to_payload())

    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}."""
        channel = self.world.channel(_snowflake(request, "channel_id"))
        return json_response(channel.to_payload(guild_id=self.world.guild.id))


async def unknown_route(request: web.Request) -> web.Response:
    """Catch-all: Discord's JSON 404 (the request is recorded with ``route=None``)."""
    log.warning("emulator has no route for %s %s", request.method, request.path)
    return json_response({"message": "404: Not Found", "code": 0}, 404)


def _snowflake(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise EmulatorError(
            400,
            {"message": "Invalid Form Body", "code": 50035, "errors": {name: "not a snowflake"}},
        ) from None
