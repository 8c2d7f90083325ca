"""Fetching pages, feeds and PDFs politely and safely.

One `Fetcher` per run: an identifying User-Agent, robots.txt honoured (`robots.py`), a few
connections per host with a delay between requests, timeouts, at most `max_redirects`
redirects (each hop checked by the address guard), a size cap, and only HTML, XML (feeds) or
PDF accepted. Every problem becomes a `FetchError` whose message is one sentence.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from index.ingest.web.content import ContentError, Kind, declared_kind, sniffed_kind
from index.ingest.web.guard import (
    AddressPolicy,
    BlockedAddressError,
    GuardedResolver,
    blocked_cause,
    check_url,
    guarded_socket,
)
from index.ingest.web.robots import RobotsCache, RobotsRules, parse_robots
from index.settings import DEFAULT_USER_AGENT

log = logging.getLogger(__name__)

ROBOTS_AGENT = "citebot"
MAX_CRAWL_DELAY = 60.0  # a longer Crawl-delay would stall a refresh; this much is honoured
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A URL could not be fetched; the message is one sentence naming the URL.

    `transient` failures (timeouts, 5xx, 429, connection errors) may succeed later.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FetchLimits:
    """How politely and how far citebot fetches."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 20.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    per_host_connections: int = 2
    host_delay: float = 1.0


@dataclass(frozen=True)
class Page:
    """What a fetch returned: a body (status 200) or nothing new (status 304)."""

    requested: str
    url: str  # after redirects
    status: int
    body: bytes = b""
    kind: Kind | None = None
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class HostPacer:
    """At least `delay` seconds between the starts of two requests to the same host (more
    where the host's robots.txt asks for a Crawl-delay, up to MAX_CRAWL_DELAY)."""

    def __init__(
        self,
        delay: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.delay = delay
        self.clock = clock
        self.sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self._asked: dict[str, float] = {}

    def ask(self, host: str, delay: float) -> None:
        """A host's own Crawl-delay (honoured up to MAX_CRAWL_DELAY seconds)."""
        self._asked[host] = min(delay, MAX_CRAWL_DELAY)

    async def wait_turn(self, host: str) -> None:
        """Return when a request to `host` may start."""
        lock = self._locks.setdefault(host, asyncio.Lock())
        async with lock:
            last = self._last.get(host)
            if last is not None:
                delay = max(self.delay, self._asked.get(host, 0.0))
                wait = last + delay - self.clock()
                if wait > 0:
                    await self.sleep(wait)
            self._last[host] = self.clock()


class Fetcher:
    """GETs URLs under the politeness limits and the address policy; use `async with`."""

    def __init__(
        self,
        limits: FetchLimits | None = None,
        policy: AddressPolicy | None = None,
        *,
        resolver: AbstractResolver | None = None,
        pacer: HostPacer | None = None,
        robots_cache: RobotsCache | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self.policy = policy or AddressPolicy()
        self._resolver = resolver
        self.pacer = pacer or HostPacer(self.limits.host_delay)
        self.robots_cache = robots_cache
        self._robots: dict[str, asyncio.Future[RobotsRules]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self.policy, self._resolver),
            socket_factory=guarded_socket(self.policy),
            limit=16,
            limit_per_host=self.limits.per_host_connections,
        )
        timeout = aiohttp.ClientTimeout(
            total=self.limits.timeout,
            sock_connect=self.limits.timeout,
            sock_read=self.limits.timeout,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={"User-Agent": self.limits.user_agent},
            trust_env=False,  # never route through an environment proxy the guard cannot see
            auto_decompress=True,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        pending = [f for f in self._robots.values() if not f.done()]
        for future in pending:
            future.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self,
        url: str,
        *,
        accept: frozenset[Kind] = frozenset({"html", "pdf"}),
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Page:
        """Fetch `url` (following redirects), or raise FetchError saying why not."""
        conditional = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        try:
            return await self._follow(url, accept, conditional)
        except BlockedAddressError as exc:
            raise FetchError(f"{url}: {exc}") from None

    async def _follow(self, url: str, accept: frozenset[Kind], headers: dict[str, str]) -> Page:
        current = check_url(url, self.policy)
        seen = {str(current)}
        for _hop in range(self.limits.max_redirects + 1):
            await self._check_robots(current)
            page, location = await self._request(url, current, accept, headers)
            if page is not None:
                return page
            assert location is not None
            current = check_url(
                _redirect_target(requested=url, base=current, location=location), self.policy
            )
            if str(current) in seen:
                raise FetchError(f"{url}: redirect loop (back to {current})")
            seen.add(str(current))
        raise FetchError(f"{url}: more than {self.limits.max_redirects} redirects")

    async def _request(
        self, requested: str, url: URL, accept: frozenset[Kind], headers: dict[str, str]
    ) -> tuple[Page | None, str | None]:
        """One request: the page, or the Location of a redirect."""
        assert self._session is not None, "use `async with Fetcher()`"
        await self.pacer.wait_turn(_host_key(url))
        log.debug("GET %s", url)
        try:
            async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status in REDIRECTS:
                    location = resp.headers.get("Location")
                    if not location:
                        raise FetchError(f"{requested}: redirect without a Location header")
                    return None, location
                if resp.status == 304:
                    return self._page(requested, url, resp, 304), None
                if resp.status != 200:
                    reason = f" {resp.reason}" if resp.reason else ""
                    raise FetchError(
                        f"{requested}: the server answered HTTP {resp.status}{reason}",
                        transient=resp.status >= 500 or resp.status == 429,
                    )
                try:
                    kind = declared_kind(resp.content_type)
                    body = await self._read_body(requested, resp)
                    kind = sniffed_kind(body, kind, resp.content_type, accept)
                except ContentError as exc:
                    raise FetchError(f"{requested}: {exc}") from None
                return self._page(requested, url, resp, 200, body, kind), None
        except TimeoutError:
            raise FetchError(
                f"{requested}: no complete answer within {self.limits.timeout:g} s "
                "(CITEBOT_FETCH_TIMEOUT)",
                transient=True,
            ) from None
        except aiohttp.ClientError as exc:
            blocked = blocked_cause(exc)
            if blocked is not None:
                raise FetchError(f"{requested}: {blocked}") from None
            raise FetchError(f"{requested}: {_client_error(exc)}", transient=True) from None

    async def _read_body(self, requested: str, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.limits.max_bytes
        too_big = f"{requested}: the page is larger than {_megabytes(cap)} (CITEBOT_MAX_PAGE_MB)"
        if resp.content_length is not None and resp.content_length > cap:
            raise FetchError(too_big)
        parts: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise FetchError(too_big)
            parts.append(chunk)
        return b"".join(parts)

    def _page(
        self,
        requested: str,
        url: URL,
        resp: aiohttp.ClientResponse,
        status: int,
        body: bytes = b"",
        kind: Kind | None = None,
    ) -> Page:
        return Page(
            requested=requested,
            url=str(url),
            status=status,
            body=body,
            kind=kind,
            content_type=resp.content_type,
            charset=resp.charset,
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
        )

    async def _check_robots(self, url: URL) -> None:
        """Raise FetchError when the host's robots.txt disallows `url` for citebot."""
        key = _host_key(url)
        future = self._robots.get(key)
        if future is None:
            future = asyncio.ensure_future(self._load_robots(url))
            self._robots[key] = future
        try:
            rules = await asyncio.shield(future)
        except FetchError as exc:
            raise FetchError(f"{url}: {exc}", transient=exc.transient) from None
        self._pace_as_asked(key, rules)
        if not rules.allows(str(url), ROBOTS_AGENT):
            why = rules.why_not or "does not allow citebot to fetch it"
            raise FetchError(f"{url}: robots.txt of {url.host} {why}")

    async def _load_robots(self, url: URL) -> RobotsRules:
        """The host's rules, from the cache or the host; cached when read."""
        key = _host_key(url)
        if self.robots_cache is not None:
            cached = await self.robots_cache.load(key)
            if cached is not None:
                return cached
        rules = await self._fetch_robots(url)
        if self.robots_cache is not None:
            await self.robots_cache.save(key, rules)
        return rules

    def _pace_as_asked(self, key: str, rules: RobotsRules) -> None:
        delay = rules.crawl_delay(ROBOTS_AGENT)
        if delay:
            self.pacer.ask(key, delay)

    async def _fetch_robots(self, url: URL) -> RobotsRules:
        """The host's rules: none (4xx), all refused (5xx, RFC 9309), or the file's."""
        current = url.with_path("/robots.txt").with_query(None).with_fragment(None)
        assert self._session is not None
        for _hop in range(self.limits.max_redirects + 1):
            await self.pacer.wait_turn(_host_key(current))
            try:
                async with self._session.get(current, allow_redirects=False) as resp:
                    location = resp.headers.get("Location")
                    if resp.status in REDIRECTS and location:
                        target = _redirect_target(str(url), current, location)
                        current = check_url(target, self.policy)
                        continue
                    if 400 <= resp.status < 500:
                        return RobotsRules.allow_all()
                    if resp.status != 200:
                        return RobotsRules.disallow_all(
                            f"could not be read (HTTP {resp.status}), which means no fetching"
                        )
                    body = await self._read_body(str(current), resp)
                    return parse_robots(body.decode("utf-8", errors="replace"))
            except TimeoutError:
                raise FetchError(
                    f"robots.txt of {url.host} did not arrive within "
                    f"{self.limits.timeout:g} s (CITEBOT_FETCH_TIMEOUT)",
                    transient=True,
                ) from None
            except aiohttp.ClientError as exc:
                blocked = blocked_cause(exc)
                if blocked is not None:
                    raise blocked from None
                raise FetchError(_client_error(exc), transient=True) from None
        return RobotsRules.disallow_all("redirects too often, which means no fetching")


def _redirect_target(requested: str, base: URL, location: str) -> URL:
    """Where a redirect points, or FetchError when its Location is not a URL."""
    try:
        return base.join(URL(location))
    except ValueError:
        raise FetchError(f"{requested}: redirect to an invalid URL ({location[:200]!r})") from None


def _host_key(url: URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port}"


def _client_error(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the host name could not be resolved"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"could not connect ({exc.os_error.strerror or exc.os_error})"
    if isinstance(exc, aiohttp.InvalidURL):
        return "not a valid URL"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the connection broke off while reading the page"
    return f"{type(exc).__name__}: {exc}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
