"""The scripted server: `/v1/chat/completions` and `/v1/models` over aiohttp."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODEL = "scripted-model"
RELEASE_TIMEOUT = 10.0


@dataclass
class Scripted:
    """One reply: a chat completion carrying `content`, or `status` with `body` as given.

    `delay` holds the reply back that many seconds, `hold` until the test sets it (when the
    server runs in the test's own event loop); the server's stop cuts both short.
    """

    content: str | None = None
    status: int = 200
    delay: float = 0.0
    hold: asyncio.Event | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # sent as is instead of a chat completion
    completion_tokens: int = 12


Responder = Callable[[dict[str, Any]], Scripted]


@dataclass(frozen=True)
class RecordedCall:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


def completion(content: str, tokens: int) -> dict[str, Any]:
    """A chat completion as OpenAI's API returns it."""
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": tokens, "total_tokens": 100 + tokens},
    }


class ScriptedLLM:
    """An OpenAI-compatible server whose replies the test scripts."""

    def __init__(
        self,
        *replies: Scripted,
        responder: Responder | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.replies: deque[Scripted] = deque(replies)
        self.responder = responder
        self.host = host
        self.port = 0
        self.calls: list[RecordedCall] = []
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        """The value for CITEBOT_LLM_BASE_URL."""
        return f"http://{self.host}:{self.port}/v1"

    def script(self, *replies: Scripted) -> None:
        """Queue replies for the next chat completions."""
        self.replies.extend(replies)

    @property
    def completions(self) -> list[RecordedCall]:
        """The chat-completion requests received so far."""
        return [c for c in self.calls if c.path.endswith("/chat/completions")]

    # -- serving ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind a free port on `host` and serve."""
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Cut delayed replies short and stop serving."""
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ScriptedLLM:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[ScriptedLLM]:
        """Serve from an event loop in a background thread (for synchronous tests)."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        thread = threading.Thread(target=self._serve_forever, args=(loop, ready), daemon=True)
        thread.start()
        if not ready.wait(RELEASE_TIMEOUT):
            raise TimeoutError("the scripted LLM server did not start")
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(RELEASE_TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(RELEASE_TIMEOUT)

    def _serve_forever(self, loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.start())
        ready.set()
        loop.run_forever()
        loop.close()

    # -- handlers --------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Any:
        raw = await request.text()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        self.calls.append(RecordedCall(request.method, request.path, dict(request.headers), body))
        return body

    async def _chat(self, request: web.Request) -> web.Response:
        body = await self._record(request)
        if self.responder is not None:
            reply = self.responder(body)
        elif self.replies:
            reply = self.replies.popleft()
        else:
            return web.json_response({"error": {"message": "nothing scripted"}}, status=500)
        assert self._stopping is not None
        if reply.hold is not None:
            waits = {asyncio.ensure_future(e.wait()) for e in (reply.hold, self._stopping)}
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        if reply.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), reply.delay)
        if reply.body is not None:
            return web.Response(
                text=reply.body,
                status=reply.status,
                headers=reply.headers,
                content_type="application/json",
            )
        if reply.status != 200:
            error = {"error": {"message": f"scripted {reply.status}", "type": "scripted"}}
            return web.json_response(error, status=reply.status, headers=reply.headers)
        payload = completion(reply.content or "", reply.completion_tokens)
        return web.json_response(payload, headers=reply.headers)

    async def _models(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})


def quoting(quote: str, claim: str, hold: asyncio.Event | None = None) -> Responder:
    """A responder that writes `claim "quote" [n].`, citing whichever numbered passage of the
    prompt holds `quote` (so the answer verifies whatever the retrieval order)."""

    def respond(body: dict[str, Any]) -> Scripted:
        prompt = body["messages"][-1]["content"]
        blocks = re.findall(r"^\[(\d+)\] [^\n]*\n([^\n]*)", prompt, re.MULTILINE)
        number = next(n for n, text in blocks if quote in text)
        return Scripted(f'{claim} "{quote}" [{number}].', hold=hold)

    return respond
