"""Point the real, unmodified discord.py at an emulator (the only module that imports discord).

discord.py 2.7.1 builds every REST URL - including interaction callbacks and follow-up webhooks
in ``discord.webhook.async_`` - from the class attribute ``discord.http.Route.BASE``, and a
non-sharded ``Client`` connects straight to ``DiscordWebSocket.DEFAULT_GATEWAY`` (it never calls
``GET /gateway``). Resumes then go to READY's ``resume_gateway_url``, which the emulator points
back at itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


@contextlib.contextmanager
def discord_pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """Set ``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``; restore them on exit."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
