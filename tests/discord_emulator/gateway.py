"""The emulated gateway: HELLO/IDENTIFY/READY, heartbeats, sequence numbers, RESUME with replay.

Every dispatch gets the session's next sequence number and is kept in the session's log, whether
or not a socket is attached, so a client that RESUMEs with ``seq=N`` is replayed everything after
``N`` and then RESUMED - exactly what makes "messages sent while disconnected" arrive. Events the
session's intents exclude are never sequenced for it, and without the MESSAGE_CONTENT intent a
guild message's content is blanked unless the bot wrote it or is mentioned in it, as on Discord.
Frames are zlib-stream compressed when the URL asks for ``compress=zlib-stream`` (discord.py does
unless ``zstandard`` is installed); any other value gets plain text frames, which it accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import secrets
import zlib
from typing import Any

from aiohttp import WSMsgType, web

from .records import GatewayFrame
from .world import World

log = logging.getLogger(__name__)

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
GUILD_MESSAGE_TYPING = 1 << 11
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

EVENT_INTENTS = {
    "MESSAGE_CREATE": GUILD_MESSAGES,
    "MESSAGE_UPDATE": GUILD_MESSAGES,
    "MESSAGE_DELETE": GUILD_MESSAGES,
    "MESSAGE_DELETE_BULK": GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": GUILD_MESSAGE_REACTIONS,
    "TYPING_START": GUILD_MESSAGE_TYPING,
    "GUILD_MEMBER_ADD": GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": GUILD_MEMBERS,
    "GUILD_ROLE_CREATE": GUILDS,
    "GUILD_ROLE_UPDATE": GUILDS,
    "CHANNEL_CREATE": GUILDS,
    "THREAD_CREATE": GUILDS,
    "THREAD_UPDATE": GUILDS,
    "THREAD_DELETE": GUILDS,
}

OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE = 0, 1, 2, 3
OP_VOICE_STATE, OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS = 4, 6, 7, 8
OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 9, 10, 11


class GatewayConnection:
    """One websocket; outgoing frames go through a queue so their order is the dispatch order."""

    def __init__(self, ws: web.WebSocketResponse, connection_id: int, path: str, zlib_stream: bool):
        self.ws = ws
        self.id = connection_id
        self.path = path
        self.session: GatewaySession | None = None
        self.silent = False  # a dead connection: nothing more is sent, nothing closes it
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._compressor = zlib.compressobj() if zlib_stream else None

    def send(self, frame: dict[str, Any]) -> None:
        """Queue a frame for sending."""
        self.send_text(json.dumps(frame))

    def send_text(self, text: str) -> None:
        """Queue an already-serialised frame for sending (dropped once the connection is
        silent; dispatches stay in the session's log for a RESUME to replay)."""
        if not self.silent:
            self._queue.put_nowait(text)

    def stop_writer(self) -> None:
        """Make ``run_writer`` return after what is already queued."""
        self._queue.put_nowait(None)

    async def run_writer(self) -> None:
        """Send queued frames until stopped or the socket closes."""
        while (text := await self._queue.get()) is not None:
            if self.ws.closed:
                return
            try:
                if self._compressor is None:
                    await self.ws.send_str(text)
                else:
                    data = self._compressor.compress(text.encode()) + self._compressor.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(data)
            except (ConnectionResetError, RuntimeError):
                return

    async def close(self, code: int, reason: str = "") -> None:
        """Close the socket with ``code`` and wait for the client's close frame."""
        if not self.ws.closed:
            await self.ws.close(code=code, message=reason.encode())


class GatewaySession:
    """A gateway session: its sequence counter, its event log and the socket it is attached to."""

    def __init__(self, session_id: str, intents: int) -> None:
        self.id = session_id
        self.intents = intents
        self.seq = 0
        self.log: list[tuple[int, str]] = []
        self.connection: GatewayConnection | None = None
        self.invalid = False


class GatewayHub:
    """Serves ``/gateway/`` (and the resume URL) and owns every gateway session."""

    def __init__(
        self,
        world: World,
        *,
        heartbeat_interval: float,
        privileged_intents: bool,
    ) -> None:
        self.world = world
        self.heartbeat_interval = heartbeat_interval
        self.privileged_intents = privileged_intents
        self.resume_url = ""
        self.session: GatewaySession | None = None
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: dict[int, GatewayConnection] = {}
        self.reject_next_resume = False
        self._next_connection_id = 1
        self._gate = asyncio.Event()
        self._gate.set()

    # -- websocket handling -------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for a gateway websocket."""
        # timeout: how long close() waits for the client to answer our close frame.
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        zlib_stream = request.query.get("compress") == "zlib-stream"
        conn = GatewayConnection(ws, self._next_connection_id, request.path, zlib_stream)
        self._next_connection_id += 1
        self.connections[conn.id] = conn
        writer = asyncio.create_task(conn.run_writer(), name=f"gateway-writer-{conn.id}")
        log.debug("gateway connection %d opened on %s", conn.id, request.path_qs)
        try:
            if request.query.get("encoding", "json") != "json":
                await conn.close(4002, "Only JSON encoding is emulated.")
                return ws
            await self._gate.wait()
            hello = {"heartbeat_interval": int(self.heartbeat_interval * 1000), "_trace": ["emu"]}
            conn.send({"op": OP_HELLO, "d": hello, "s": None, "t": None})
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._on_payload(conn, json.loads(msg.data))
        except Exception as exc:
            log.exception("emulator gateway failed on connection %d", conn.id)
            self.world.internal_errors.append(exc)
            await conn.close(1011, "Emulator internal error.")
        finally:
            self._detach(conn)
            conn.stop_writer()
            await writer
            del self.connections[conn.id]
            log.debug("gateway connection %d closed (%s)", conn.id, ws.close_code)
        return ws

    async def _on_payload(self, conn: GatewayConnection, payload: dict[str, Any]) -> None:
        op, data = payload.get("op"), payload.get("d")
        frame = GatewayFrame(
            self.world.feed.bump(),
            conn.id,
            conn.path,
            int(op or 0),
            data,
            time=self.world.clock.monotonic(),
        )
        self.world.frames.append(frame)
        if op == OP_HEARTBEAT:
            conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data)
        elif op == OP_RESUME:
            await self._resume(conn, data)
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(conn, data)
        elif op not in (OP_PRESENCE, OP_VOICE_STATE):
            await conn.close(4001, "Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.world.token:
            await conn.close(4004, "Authentication failed.")
            return
        intents = int(data.get("intents") or 0)
        if intents & PRIVILEGED_INTENTS and not self.privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        session = GatewaySession(secrets.token_hex(16), intents)
        self.sessions[session.id] = session
        self.session = session
        self._attach(session, conn)
        self._dispatch_to(session, "READY", self._ready_payload(session, data))
        guild = self.world.guild.to_create_payload(bot_user_id=self.world.bot_user.id)
        self._dispatch_to(session, "GUILD_CREATE", guild)

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if data.get("token") != self.world.token:
            await conn.close(4004, "Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.invalid or self.reject_next_resume:
            self.reject_next_resume = False
            conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        seq = int(data.get("seq") or 0)
        if seq > session.seq:
            await conn.close(4007, "Invalid seq.")
            return
        self._attach(session, conn)
        for entry_seq, text in session.log:
            if entry_seq > seq:
                conn.send_text(text)
        self._dispatch_to(session, "RESUMED", {"_trace": ["emu"]})

    def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.session is None:
            return
        wanted = {int(x) for x in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        everyone = self.world.guild.members.values()
        if wanted:
            members = [m.to_payload() for m in everyone if m.id in wanted]
        else:
            members = [
                m.to_payload() for m in everyone if m.user.username.lower().startswith(query)
            ]
        limit = int(data.get("limit") or 0)
        chunk = {
            "guild_id": str(self.world.guild.id),
            "members": members[:limit] if limit else members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(x) for x in wanted - set(self.world.guild.members)],
            "nonce": data.get("nonce"),
        }
        self._dispatch_to(conn.session, "GUILD_MEMBERS_CHUNK", chunk)

    def _attach(self, session: GatewaySession, conn: GatewayConnection) -> None:
        previous = session.connection
        if previous is not None and previous is not conn:
            previous.session = None
        session.connection = conn
        conn.session = session

    def _detach(self, conn: GatewayConnection) -> None:
        session = conn.session
        if session is not None and session.connection is conn:
            session.connection = None
        conn.session = None
        self.world.feed.notify()

    def _ready_payload(self, session: GatewaySession, identify: dict[str, Any]) -> dict[str, Any]:
        # GATEWAY_PRESENCE | GATEWAY_GUILD_MEMBERS | GATEWAY_MESSAGE_CONTENT, if approved.
        flags = (1 << 12) | (1 << 14) | (1 << 18) if self.privileged_intents else 0
        ready: dict[str, Any] = {
            "v": 10,
            "user": {
                **self.world.bot_user.to_payload(),
                "verified": True,
                "mfa_enabled": False,
                "flags": 0,
                "email": None,
            },
            "guilds": [{"id": str(self.world.guild.id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url,
            "application": {"id": str(self.world.application_id), "flags": flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["emulated"],
            "user_settings": {},
            "auth": {},
            "_trace": ["emu"],
        }
        if identify.get("shard") is not None:
            ready["shard"] = identify["shard"]
        return ready

    # -- dispatching --------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> int | None:
        """Send ``event`` to the current session; returns its sequence number (None if filtered).

        Without a session (the bot never identified) the event is dropped with a warning.
        """
        if self.session is None:
            log.warning("no gateway session; dropping %s", event)
            return None
        return self._dispatch_to(self.session, event, data)

    def _dispatch_to(self, session: GatewaySession, event: str, data: dict[str, Any]) -> int | None:
        visible = self._visible(session, event, data)
        if visible is None:
            return None
        session.seq += 1
        text = json.dumps({"op": OP_DISPATCH, "t": event, "s": session.seq, "d": visible})
        session.log.append((session.seq, text))
        if session.connection is not None:
            session.connection.send_text(text)
        return session.seq

    def _visible(
        self, session: GatewaySession, event: str, data: dict[str, Any]
    ) -> dict[str, Any] | None:
        needed = EVENT_INTENTS.get(event)
        if needed is not None and not session.intents & needed:
            return None
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.intents & MESSAGE_CONTENT:
            return data
        bot_id = str(self.world.bot_user.id)
        author = (data.get("author") or {}).get("id")
        mentioned = any(m.get("id") == bot_id for m in data.get("mentions") or [])
        if author == bot_id or mentioned or "guild_id" not in data:
            return data
        blank = copy.copy(data)
        blank.update(content="", embeds=[], attachments=[], components=[])
        blank.pop("poll", None)
        return blank

    # -- fault injection ----------------------------------------------------------------

    def hold_new_connections(self) -> None:
        """New connections wait before HELLO until ``release_new_connections``."""
        self._gate.clear()

    def release_new_connections(self) -> None:
        """Let held connections proceed."""
        self._gate.set()

    async def drop(self, code: int) -> None:
        """Close the current session's socket with ``code``; the session stays resumable."""
        conn = self.session.connection if self.session else None
        if conn is None:
            raise RuntimeError("no gateway connection to drop")
        self._detach(conn)
        await conn.close(code, "Dropped by the emulator.")

    def silence(self) -> None:
        """Make the current connection dead without closing it: no heartbeat ACK, no event."""
        conn = self.session.connection if self.session else None
        if conn is None:
            raise RuntimeError("no gateway connection to silence")
        conn.silent = True

    def send_op(self, op: int, data: Any) -> None:
        """Send a raw non-dispatch opcode (e.g. 7 RECONNECT, 9 INVALID_SESSION) to the bot."""
        conn = self.session.connection if self.session else None
        if conn is None:
            raise RuntimeError("no gateway connection")
        if op == OP_INVALID_SESSION and not data and self.session is not None:
            self.session.invalid = True
        conn.send({"op": op, "d": data, "s": None, "t": None})

    async def close_all(self, code: int, reason: str) -> None:
        """Close every open connection (used on token revocation and shutdown)."""
        self._gate.set()
        for conn in list(self.connections.values()):
            self._detach(conn)
            with contextlib.suppress(ConnectionResetError):
                await conn.close(code, reason)
