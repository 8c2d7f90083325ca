"""The test-facing half of ``DiscordEmulator``: records, waiters and fault injection.

Waiters never sleep: they re-check their condition whenever the emulator's state changes and
raise ``TimeoutError`` (naming what they waited for) when the timeout passes. Pass
``since=emu.checkpoint()`` to ignore everything that happened before the checkpoint.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from .faults import FaultRule
from .gateway import OP_INVALID_SESSION, OP_RECONNECT
from .records import GatewayFrame, InteractionRecord, RecordedRequest, StoredMessage

if TYPE_CHECKING:
    from .clock import EmulatedClock
    from .gateway import GatewayHub
    from .world import World

T = TypeVar("T")
DEFAULT_TIMEOUT = 5.0


class EmulatorControls:
    """Mixin for ``DiscordEmulator``; expects ``world``, ``gateway`` and ``faults`` attributes."""

    world: World
    gateway: GatewayHub
    faults: list[FaultRule]

    # -- records ------------------------------------------------------------------------

    def checkpoint(self) -> int:
        """The current change stamp; pass it as ``since=`` to wait only for later changes."""
        return self.world.feed.current

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every REST request received, in arrival order."""
        return list(self.world.requests)

    @property
    def gateway_frames(self) -> list[GatewayFrame]:
        """Every gateway payload the bot sent (heartbeats, IDENTIFY, RESUME, ...)."""
        return list(self.world.frames)

    @property
    def messages(self) -> list[StoredMessage]:
        """Every message (including deleted and ephemeral ones), oldest first."""
        return sorted(self.world.messages.values(), key=lambda m: m.id)

    @property
    def interactions(self) -> list[InteractionRecord]:
        """Every interaction dispatched, oldest first."""
        return sorted(self.world.interactions.values(), key=lambda i: i.id)

    def commands(self, *, guild: bool = True) -> list[dict[str, Any]]:
        """The registered guild (default) or global application commands."""
        return self.world.commands.list(self.world.guild.id if guild else None)

    def message(self, ref: StoredMessage | Mapping[str, Any] | int) -> StoredMessage:
        """Look up a stored message by record, payload dict or id (deleted ones raise)."""
        if isinstance(ref, StoredMessage):
            message_id = ref.id
        else:
            message_id = int(ref["id"]) if isinstance(ref, Mapping) else int(ref)
        stored = self.world.messages.get(message_id)
        if stored is None or stored.deleted:
            raise LookupError(f"no live message {message_id}")
        return stored

    def requests_to(self, method: str, path_regex: str, *, since: int = 0) -> list[RecordedRequest]:
        """Answered requests whose method matches and whose path matches ``re.search``."""
        pattern = re.compile(path_regex)
        return [
            r
            for r in self.world.requests
            if r.stamp > since and r.status is not None
            if r.method == method.upper() and pattern.search(r.path)
        ]

    # -- waiters ------------------------------------------------------------------------

    async def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        what: str = "condition",
    ) -> T:
        """Return the first truthy ``check()``, re-evaluated after every emulator change.

        Changes are REST requests, gateway frames (heartbeats included) and message or
        interaction updates; for conditions on the bot's own state use ``client.wait_for``.
        """
        return await self.world.feed.wait_until(check, timeout, what)

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        since: int = 0,
    ) -> RecordedRequest:
        """Wait for an answered request matching ``method``, ``path`` (regex) and ``predicate``."""
        pattern = re.compile(path) if path is not None else None

        def find() -> RecordedRequest | None:
            for request in self.world.requests:
                if request.stamp <= since or request.status is None:
                    continue
                if method is not None and request.method != method.upper():
                    continue
                if pattern is not None and not pattern.search(request.path):
                    continue
                if predicate is None or predicate(request):
                    return request
            return None

        return await self.wait_until(
            find, timeout=timeout, what=f"request {method or '*'} {path or ''}"
        )

    async def wait_for_message(
        self,
        channel_id: int | None = None,
        predicate: Callable[[StoredMessage], bool] | None = None,
        *,
        interaction: InteractionRecord | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        since: int = 0,
    ) -> StoredMessage:
        """Wait for a message *from the bot* (created or edited after ``since``).

        Deleted messages and deferred "thinking" placeholders are skipped; ``interaction``
        restricts to messages answering that interaction (original response or follow-ups).
        """
        bot_id = self.world.bot_user.id

        def find() -> StoredMessage | None:
            for message in sorted(self.world.messages.values(), key=lambda m: m.stamp):
                if message.stamp <= since or message.deleted or message.loading:
                    continue
                if message.author_id != bot_id:
                    continue
                if channel_id is not None and message.channel_id != channel_id:
                    continue
                if interaction is not None and message.interaction_id != interaction.id:
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        where = f"in channel {channel_id}" if channel_id is not None else "in any channel"
        about = f" for interaction {interaction.id}" if interaction is not None else ""
        return await self.wait_until(find, timeout=timeout, what=f"a bot message {where}{about}")

    async def wait_for_ack(
        self, interaction: InteractionRecord, *, timeout: float = DEFAULT_TIMEOUT
    ) -> InteractionRecord:
        """Wait until the bot has answered the interaction's callback."""
        return await self.wait_until(
            lambda: interaction if interaction.acknowledged else None,
            timeout=timeout,
            what=f"a callback for interaction {interaction.id}",
        )

    async def wait_for_gateway_frame(
        self,
        op: int,
        predicate: Callable[[GatewayFrame], bool] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        since: int = 0,
    ) -> GatewayFrame:
        """Wait for the bot to send a gateway payload with opcode ``op`` (2 IDENTIFY, 6 RESUME)."""

        def find() -> GatewayFrame | None:
            for frame in self.world.frames:
                if (
                    frame.stamp > since
                    and frame.op == op
                    and (predicate is None or predicate(frame))
                ):
                    return frame
            return None

        return await self.wait_until(find, timeout=timeout, what=f"gateway op {op}")

    # -- the emulated clock ---------------------------------------------------------------

    @property
    def clock(self) -> EmulatedClock:
        """Discord's clock (see ``clock.py``): timestamps, deadlines, token expiry, windows."""
        return self.world.clock

    def advance_clock(self, seconds: float) -> None:
        """Move Discord's clock ``seconds`` ahead at once, e.g. past the 3-second interaction
        deadline or the 15-minute token lifetime, without waiting."""
        self.world.clock.advance(seconds)
        self.world.feed.notify()

    # -- faults -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        retry_after: float = 0.3,
        count: int = 1,
        *,
        is_global: bool = False,
        body: dict[str, Any] | None = None,
    ) -> FaultRule:
        """Answer the next ``count`` matching requests with ``status`` instead of handling them.

        ``path_regex`` is searched in the path after ``/api/v10`` (anchor it with ``^…$``).
        A 429 carries ``Via``, ``Retry-After``, ``X-RateLimit-*`` headers and a JSON
        ``retry_after``, so discord.py sleeps ``retry_after`` and retries; 5xx are retried
        by discord.py after 1 s (its fixed back-off).
        """
        rule = FaultRule(
            method.upper(), re.compile(path_regex), status, retry_after, count, is_global, body
        )
        self.faults.append(rule)
        return rule

    async def drop_gateway(self, code: int = 4000, *, hold_reconnect: bool = False) -> None:
        """Close the bot's gateway socket with ``code``; the session stays resumable.

        With ``hold_reconnect`` new connections wait before HELLO until ``release_gateway()``,
        so events dispatched meanwhile are guaranteed to be delivered by RESUME replay.
        """
        if hold_reconnect:
            self.gateway.hold_new_connections()
        await self.gateway.drop(code)

    def release_gateway(self) -> None:
        """Let connections held by ``drop_gateway(hold_reconnect=True)`` proceed."""
        self.gateway.release_new_connections()

    def silence_gateway(self) -> None:
        """Let the bot's gateway connection die without a close frame: the socket stays open
        but the emulator sends nothing more on it (no heartbeat ACKs, no events). The bot
        must notice (``heartbeat_timeout``), reconnect and RESUME; events dispatched meanwhile
        are replayed then."""
        self.gateway.silence()

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT: the bot should reconnect and RESUME."""
        self.gateway.send_op(OP_RECONNECT, None)

    def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; when not resumable the bot must IDENTIFY again.

        discord.py sleeps 5 s in ``Client.before_identify_hook`` before re-identifying: override
        that hook in tests.
        """
        self.gateway.send_op(OP_INVALID_SESSION, resumable)

    def reject_next_resume(self) -> None:
        """Answer the next RESUME with op 9 INVALID_SESSION (``d: false``)."""
        self.gateway.reject_next_resume = True

    async def revoke_token(self, new_token: str | None = None) -> None:
        """Reset the bot token: REST answers 401 and gateway sockets close with 4004."""
        self.world.token = new_token or secrets.token_urlsafe(32)
        await self.gateway.close_all(4004, "Authentication failed.")
