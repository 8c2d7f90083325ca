"""The fetcher against the local news site: politeness, limits, and every kind of bad answer
reported as one sentence."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web

from index.ingest.web.fetch import Fetcher, FetchError, FetchLimits, HostPacer
from index.ingest.web.guard import AddressPolicy
from index.ingest.web.pages import decode_html, page_article
from index.settings import DEFAULT_USER_AGENT
from tests.index.ingest.web.site import CP1252_TEXT, CP1252_TITLE, Handler, NewsSite

pytestmark = pytest.mark.timeout(60)

LENIENT = AddressPolicy(allow_private=True)
LIMITS = FetchLimits(timeout=2, host_delay=0)


def run(scenario: Callable[[NewsSite, Fetcher], Awaitable[None]], **limits: float) -> None:
    async def main() -> None:
        async with NewsSite() as site, Fetcher(_limits(**limits), LENIENT) as fetcher:
            await scenario(site, fetcher)

    asyncio.run(main())


def _limits(**changes: float) -> FetchLimits:
    values = {**LIMITS.__dict__, **changes}
    return FetchLimits(**values)  # type: ignore[arg-type]


async def error_of(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.get(url)
    return caught.value


def test_a_page_is_fetched_with_an_identifying_user_agent_after_robots_txt() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        page = await fetcher.get(site.url("/news/ferries.html"))
        assert (page.status, page.kind, page.content_type) == (200, "html", "text/html")
        assert page.etag and page.url == site.url("/news/ferries.html")
        assert [h.path for h in site.hits] == ["/robots.txt", "/news/ferries.html"]
        assert {h.headers["User-Agent"] for h in site.hits} == {DEFAULT_USER_AGENT}
        await fetcher.get(site.url("/news/tram.html"))
        assert len(site.requests_to("/robots.txt")) == 1  # read once per host

    run(scenario)


def test_robots_txt_disallow_is_honoured_without_requesting_the_page() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        error = await error_of(fetcher, site.url("/private/secret.html"))
        assert "robots.txt of 127.0.0.1 does not allow citebot to fetch it" in str(error)
        assert site.requests_to("/private/secret.html") == []

    run(scenario)


def test_a_robots_txt_that_fails_with_5xx_means_nothing_is_fetched() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        site.extra["/robots.txt"] = status(503)
        error = await error_of(fetcher, site.url("/news/ferries.html"))
        assert "robots.txt of 127.0.0.1 could not be read (HTTP 503)" in str(error)
        assert site.requests_to("/news/ferries.html") == []

    run(scenario)


def test_a_missing_robots_txt_allows_everything() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        site.extra["/robots.txt"] = status(404)
        page = await fetcher.get(site.url("/private/secret.html"))
        assert page.status == 200

    run(scenario)


def test_a_conditional_get_of_an_unchanged_page_is_a_304() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        first = await fetcher.get(site.url("/news/ferries.html"))
        again = await fetcher.get(site.url("/news/ferries.html"), etag=first.etag)
        assert again.not_modified and again.body == b""
        site.version = 2
        changed = await fetcher.get(site.url("/news/ferries.html"), etag=first.etag)
        assert changed.status == 200 and b"Update 2" in changed.body

    run(scenario)


@pytest.mark.parametrize(
    ("path", "words", "transient"),
    [
        ("/news/gone.html", "the server answered HTTP 404 Not Found", False),
        ("/news/error.html", "the server answered HTTP 500 Internal Server Error", True),
        ("/news/slow.html", "no complete answer within 2 s (CITEBOT_FETCH_TIMEOUT)", True),
        ("/news/loop-a.html", "redirect loop (back to", False),
        ("/news/bad-redirect.html", "redirect to an invalid URL ('http://[::1')", False),
        ("/news/huge.html", "the page is larger than 5 MB (CITEBOT_MAX_PAGE_MB)", False),
        ("/news/huge-declared.html", "the page is larger than 5 MB (CITEBOT_MAX_PAGE_MB)", False),
        ("/news/binary.html", "binary content labelled text/html, not a page", False),
        ("/news/image.png", "image/png is not an HTML page, a feed or a PDF", False),
    ],
)
def test_each_bad_answer_is_one_sentence_naming_the_url(
    path: str, words: str, transient: bool
) -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        error = await error_of(fetcher, site.url(path))
        assert str(error).startswith(site.url(path) + ": ")
        assert words in str(error) and "\n" not in str(error)
        assert error.transient is transient

    run(scenario)


def test_the_size_cap_stops_reading_a_50_mb_page_early() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        error = await error_of(fetcher, site.url("/news/huge.html"))
        assert "larger than 1 MB" in str(error)

    run(scenario, max_bytes=1024 * 1024)


def test_at_most_five_redirects_are_followed() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        for hop in range(7):
            site.extra[f"/hop/{hop}"] = redirect(f"/hop/{hop + 1}")
        site.extra["/hop/7"] = redirect("/news/ferries.html")
        error = await error_of(fetcher, site.url("/hop/0"))
        assert "more than 5 redirects" in str(error)
        assert site.requests_to("/news/ferries.html") == []
        site.extra["/hop/2"] = redirect("/news/ferries.html")  # now 3 redirects in all
        page = await fetcher.get(site.url("/hop/0"))
        assert page.url == site.url("/news/ferries.html") and page.requested == site.url("/hop/0")

    run(scenario)


def test_a_windows_1252_page_is_decoded_from_the_header_or_the_meta_tag() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        for path in ("/news/cafe.html", "/news/cafe-meta.html"):
            page = await fetcher.get(site.url(path))
            article = await asyncio.to_thread(page_article, page)
            assert article.title == CP1252_TITLE
            for sentence in CP1252_TEXT:
                assert sentence in article.text  # “ ” — ë é intact

    run(scenario)


def test_decoding_rules() -> None:
    text = "Zoë’s café"
    assert decode_html(text.encode("cp1252"), "iso-8859-1") == text  # latin-1 means cp1252
    assert decode_html(text.encode("utf-8"), None) == text
    assert decode_html(text.encode("cp1252"), None) == text  # not UTF-8: cp1252
    assert decode_html(b"\xef\xbb\xbf" + text.encode("utf-8"), "cp1252") == text  # BOM wins
    assert decode_html(text.encode("utf-8"), "no-such-charset") == text


def test_a_pdf_is_recognised_even_when_labelled_html() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        pdf = (await fetcher.get(site.url("/docs/report.pdf"))).body
        site.extra["/docs/mislabelled"] = respond(pdf, "text/html")
        page = await fetcher.get(site.url("/docs/mislabelled"))
        assert page.kind == "pdf"
        article = await asyncio.to_thread(page_article, page)
        assert article.title == "Harbour Authority annual report 2023"
        assert "rose to 2.4 million in 2023" in article.text

    run(scenario)


def test_a_feed_is_refused_where_a_page_is_expected_and_the_reverse() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        feed = await fetcher.get(site.url("/rss.xml"), accept=frozenset({"feed"}))
        assert feed.kind == "feed"
        error = await error_of(fetcher, site.url("/rss.xml"))
        assert "expected a page or a PDF, got application/rss+xml" in str(error)
        with pytest.raises(FetchError, match="expected a feed, got text/html"):
            await fetcher.get(site.url("/news/ferries.html"), accept=frozenset({"feed"}))

    run(scenario)


def test_requests_to_one_host_are_spaced_by_the_delay() -> None:
    """A controllable clock: the pacer sleeps exactly what is left of the delay."""
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    async def main() -> None:
        pacer = HostPacer(2.0, clock=lambda: now[0], sleep=sleep)
        await pacer.wait_turn("http://a:80")
        now[0] += 0.5
        await pacer.wait_turn("http://a:80")
        await pacer.wait_turn("http://b:80")  # another host: no wait
        now[0] += 5
        await pacer.wait_turn("http://a:80")  # the delay has passed
        assert slept == [1.5]

    asyncio.run(main())


def test_the_fetcher_paces_its_own_requests() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        waits: list[float] = []

        async def record(seconds: float) -> None:
            waits.append(seconds)

        fetcher.pacer = HostPacer(30.0, clock=lambda: 0.0, sleep=record)
        await fetcher.get(site.url("/news/ferries.html"))
        await fetcher.get(site.url("/news/tram.html"))
        assert waits == [30.0, 30.0]  # before the page (robots.txt came first), then the next

    run(scenario)


def test_a_crawl_delay_in_robots_txt_slows_requests_to_that_host() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        waits: list[float] = []

        async def record(seconds: float) -> None:
            waits.append(seconds)

        site.extra["/robots.txt"] = respond(
            b"User-agent: citebot\nCrawl-delay: 7\nDisallow: /private/\n", "text/plain"
        )
        fetcher.pacer = HostPacer(1.0, clock=lambda: 0.0, sleep=record)
        await fetcher.get(site.url("/news/ferries.html"))
        await fetcher.get(site.url("/news/tram.html"))
        assert waits == [7.0, 7.0]  # not the 1 s configured: the site asked for 7

    run(scenario)


def test_at_most_the_configured_connections_reach_one_host_at_once() -> None:
    async def scenario(site: NewsSite, fetcher: Fetcher) -> None:
        in_flight: list[int] = [0, 0]  # now, most
        release = asyncio.Event()

        async def held(request: web.Request) -> web.StreamResponse:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
            await release.wait()
            in_flight[0] -= 1
            return await site.extra_page("Held")(request)

        for n in range(5):
            site.extra[f"/held/{n}"] = held
        fetches = [asyncio.ensure_future(fetcher.get(site.url(f"/held/{n}"))) for n in range(5)]
        while in_flight[0] < 2:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # room for a third connection, were one allowed
        assert in_flight == [2, 2]
        release.set()
        pages = await asyncio.gather(*fetches)
        assert [p.status for p in pages] == [200] * 5 and in_flight[1] == 2

    run(scenario, per_host_connections=2)


def status(code: int) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, text="status")

    return handler


def redirect(target: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(target)

    return handler


def respond(body: bytes, content_type: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers={"Content-Type": content_type})

    return handler
