"""``DiscordEmulator``: start/stop the server, the cast of test users, and event injection.

Waiting and fault-injection helpers come from ``EmulatorControls`` (``controls.py``).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

from .actions import PeopleActions
from .controls import EmulatorControls
from .faults import FaultRule
from .gateway import GatewayHub
from .injectors import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    command_data,
    find_component,
    modal_submit_data,
    new_interaction,
    user_message,
)
from .models import (
    BOT_DEFAULT_PERMISSIONS,
    EVERYONE_DEFAULT_PERMISSIONS,
    MANAGE_GUILD,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    permission_value,
)
from .ratelimits import RouteLimit
from .records import InteractionRecord, StoredMessage
from .server import EmulatorServer
from .threads import Threads
from .world import World

log = logging.getLogger(__name__)

MessageRef = StoredMessage | Mapping[str, Any] | int


class DiscordEmulator(EmulatorControls, PeopleActions):
    """A Discord API + gateway emulator on ``127.0.0.1`` (random port) for end-to-end tests.

    Use as ``async with DiscordEmulator() as emu:``. The guild comes with ``emu.owner``,
    ``emu.admin`` (Manage Guild), ``emu.member`` (no extra permissions) and ``emu.other_bot``
    (``bot: true``), and one text channel ``emu.channel``. ``interaction_deadline`` is how long
    the bot has for the first interaction callback before it gets ``Unknown interaction``
    (Discord's 3 s; None disables it). ``now`` sets the emulated clock (message timestamps and
    snowflakes, deadlines), which then runs at real speed; ``emu.advance_clock`` moves it ahead.
    ``route_limits`` replaces Discord's per-route rate limits (``ratelimits.py``), keyed by
    ``(method, route template)``. Leaving the block raises if the emulator itself failed.
    Threads and context-menu commands are in ``PeopleActions`` (``actions.py``).
    """

    def __init__(
        self,
        *,
        token: str = "emulated-bot-token",
        bot_name: str = "citebot",
        guild_name: str = "Emulated Guild",
        bot_permissions: int | Any = BOT_DEFAULT_PERMISSIONS,
        heartbeat_interval: float = 1.0,
        privileged_intents: bool = True,
        interaction_deadline: float | None = 3.0,
        host: str = "127.0.0.1",
        now: datetime | None = None,
        route_limits: Mapping[tuple[str, str], RouteLimit] | None = None,
    ) -> None:
        self.world = World(
            token=token,
            bot_name=bot_name,
            guild_name=guild_name,
            bot_permissions=permission_value(bot_permissions),
            interaction_deadline=interaction_deadline,
            now=now,
            route_limits=route_limits,
        )
        self.gateway = GatewayHub(
            self.world, heartbeat_interval=heartbeat_interval, privileged_intents=privileged_intents
        )
        self.faults: list[FaultRule] = []
        self.threads = Threads(self.world, self.gateway)
        self.server = EmulatorServer(self.world, self.gateway, self.faults, host, self.threads)
        admin_perms = EVERYONE_DEFAULT_PERMISSIONS | MANAGE_GUILD
        self.admin_role = self.world.add_role("Admin", admin_perms)
        self.owner: FakeMember = self.world.member(self.world.owner_user.id)
        self.admin: FakeMember = self.world.make_test_member("admin", roles=[self.admin_role])
        self.member: FakeMember = self.world.make_test_member("member")
        self.other_bot: FakeMember = self.world.make_test_member("other-bot", bot=True)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Bind a free port on ``host`` and start serving."""
        await self.server.start()

    async def stop(self) -> None:
        """Close gateway sockets (code 1001) and stop the server."""
        await self.server.stop()

    @property
    def internal_errors(self) -> list[BaseException]:
        """Exceptions raised by the emulator itself (a bug here, not in the bot)."""
        return list(self.world.internal_errors)

    async def __aenter__(self) -> DiscordEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if exc is None and self.world.internal_errors:
            raise RuntimeError(f"the emulator itself failed: {self.world.internal_errors!r}")

    @property
    def port(self) -> int:
        """The port the emulator listens on (0 before ``start``)."""
        return self.server.port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.server.base_url

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE``: ``http://127.0.0.1:PORT/api/v10``."""
        return self.server.api_base

    @property
    def gateway_url(self) -> str:
        """The value for ``DiscordWebSocket.DEFAULT_GATEWAY``: ``ws://127.0.0.1:PORT/gateway/``."""
        return self.server.gateway_url

    # -- the cast -----------------------------------------------------------------------

    @property
    def token(self) -> str:
        """The bot token the emulator accepts."""
        return self.world.token

    @property
    def application_id(self) -> int:
        """The application id (equal to the bot user's id)."""
        return self.world.application_id

    @property
    def bot_user(self) -> FakeUser:
        """The bot's user account."""
        return self.world.bot_user

    @property
    def bot_member(self) -> FakeMember:
        """The bot's guild membership."""
        return self.world.bot_member

    @property
    def guild(self) -> FakeGuild:
        """The emulated guild."""
        return self.world.guild

    @property
    def channel(self) -> FakeChannel:
        """The default text channel, ``#general``."""
        return self.world.default_channel

    def add_role(
        self, name: str, permissions: int | Any = 0, *, role_id: int | None = None
    ) -> FakeRole:
        """Create a role; dispatched as GUILD_ROLE_CREATE if the bot is connected."""
        role = self.world.add_role(name, permission_value(permissions), role_id=role_id)
        self._announce(
            "GUILD_ROLE_CREATE", {"guild_id": str(self.guild.id), "role": role.to_payload()}
        )
        return role

    def add_member(
        self,
        username: str,
        *,
        roles: list[FakeRole | int] | None = None,
        permissions: int | Any | None = None,
        bot: bool = False,
        user_id: int | None = None,
    ) -> FakeMember:
        """Create a member with ``roles`` and/or a dedicated role granting ``permissions``."""
        perms = None if permissions is None else permission_value(permissions)
        member = self.world.make_test_member(
            username, roles=roles, permissions=perms, bot=bot, user_id=user_id
        )
        if perms is not None:
            role = self.guild.roles[member.role_ids[-1]]
            self._announce(
                "GUILD_ROLE_CREATE", {"guild_id": str(self.guild.id), "role": role.to_payload()}
            )
        self._announce("GUILD_MEMBER_ADD", {**member.to_payload(), "guild_id": str(self.guild.id)})
        return member

    def add_text_channel(
        self, name: str, *, overwrites: list[dict[str, Any]] | None = None
    ) -> FakeChannel:
        """Create a text channel (Discord-format ``overwrites``); dispatched as CHANNEL_CREATE."""
        channel = self.world.add_channel(name, overwrites=overwrites)
        self._announce("CHANNEL_CREATE", channel.to_payload(guild_id=self.guild.id))
        return channel

    def _announce(self, event: str, data: dict[str, Any]) -> None:
        if self.gateway.session is not None:
            self.gateway.dispatch(event, data)

    # -- what people do -----------------------------------------------------------------

    async def send_message(
        self,
        content: str = "",
        *,
        author: FakeMember | None = None,
        channel_id: int | None = None,
        mentions: list[FakeMember | FakeUser] | None = None,
        referenced_message: MessageRef | None = None,
        reply_ping: bool = True,
        embeds: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Post a message as ``author`` (default ``emu.member``) and dispatch MESSAGE_CREATE.

        Mentions are parsed from ``<@id>`` in ``content`` unless ``mentions`` is given; a reply
        pings the replied-to author unless ``reply_ping=False`` (the Discord client default).
        Returns the message payload.
        """
        channel = self.world.channel(channel_id or self.channel.id)
        referenced = None if referenced_message is None else self.message(referenced_message)
        payload = user_message(
            self.world,
            author=author or self.member,
            channel=channel,
            content=content,
            mentions=mentions,
            referenced=referenced,
            reply_ping=reply_ping,
            embeds=embeds,
        )
        self.world.store_message(payload, source="user")
        self.gateway.dispatch("MESSAGE_CREATE", payload)
        return copy.deepcopy(payload)

    async def run_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
        *,
        user: FakeMember | None = None,
        subcommand: str | None = None,
        subcommand_group: str | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Invoke the registered ``/name`` as ``user`` (default ``emu.member``).

        ``options`` maps option names to values (members, roles and channels may be passed as
        emulator objects); it is typed against the registered command, so the command must
        have been synced first. Returns the interaction record.
        """
        member = user or self.member
        channel = self.world.channel(channel_id or self.channel.id)
        command = self.world.commands.find(name)
        data = command_data(
            self.world,
            command,
            options,
            member=member,
            channel=channel,
            subcommand=subcommand,
            group=subcommand_group,
        )
        return self._dispatch_interaction(
            kind=APPLICATION_COMMAND, member=member, channel=channel, data=data, locale=locale
        )

    async def run_autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        focused: str,
        user: FakeMember | None = None,
        subcommand: str | None = None,
        subcommand_group: str | None = None,
    ) -> InteractionRecord:
        """Send AUTOCOMPLETE for option ``focused``; choices land in ``autocomplete_choices``."""
        member = user or self.member
        command = self.world.commands.find(name)
        data = command_data(
            self.world,
            command,
            options,
            member=member,
            channel=self.channel,
            subcommand=subcommand,
            group=subcommand_group,
            focused=focused,
        )
        return self._dispatch_interaction(
            kind=AUTOCOMPLETE, member=member, channel=self.channel, data=data
        )

    async def press_button(
        self, message: MessageRef, custom_id: str, *, user: FakeMember | None = None
    ) -> InteractionRecord:
        """Press the button ``custom_id`` on ``message`` as ``user`` (default ``emu.member``)."""
        stored = self.message(message)
        component = find_component(stored, custom_id)
        data = {"custom_id": custom_id, "component_type": component["type"]}
        return self._component_interaction(stored, data, user)

    async def choose_select(
        self,
        message: MessageRef,
        custom_id: str,
        values: list[str],
        *,
        user: FakeMember | None = None,
    ) -> InteractionRecord:
        """Pick ``values`` in the string select ``custom_id`` on ``message``."""
        stored = self.message(message)
        component = find_component(stored, custom_id)
        data = {"custom_id": custom_id, "component_type": component["type"], "values": list(values)}
        return self._component_interaction(stored, data, user)

    async def submit_modal(
        self,
        opened_by: InteractionRecord,
        values: Mapping[str, str | list[str]],
        *,
        user: FakeMember | None = None,
    ) -> InteractionRecord:
        """Submit the modal the bot answered ``opened_by`` with, filling inputs by custom_id."""
        if opened_by.modal is None:
            raise LookupError(f"interaction {opened_by.id} was not answered with a modal")
        member = user or self.world.member(opened_by.user_id)
        channel = self.world.channel(opened_by.channel_id)
        data = modal_submit_data(opened_by.modal, values)
        source = self.world.messages.get(opened_by.source_message_id or 0)
        return self._dispatch_interaction(
            kind=MODAL_SUBMIT, member=member, channel=channel, data=data, message=source
        )

    def _component_interaction(
        self, stored: StoredMessage, data: dict[str, Any], user: FakeMember | None
    ) -> InteractionRecord:
        member = user or self.member
        channel = self.world.channel(stored.channel_id)
        return self._dispatch_interaction(
            kind=MESSAGE_COMPONENT, member=member, channel=channel, data=data, message=stored
        )

    def _dispatch_interaction(
        self,
        *,
        kind: int,
        member: FakeMember,
        channel: FakeChannel,
        data: dict[str, Any],
        message: StoredMessage | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        record = new_interaction(
            self.world,
            kind=kind,
            member=member,
            channel=channel,
            data=data,
            message=message,
            locale=locale,
        )
        self.gateway.dispatch("INTERACTION_CREATE", record.payload)
        return record

    async def dispatch(self, event: str, data: dict[str, Any]) -> int | None:
        """Dispatch a raw gateway event to the bot; returns its sequence number."""
        return self.gateway.dispatch(event, data)
