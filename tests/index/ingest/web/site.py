"""A small news site on 127.0.0.1 (aiohttp) for the fetching tests, counting every request.

It serves an RSS 2.0 and an Atom feed, article pages, a PDF, conditional GET (ETag and
Last-Modified, answered with 304), 404 and 500 pages, a page that never finishes, a
redirect loop, a 50 MB page, binary bytes labelled text/html, a windows-1252 page, and a
robots.txt that disallows /private/. `NewsSite` runs in the test's event loop;
`site_in_thread` runs one in a thread of its own for code that runs its own loop (the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from aiohttp import web

from tests.pdfs import make_pdf, make_scanned_pdf

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LAST_MODIFIED = formatdate(1717236000, usegmt=True)  # Sat, 01 Jun 2024 10:00:00 GMT
HUGE_BYTES = 50 * 1024 * 1024


@dataclass
class Hit:
    """One request the site received."""

    method: str
    path: str
    status: int
    headers: dict[str, str]


def article_html(title: str, paragraphs: list[str], *, author: str = "", date: str = "") -> str:
    """A news page as sites write them: navigation, the article, a footer."""
    meta = f'<meta name="author" content="{author}">' if author else ""
    if date:
        meta += f'<meta property="article:published_time" content="{date}">'
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{meta}"
        '<meta property="og:site_name" content="Eastport Herald"></head><body>'
        '<nav><a href="/">Home</a> <a href="/news/">News</a> <a href="/sport/">Sport</a></nav>'
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>© Eastport Herald. All rights reserved.</footer></body></html>"
    )


PAGES: dict[str, tuple[str, list[str]]] = {
    "/news/ferries.html": (
        "Electric ferries enter service",
        [
            "Two electric ferries entered service on the Eastport harbour route on Monday.",
            "Each ferry carries 150 passengers and recharges in eight minutes at the quay.",
            "The harbour authority said the ferries would cut the route's emissions by 90 percent.",
        ],
    ),
    "/news/library.html": (
        "Library opens a repair café",
        [
            "The central library opened a repair café where volunteers mend toasters and bikes.",
            "It is open every Saturday from ten to four, and the first visits were all booked.",
            "Volunteers said a broken lamp was the most common repair of the opening day.",
        ],
    ),
    "/news/tram.html": (
        "Night trams return to the old town",
        [
            "Night trams will run through the old town again from the first of July.",
            "They will leave every twenty minutes between midnight and five in the morning.",
            "The city council approved the plan after a two-year trial of night buses.",
        ],
    ),
    "/private/secret.html": (
        "Not for robots",
        ["This page is disallowed by robots.txt and must never be fetched by citebot at all."],
    ),
}
CP1252_TITLE = "Café owners welcome the crowds"
CP1252_TEXT = (
    "The café owners on Quay Street said the summer crowds were the “best in a decade”.",
    "One owner, Zoë Brandt, served 1,200 cups of coffee on Saturday — a record for her café.",
)


@dataclass
class NewsSite:
    """The site; `hits` records every request, `version` changes the article pages."""

    host: str = "127.0.0.1"
    hits: list[Hit] = field(default_factory=list)
    version: int = 1
    extra: dict[str, Handler] = field(default_factory=dict)
    slow_release: asyncio.Event = field(default_factory=asyncio.Event)
    port_wanted: int = 0
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def extra_page(self, title: str) -> Handler:
        """A handler serving a short article titled `title`."""
        paragraphs = [
            f"{title}: the council said on Tuesday that the work was finished ahead of time.",
            "Officials thanked the engineers who had worked through the weekend to finish it.",
        ]

        async def handler(request: web.Request) -> web.StreamResponse:
            html = article_html(title, paragraphs)
            return web.Response(text=html, content_type="text/html")

        return handler

    def statuses(self, exclude_robots: bool = True) -> list[int]:
        return [h.status for h in self.hits if not (exclude_robots and h.path == "/robots.txt")]

    async def __aenter__(self) -> NewsSite:
        app = web.Application(middlewares=[self._count])
        app.router.add_route("GET", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port_wanted)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.slow_release.set()
        assert self._runner is not None
        await self._runner.cleanup()

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        hit = Hit(request.method, request.path, 0, dict(request.headers))
        self.hits.append(hit)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            hit.status = exc.status
            raise
        hit.status = response.status
        return response

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path in self.extra:
            return await self.extra[path](request)
        if path in PAGES:
            title, paragraphs = PAGES[path]
            if self.version > 1:
                paragraphs = [*paragraphs, f"Update {self.version}: the story has changed."]
            html = article_html(title, paragraphs, author="Ada Berg", date="2024-06-01")
            return conditional(request, html.encode(), "text/html; charset=utf-8")
        name = "_" + path.strip("/").replace("/", "_").replace(".", "_").replace("-", "_")
        handler = getattr(self, name, None)
        if handler is None:
            raise web.HTTPNotFound(text="no such page")
        return await handler(request)

    async def _robots_txt(self, request: web.Request) -> web.StreamResponse:
        text = "User-agent: *\nDisallow: /private/\n"
        return web.Response(text=text, content_type="text/plain")

    async def _rss_xml(self, request: web.Request) -> web.StreamResponse:
        items = [
            ("ferries", "/news/ferries.html", "Electric ferries enter service", "Mon, 03 Jun 2024"),
            ("secret", "/private/secret.html", "Not for robots", "Mon, 03 Jun 2024"),
            ("gone", "/news/gone.html", "A page that is gone", "Mon, 03 Jun 2024"),
            ("error", "/news/error.html", "A page that fails", "Mon, 03 Jun 2024"),
            ("slow", "/news/slow.html", "A page that never ends", "Mon, 03 Jun 2024"),
            ("loop", "/news/loop-a.html", "A redirect loop", "Mon, 03 Jun 2024"),
            ("huge", "/news/huge.html", "A 50 MB page", "Mon, 03 Jun 2024"),
            ("binary", "/news/binary.html", "Binary labelled HTML", "Mon, 03 Jun 2024"),
            ("cafe", "/news/cafe.html", CP1252_TITLE, "Tue, 04 Jun 2024"),
            ("report", "/docs/report.pdf", "Harbour annual report", "Tue, 04 Jun 2024"),
        ]
        xml = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Eastport Herald</title><link>{self.base}/</link>"
            "<description>News from Eastport</description>"
            + "".join(
                f"<item><title>{title}</title><link>{self.base}{link}</link>"
                f'<guid isPermaLink="false">herald-{key}</guid>'
                f"<pubDate>{day} 08:00:00 GMT</pubDate><author>desk@herald.example (Desk)</author>"
                "</item>"
                for key, link, title, day in items
            )
            + "</channel></rss>"
        )
        return conditional(request, xml.encode(), "application/rss+xml")

    async def _atom_xml(self, request: web.Request) -> web.StreamResponse:
        entries = [
            ("tram", "/news/tram.html", "Night trams return to the old town", "2024-06-05"),
            ("library", "/news/library.html", "Library opens a repair café", "2024-06-06"),
        ]
        xml = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>Eastport City Hall</title>'
            "<id>urn:eastport:city</id><updated>2024-06-06T09:00:00Z</updated>"
            + "".join(
                f"<entry><title>{title}</title><id>urn:eastport:{key}</id>"
                f'<link href="{self.base}{link}"/><updated>{day}T09:00:00Z</updated>'
                f"<published>{day}T09:00:00Z</published><author><name>City Hall</name></author>"
                "</entry>"
                for key, link, title, day in entries
            )
            + "</feed>"
        )
        return conditional(request, xml.encode(), "application/atom+xml", by_date=True)

    async def _news_gone_html(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound(text="gone")

    async def _news_error_html(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPInternalServerError(text="the server broke")

    async def _news_slow_html(self, request: web.Request) -> web.StreamResponse:
        # Never answers until the site shuts down: only the client's timeout ends it.
        await self.slow_release.wait()
        return web.Response(text="too late", content_type="text/html")

    async def _news_loop_a_html(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/news/loop-b.html")

    async def _news_loop_b_html(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/news/loop-a.html")

    async def _news_bad_redirect_html(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "http://[::1"})

    async def _news_huge_html(self, request: web.Request) -> web.StreamResponse:
        """50 MB of HTML, streamed without a Content-Length (so the size is found by reading)."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        block = b"<p>" + b"filler text " * 5000 + b"</p>"
        with contextlib.suppress(ConnectionError):
            for _ in range(HUGE_BYTES // len(block) + 1):
                await response.write(block)
        return response

    async def _news_huge_declared_html(self, request: web.Request) -> web.StreamResponse:
        """50 MB announced by Content-Length: refused before reading."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/html", "Content-Length": str(HUGE_BYTES)}
        )
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            await response.write(b"<p>" + b"x" * 65536)
        return response

    async def _news_binary_html(self, request: web.Request) -> web.StreamResponse:
        blob = hashlib.sha256(b"seed").digest() * 2000 + b"\x00\x01\x02" * 100
        return web.Response(body=blob, headers={"Content-Type": "text/html"})

    async def _news_cafe_html(self, request: web.Request) -> web.StreamResponse:
        html = article_html(CP1252_TITLE, list(CP1252_TEXT), author="Ada Berg", date="2024-06-04")
        return web.Response(
            body=html.encode("cp1252"), headers={"Content-Type": "text/html; charset=windows-1252"}
        )

    async def _news_cafe_meta_html(self, request: web.Request) -> web.StreamResponse:
        """The same page, its charset declared only in a <meta> tag."""
        html = article_html(CP1252_TITLE, list(CP1252_TEXT)).replace(
            "<head>", '<head><meta charset="windows-1252">'
        )
        return web.Response(body=html.encode("cp1252"), headers={"Content-Type": "text/html"})

    async def _docs_report_pdf(self, request: web.Request) -> web.StreamResponse:
        return conditional(request, REPORT_PDF, "application/pdf")

    async def _docs_scan_pdf(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=make_scanned_pdf(), content_type="application/pdf")

    async def _news_image_png(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")


REPORT_PDF = make_pdf(
    [
        [
            "Harbour Authority annual report 2023",
            "Passenger numbers on the harbour ferries rose to 2.4 million in 2023, the",
            "highest since the route opened, and the authority plans two more electric",
            "ferries for 2025.",
        ],
        ["The new quay cost 12 million euros and opened in March.", "Revenue grew by a fifth."],
    ],
    title="Harbour Authority annual report 2023",
    author="Harbour Authority",
    created="D:20240215090000Z",
)


def conditional(
    request: web.Request, body: bytes, content_type: str, *, by_date: bool = False
) -> web.Response:
    """200 with a validator, or 304 when the client already has this body.

    The validator is an ETag, or with `by_date` only a Last-Modified date.
    """
    if by_date:
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return web.Response(status=304)
        headers = {"Last-Modified": LAST_MODIFIED, "Content-Type": content_type}
        return web.Response(body=body, headers=headers)
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    return web.Response(body=body, headers={"ETag": etag, "Content-Type": content_type})


@contextlib.contextmanager
def site_in_thread(**options: Any) -> Iterator[NewsSite]:
    """A NewsSite served from its own event loop in a thread (for code that runs asyncio.run)."""
    ready = threading.Event()
    stop: list[Callable[[], None]] = []
    holder: list[NewsSite] = []

    async def serve() -> None:
        async with NewsSite(**options) as site:
            holder.append(site)
            done = asyncio.Event()
            loop = asyncio.get_running_loop()
            stop.append(lambda: loop.call_soon_threadsafe(done.set))
            ready.set()
            await done.wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="news-site")
    thread.start()
    try:
        assert ready.wait(10), "the news site did not start"
        yield holder[0]
    finally:
        if stop:
            stop[0]()
        thread.join(10)
