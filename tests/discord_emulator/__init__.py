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
* Not shortenable: discord.py waits ``1 + 2 * attempt`` seconds before retrying a 5xx.

Behaviour beyond the happy path, so tests can rely on it: requests with a wrong
``Authorization: Bot <token>`` get 401 (``LoginFailure`` at login), an IDENTIFY with a wrong
token closes the socket with 4004; intents are honoured (no MESSAGE_CONTENT intent means blank
content unless the bot is mentioned or wrote it); Discord's message limits are enforced (400
``Invalid Form Body``); the bot's channel permissions are checked; ``mentions`` on the bot's
messages reflect ``allowed_mentions``; a second interaction callback gets 400 code 40060.

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
