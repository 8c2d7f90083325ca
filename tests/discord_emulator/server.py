"""The HTTP server: REST under ``/api/v10`` plus the gateway sockets, on a random free port."""

from __future__ import annotations

import logging
import socket

from aiohttp import web

from .channels_api import ChannelApi
from .faults import FaultRule
from .gateway import GatewayHub
from .interactions_api import InteractionApi
from .rest import API_PREFIX, AccountApi, RouteTable, make_middleware, unknown_route
from .threads import ThreadApi, Threads
from .world import World

log = logging.getLogger(__name__)


class EmulatorServer:
    """Serves one ``World`` over aiohttp on ``host`` (port chosen by the OS at start)."""

    def __init__(
        self,
        world: World,
        gateway: GatewayHub,
        faults: list[FaultRule],
        host: str,
        threads: Threads | None = None,
    ) -> None:
        self.world = world
        self.gateway = gateway
        self.threads = threads or Threads(world, gateway)
        self.faults = faults
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """The REST base, i.e. the value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The gateway URL, i.e. the value for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://{self.host}:{self.port}/gateway/"

    async def start(self) -> None:
        """Bind a free port and start serving."""
        tables = [
            AccountApi(self.world, self.gateway, lambda: self.gateway_url).routes(),
            ChannelApi(self.world, self.gateway).routes(),
            InteractionApi(self.world, self.gateway).routes(),
            ThreadApi(self.world, self.threads).routes(),
        ]
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(
            build_app(self.world, self.faults, self.gateway, tables),
            access_log=None,
            shutdown_timeout=1.0,
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self.gateway.resume_url = f"ws://{self.host}:{self.port}/resume-gateway/"
        log.info("Discord emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Close gateway sockets (code 1001) and stop serving."""
        if self._runner is None:
            return
        await self.gateway.close_all(1001, "Emulator shutting down.")
        await self._runner.cleanup()
        self._runner = None


def build_app(
    world: World, faults: list[FaultRule], gateway: GatewayHub, tables: list[RouteTable]
) -> web.Application:
    """Assemble the aiohttp application: gateway sockets, API routes, then the catch-all."""
    app = web.Application(
        middlewares=[make_middleware(world, faults)], client_max_size=64 * 1024**2
    )
    app.router.add_get("/gateway/", gateway.handle)
    app.router.add_get("/gateway", gateway.handle)
    app.router.add_get("/resume-gateway/", gateway.handle)
    for table in tables:
        for method, path, handler in table:
            app.router.add_route(method, API_PREFIX + path, handler)
    app.router.add_route("*", API_PREFIX + "/{tail:.*}", unknown_route)
    return app
