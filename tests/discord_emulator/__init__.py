"""A Discord API v10 + gateway emulator for end-to-end tests of the real discord.py client.

Discord cannot be reached from the test machine, so the bot's real, unmodified discord.py 2.7.1
client talks to this emulator instead::

    async with DiscordEmulator() as emu:
        with discord_pointed_at(emu.api_base, emu.gateway_url):
            ...  # start the bot with token=emu.token

Pointing discord.py at the emulator takes two overrides (``discord_pointed_at`` does both and
restores them):

* ``discord.http.Route.BASE = emu.api_base`` (``http://127.0.0.1:PORT/api/v10``). Every REST
  call, interaction callbacks and follow-up webhooks (``discord.webhook.async_``) included, is
  built from it.
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)``
  (``ws://127.0.0.1:PORT/gateway/``). A non-sharded client connects straight to it (no
  ``GET /gateway/bot``) with ``?v=10&encoding=json&compress=zlib-stream``; the emulator honours
  zlib-stream. Resumes go to READY's ``resume_gateway_url`` (``/resume-gateway/``).
  ``AutoShardedClient`` asks ``GET /gateway/bot``, which returns the same URL.

Timeouts to shorten in tests (none needs patching a module constant):

* ``discord.Client(..., guild_ready_timeout=0.05)`` - READY/``on_ready`` waits this long after
  the last GUILD_CREATE (default 2 s).
* ``discord.Client(..., heartbeat_timeout=5.0)`` - how long the client waits for any frame
  before reconnecting (default 60 s).
* Override ``Client.before_identify_hook`` to return immediately - the default sleeps 5 s
  before every non-initial IDENTIFY (after a non-resumable INVALID_SESSION).
* The emulator's HELLO heartbeat interval defaults to 1 s
  (``DiscordEmulator(heartbeat_interval=...)``).
* Not shortenable: discord.py waits ``1 + 2 * attempt`` seconds before retrying a 5xx (500,
  502, 504, 524 on bot routes, any 5xx on webhooks; five attempts, 25 s in all), and a route's
  ``X-RateLimit-Reset-After`` when its bucket is spent (``DiscordEmulator(route_limits=...)``
  sets smaller windows).

Behaviour beyond the happy path, so tests can rely on it: requests with a wrong
``Authorization: Bot <token>`` get 401 (``LoginFailure`` at login), an IDENTIFY with a wrong
token closes the socket with 4004; intents are honoured (no MESSAGE_CONTENT intent means blank
content unless the bot is mentioned or wrote it); Discord's message limits are enforced (400
``Invalid Form Body``); the bot's channel permissions are checked; ``mentions`` on the bot's
messages reflect ``allowed_mentions``; a second interaction callback gets 400 code 40060.

Discord's clock (``clock.py``) runs at real speed from ``now`` and ``emu.advance_clock(seconds)``
moves it ahead without waiting; the 3-second interaction deadline (404 10062), the 15-minute
interaction token (401 50027 on follow-ups and edits), snowflakes, timestamps and rate-limit
windows all follow it. Per-route rate limits (``ratelimits.py``) are enforced with real
``X-RateLimit-*`` headers; a request beyond one gets 429 and ``RecordedRequest.rate_limited``.
``StoredMessage.pings`` lists every mention that would notify anyone, markup in embeds included
(``mentions.py``). Gateway faults: ``send_reconnect()`` (op 7), ``invalidate_session()`` (op 9),
``reject_next_resume()``, ``drop_gateway()`` (a close frame) and ``silence_gateway()`` (a dead
connection: no close frame, no heartbeat ACKs); REST faults: ``fail_next()`` (any status, a
global 429 with ``is_global=True``).

Threads (``threads.py``): the bot starts them with ``Message.create_thread`` or
``TextChannel.create_thread``, a test with ``emu.start_thread(message, name)`` or
``emu.create_thread(name)``; ``emu.send_message(..., channel_id=thread.id)`` posts in one.
Context menus (``actions.py``): ``emu.run_message_command(name, message)`` and
``emu.run_user_command(name, member)`` run a registered message or user command.
``DiscordEmulator(now=datetime(...))`` sets the emulated clock (timestamps and snowflakes).
"""

from __future__ import annotations

from .emulator import DiscordEmulator
from .faults import FaultRule
from .models import FakeChannel, FakeGuild, FakeMember, FakeRole, FakeThread, FakeUser
from .overrides import discord_pointed_at
from .records import GatewayFrame, InteractionRecord, RecordedRequest, StoredMessage

__all__ = [
    "DiscordEmulator",
    "FakeChannel",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeThread",
    "FakeUser",
    "FaultRule",
    "GatewayFrame",
    "InteractionRecord",
    "RecordedRequest",
    "StoredMessage",
    "discord_pointed_at",
]
