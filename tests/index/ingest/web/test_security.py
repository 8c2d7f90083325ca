"""With the default setting, no URL, redirect or DNS answer makes citebot contact an internal
address: each is refused with a clear sentence, and the server behind it counts no request."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from index.ingest.web import fetch
from index.ingest.web.fetch import Fetcher, FetchError, FetchLimits
from index.ingest.web.guard import AddressPolicy
from index.ingest.web.refresh import WebConfig, add_urls
from tests.index.ingest.web.site import NewsSite

pytestmark = pytest.mark.timeout(60)

LIMITS = FetchLimits(timeout=5, host_delay=0)
# The one internal address the redirect tests may use for their "public" server.
PUBLIC_STANDIN = "127.0.0.2"
STANDIN_POLICY = AddressPolicy(allowed_networks=(ipaddress.ip_network(f"{PUBLIC_STANDIN}/32"),))


class StaticResolver(AbstractResolver):
    """DNS as the test wants it: host -> its answers in turn ("a,b" is one answer of two
    addresses; the last answer is repeated)."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        queue = self.answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]  # the last answer sticks
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in answer.split(",")
        ]

    async def close(self) -> None:
        pass


async def fetch_error(url: str, policy: AddressPolicy, resolver: AbstractResolver | None) -> str:
    async with Fetcher(LIMITS, policy, resolver=resolver) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.get(url)
    return str(caught.value)


def run(scenario: Callable[[NewsSite], Awaitable[None]], host: str = "127.0.0.1") -> None:
    async def main() -> None:
        async with NewsSite(host=host) as site:
            await scenario(site)

    asyncio.run(main())


@pytest.mark.parametrize(
    ("template", "kind"),
    [
        ("http://127.0.0.1:{port}/news/ferries.html", "a loopback address"),
        ("http://[::1]:{port}/news/ferries.html", "a loopback address"),
        ("http://2130706433:{port}/news/ferries.html", "a loopback address"),
        ("http://0x7f000001:{port}/news/ferries.html", "a loopback address"),
        ("http://0177.0.0.1:{port}/news/ferries.html", "a loopback address"),
        ("http://127.1:{port}/news/ferries.html", "a loopback address"),
        ("http://0.0.0.0:{port}/news/ferries.html", "an unspecified address"),
        ("http://10.0.0.1/", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://[::ffff:127.0.0.1]:{port}/news/ferries.html", "a loopback address"),
    ],
)
def test_internal_addresses_are_refused_and_never_contacted(template: str, kind: str) -> None:
    async def scenario(site: NewsSite) -> None:
        url = template.format(port=site.port)
        resolver = StaticResolver({})  # an IP address must never be looked up either
        error = await fetch_error(url, AddressPolicy(), resolver)
        assert error.startswith(f"{url}: refused to contact ")
        assert kind in error and "CITEBOT_ALLOW_PRIVATE_URLS=true" in error
        assert site.hits == [] and resolver.asked == []

    run(scenario)


def test_a_public_looking_host_that_resolves_to_loopback_is_refused() -> None:
    async def scenario(site: NewsSite) -> None:
        resolver = StaticResolver({"news.example.com": ["127.0.0.1"]})
        url = f"http://news.example.com:{site.port}/news/ferries.html"
        error = await fetch_error(url, AddressPolicy(), resolver)
        assert "refused to contact news.example.com (127.0.0.1): a loopback address" in error
        assert resolver.asked and site.hits == []

    run(scenario)


def test_localhost_through_the_system_resolver_is_refused() -> None:
    async def scenario(site: NewsSite) -> None:
        error = await fetch_error(
            f"http://localhost:{site.port}/news/ferries.html", AddressPolicy(), None
        )
        assert "refused to contact localhost (" in error and "a loopback address" in error
        assert site.hits == []

    run(scenario)


def test_a_host_with_one_internal_address_among_public_ones_is_refused() -> None:
    async def scenario(site: NewsSite) -> None:
        resolver = StaticResolver({"mixed.example": ["93.184.216.34,127.0.0.1"]})
        error = await fetch_error(f"http://mixed.example:{site.port}/", AddressPolicy(), resolver)
        assert "mixed.example (127.0.0.1): a loopback address" in error and site.hits == []

    run(scenario)


def test_redirects_from_an_allowed_server_to_internal_addresses_are_refused() -> None:
    """The allowed server (127.0.0.2, the one network the policy lets through, standing in for
    a public site) redirects to the private server on 127.0.0.1 in several spellings."""

    async def scenario(private: NewsSite) -> None:
        targets = {
            "/to-ip": f"http://127.0.0.1:{private.port}/news/ferries.html",
            "/to-decimal": f"http://2130706433:{private.port}/news/ferries.html",
            "/to-name": f"http://intranet.example:{private.port}/news/ferries.html",
            "/to-metadata": "http://169.254.169.254/latest/meta-data/iam/",
            "/to-ipv6": f"http://[::1]:{private.port}/news/ferries.html",
        }
        public = NewsSite(host=PUBLIC_STANDIN)
        for path, target in targets.items():
            public.extra[path] = redirect_to(target)
        resolver = StaticResolver({"intranet.example": ["127.0.0.1"]})
        async with public:
            for path in targets:
                error = await fetch_error(public.url(path), STANDIN_POLICY, resolver)
                assert "refused to contact" in error, error
            assert {hit.path for hit in public.hits} == {"/robots.txt", *targets}
        assert private.hits == []

    run(scenario)


def test_dns_rebinding_cannot_reach_the_internal_address() -> None:
    """The name resolves to the allowed address once, then to loopback: the address that was
    checked is the address connected to, so the private server never hears from citebot."""

    async def scenario(public: NewsSite) -> None:
        async with NewsSite(host="127.0.0.1", port_wanted=public.port) as private:
            resolver = StaticResolver({"rebind.example": [PUBLIC_STANDIN, "127.0.0.1"]})
            url = f"http://rebind.example:{public.port}/news/ferries.html"
            async with Fetcher(LIMITS, STANDIN_POLICY, resolver=resolver) as fetcher:
                page = await fetcher.get(url)
                again = await fetcher.get(url.replace("ferries", "tram"))
            assert page.status == 200 and again.status == 200
            assert [h.path for h in public.hits if h.path != "/robots.txt"] == [
                "/news/ferries.html",
                "/news/tram.html",
            ]
            assert private.hits == []

    run(scenario, host=PUBLIC_STANDIN)


class UncheckedResolver(AbstractResolver):
    """A resolver that checks nothing: stands in for a gap in the earlier checks."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        assert inner is not None
        self.inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return await self.inner.resolve(host, port, family)

    async def close(self) -> None:
        await self.inner.close()


def test_the_socket_check_holds_when_the_url_and_dns_checks_miss(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the literal check and the resolver's check both disabled, the address each socket
    connects to is still checked: the fetcher's connector uses the guarded socket factory."""
    monkeypatch.setattr(fetch, "check_url", lambda url, policy: URL(str(url)))
    monkeypatch.setattr(fetch, "GuardedResolver", UncheckedResolver)

    async def scenario(site: NewsSite) -> None:
        resolver = StaticResolver({"news.example.com": ["127.0.0.1"]})
        mapped = ipaddress.ip_address("::ffff:127.0.0.1")  # IPv4-mapped: reaches 127.0.0.1
        for url, address in (
            (site.url("/news/ferries.html"), "127.0.0.1"),
            (f"http://[::ffff:127.0.0.1]:{site.port}/news/ferries.html", str(mapped)),
            (f"http://news.example.com:{site.port}/news/ferries.html", "127.0.0.1"),
        ):
            error = await fetch_error(url, AddressPolicy(), resolver)
            assert error.startswith(f"{url}: refused to contact {address}: a loopback"), error
        assert resolver.asked == ["news.example.com"] and site.hits == []

    run(scenario)


def test_adding_internal_urls_writes_nothing_and_reports_each(tmp_path: Path) -> None:
    async def scenario(site: NewsSite) -> None:
        config = WebConfig(tmp_path / "articles", tmp_path / "data", tmp_path / "feeds.txt")
        config = WebConfig(**{**config.__dict__, "limits": LIMITS})
        urls = [
            site.url("/news/ferries.html"),
            "http://169.254.169.254/latest/meta-data/",
            f"http://2130706433:{site.port}/news/tram.html",
        ]
        report = await add_urls(urls, config)
        assert [p.status for p in report.pages] == ["failed"] * 3
        assert all("refused to contact" in (p.reason or "") for p in report.pages)
        assert site.hits == []
        assert not (tmp_path / "articles").exists()

    run(scenario)


def redirect_to(target: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(target)

    return handler


def test_the_lenient_setting_lets_the_same_urls_through() -> None:
    async def scenario(site: NewsSite) -> None:
        async with Fetcher(LIMITS, AddressPolicy(allow_private=True)) as fetcher:
            page = await fetcher.get(site.url("/news/ferries.html"))
        assert page.status == 200 and b"Electric ferries" in page.body

    run(scenario)
