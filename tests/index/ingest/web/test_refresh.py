"""Refreshing feeds and adding pages against the local news site: new entries become
Markdown articles, a second refresh costs only 304s, every failure is reported while the rest
is kept, retention removes old fetched articles, and the incremental reindex indexes them."""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from index.ingest.readers import load_articles
from index.ingest.web.feeds import FeedsFileError, add_feed, read_feeds, remove_feed
from index.ingest.web.fetch import FetchLimits
from index.ingest.web.guard import AddressPolicy
from index.ingest.web.refresh import RefreshRunningError, WebConfig, add_urls, refresh_feeds
from index.ingest.web.report import FetchReport
from index.store.indexer import update_index
from tests.conftest import FakeEmbedder
from tests.index.ingest.web.site import CP1252_TITLE, NewsSite

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
WRITTEN = {
    "/news/ferries.html": "Electric ferries enter service",
    "/news/cafe.html": CP1252_TITLE,
    "/docs/report.pdf": "Harbour annual report",
    "/news/tram.html": "Night trams return to the old town",
    "/news/library.html": "Library opens a repair café",
}
FAILED = {
    "/private/secret.html": "robots.txt of 127.0.0.1 does not allow citebot to fetch it",
    "/news/gone.html": "HTTP 404",
    "/news/error.html": "HTTP 500",
    "/news/slow.html": "no complete answer within 1 s (CITEBOT_FETCH_TIMEOUT)",
    "/news/loop-a.html": "redirect loop",
    "/news/huge.html": "larger than 5 MB",
    "/news/binary.html": "binary content labelled text/html",
}


def config_for(root: Path, site: NewsSite, **changes: object) -> WebConfig:
    feeds = root / "feeds.txt"
    if not feeds.exists():
        feeds.write_text(
            f"# Eastport\n{site.url('/rss.xml')}\n{site.url('/atom.xml')}  # city hall\n"
        )
    config = WebConfig(
        articles_dir=root / "articles",
        data_dir=root / "data",
        feeds_file=feeds,
        limits=FetchLimits(timeout=1, host_delay=0),
        policy=AddressPolicy(allow_private=True),
    )
    return replace(config, **changes)  # type: ignore[arg-type]


def run(scenario: Callable[[NewsSite], Awaitable[None]]) -> None:
    async def main() -> None:
        async with NewsSite() as site:
            await scenario(site)

    asyncio.run(main())


def by_path(report: FetchReport, site: NewsSite) -> dict[str, tuple[str, str | None]]:
    return {p.url.removeprefix(site.base): (p.status, p.reason) for p in report.pages}


def test_a_refresh_writes_new_entries_reports_failures_and_a_second_costs_only_304s(
    tmp_path: Path,
) -> None:
    async def scenario(site: NewsSite) -> None:
        config = config_for(tmp_path, site)
        report = await refresh_feeds(config, now=NOW)
        outcomes = by_path(report, site)
        assert {path for path, (status, _) in outcomes.items() if status == "added"} == set(WRITTEN)
        for path, words in FAILED.items():
            status, reason = outcomes[path]
            assert status == "failed" and words in (reason or ""), (path, reason)
        assert [(f.status, f.entries, f.new) for f in report.feeds] == [
            ("ok", 10, 10),
            ("ok", 2, 2),
        ]
        assert report.summary() == (
            "2 feeds (0 failed): 5 added, 0 updated, 0 unchanged, 0 skipped, 7 failed, 0 removed"
        )
        assert site.requests_to("/private/secret.html") == []  # robots honoured

        site.hits.clear()
        again = await refresh_feeds(config, now=NOW)
        assert site.statuses(exclude_robots=False) == [304, 304]  # robots.txt is cached too
        assert [f.status for f in again.feeds] == ["not modified", "not modified"]
        assert again.pages == [] and not again.changed

    run(scenario)
    files = sorted((tmp_path / "articles").rglob("*.md"))
    assert len(files) == 5
    assert all(f.relative_to(tmp_path / "articles").parts[0] == "web" for f in files)


def test_written_articles_carry_front_matter_and_are_indexed_incrementally(
    tmp_path: Path,
) -> None:
    async def scenario(site: NewsSite) -> None:
        await refresh_feeds(config_for(tmp_path, site), now=NOW)
        cafe = next((tmp_path / "articles").rglob("news-cafe-*.md")).read_text(encoding="utf-8")
        front = yaml.safe_load(cafe.split("---\n")[1])
        assert set(front) == {"title", "url", "source", "author", "published", "fetched"}
        assert front["url"] == site.url("/news/cafe.html")
        assert (front["title"], front["source"], front["author"]) == (
            CP1252_TITLE,
            "Eastport Herald",
            "Ada Berg",
        )
        assert str(front["published"]).startswith("2024-06-04")
        assert "Zoë Brandt served" not in cafe and "One owner, Zoë Brandt, served" in cafe

    run(scenario)
    loaded = load_articles(tmp_path / "articles")
    assert loaded.failures == [] and len(loaded.articles) == 5
    report = next(a for a in loaded.articles if a.title == "Harbour annual report")
    assert report.source == "127.0.0.1" and report.author == "Harbour Authority"
    assert "rose to 2.4 million in 2023" in report.text
    assert "\n\nThe new quay cost 12 million euros" in report.text  # the page break

    embedder = FakeEmbedder()
    first = update_index(tmp_path / "articles", tmp_path / "data", embedder)
    assert (first.added, first.failed) == (5, [])
    (tmp_path / "articles" / "own-note.md").write_text("---\ntitle: Mine\n---\nMy own note.\n")
    second = update_index(tmp_path / "articles", tmp_path / "data", embedder)
    assert (second.added, second.unchanged) == (1, 5)  # nothing fetched was re-embedded


def test_failures_that_may_pass_are_retried_later_and_the_rest_never(tmp_path: Path) -> None:
    async def scenario(site: NewsSite) -> None:
        config = config_for(tmp_path, site)
        await refresh_feeds(config, now=NOW)
        site.extra["/news/error.html"] = site.extra_page("Council fixes the server")
        site.extra["/news/gone.html"] = site.extra_page("Found again")
        site.hits.clear()
        later = await refresh_feeds(config, now=NOW + timedelta(hours=2))
        assert by_path(later, site) == {
            "/news/error.html": ("added", None),
            "/news/slow.html": ("failed", by_path(later, site)["/news/slow.html"][1]),
        }
        assert site.requests_to("/news/gone.html") == []  # a 404 is final
        assert [f.status for f in later.feeds] == ["not modified", "not modified"]

    run(scenario)


def test_one_failing_feed_is_reported_and_the_others_are_read(tmp_path: Path) -> None:
    async def scenario(site: NewsSite) -> None:
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(
            "\n".join(
                [
                    site.url("/no-such-feed.xml"),
                    site.url("/news/ferries.html"),  # a page, not a feed
                    "http://169.254.169.254/latest/",  # refused by the default policy below
                    site.url("/atom.xml"),
                ]
            )
        )
        policy = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))
        report = await refresh_feeds(config_for(tmp_path, site, policy=policy), now=NOW)
        statuses = [(f.url.removeprefix(site.base), f.status) for f in report.feeds]
        assert statuses == [
            ("/no-such-feed.xml", "failed"),
            ("/news/ferries.html", "failed"),
            ("http://169.254.169.254/latest/", "failed"),
            ("/atom.xml", "ok"),
        ]
        errors = [f.error or "" for f in report.feeds]
        assert "HTTP 404" in errors[0]
        assert "expected a feed, got text/html" in errors[1]
        assert "refused to contact 169.254.169.254" in errors[2]
        assert report.count("added") == 2

    run(scenario)


def test_adding_urls_unchanged_changed_deleted_and_pdf(tmp_path: Path) -> None:
    async def scenario(site: NewsSite) -> None:
        config = config_for(tmp_path, site)
        url = site.url("/news/ferries.html")
        first = await add_urls([url, url, site.url("/docs/report.pdf")], config)
        assert [(p.status, p.title) for p in first.pages] == [
            ("added", "Electric ferries enter service"),
            ("added", "Harbour Authority annual report 2023"),  # from the PDF's metadata
        ]
        path = tmp_path / "articles" / (first.pages[0].path or "")
        written = path.read_bytes()
        stamp = path.stat().st_mtime_ns

        site.hits.clear()
        same = await add_urls([url], config)
        assert same.pages[0].status == "unchanged"
        assert [h.status for h in site.requests_to("/news/ferries.html")] == [304]
        assert path.read_bytes() == written and path.stat().st_mtime_ns == stamp

        site.version = 2
        changed = await add_urls([url], config)
        assert changed.pages[0].status == "updated"
        assert "Update 2: the story has changed." in path.read_text(encoding="utf-8")

        path.unlink()  # deleted by hand: fetched whole again, not answered with a 304
        back = await add_urls([url], config)
        assert back.pages[0].status == "added" and path.exists()

    run(scenario)


def test_a_scanned_pdf_is_reported_as_such(tmp_path: Path) -> None:
    async def scenario(site: NewsSite) -> None:
        report = await add_urls([site.url("/docs/scan.pdf")], config_for(tmp_path, site))
        (page,) = report.pages
        assert page.status == "failed"
        assert "scanned PDF with no text layer" in (page.reason or "")

    run(scenario)


def test_retention_deletes_old_fetched_articles_and_skips_old_entries(tmp_path: Path) -> None:
    mine = tmp_path / "articles" / "mine.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("---\ntitle: Old\npublished: 2001-01-01\n---\nMy own old note.\n")

    async def scenario(site: NewsSite) -> None:
        config = config_for(tmp_path, site, keep_days=30)
        first = await refresh_feeds(config, now=NOW)
        assert first.count("added") == 5 and first.removed == []
        # A month on, the articles from 3-4 June are past 30 days; 5-6 June are kept.
        later = await refresh_feeds(config, now=datetime(2024, 7, 5, tzinfo=UTC))
        assert sorted(Path(p).name.rsplit("-", 1)[0] for p in later.removed) == [
            "docs-report",
            "news-cafe",
            "news-ferries",
        ]
        assert mine.exists()  # never touches files people put there

    run(scenario)
    names = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "articles").rglob("*.md"))
    assert names == ["mine.md", "news-library", "news-tram"]


def test_entries_older_than_retention_are_not_fetched(tmp_path: Path) -> None:
    async def scenario(site: NewsSite) -> None:
        config = config_for(tmp_path, site, keep_days=3)
        report = await refresh_feeds(config, now=datetime(2024, 6, 8, tzinfo=UTC))
        outcomes = by_path(report, site)
        assert outcomes["/news/library.html"][0] == "added"  # 6 June: kept
        assert outcomes["/news/ferries.html"] == (
            "skipped",
            "published 2024-06-03, older than CITEBOT_KEEP_DAYS allows",
        )
        assert site.requests_to("/news/ferries.html") == []

    run(scenario)


def test_two_refreshes_at_once_are_refused(tmp_path: Path) -> None:
    async def scenario(site: NewsSite) -> None:
        config = config_for(tmp_path, site)
        first = asyncio.ensure_future(refresh_feeds(config, now=NOW))
        await asyncio.sleep(0)  # let it take the lock
        with pytest.raises(RefreshRunningError, match="Another refresh"):
            await refresh_feeds(config, now=NOW)
        await first

    run(scenario)


def test_the_feeds_file_keeps_comments_and_refuses_bad_urls(tmp_path: Path) -> None:
    feeds = tmp_path / "conf" / "feeds.txt"
    policy = AddressPolicy()
    assert read_feeds(feeds) == []
    assert add_feed(feeds, "https://news.example.org/rss", policy)
    assert not add_feed(feeds, "https://news.example.org/rss", policy)  # already there
    feeds.write_text(feeds.read_text() + "# paused: https://old.example/rss\n")
    assert add_feed(feeds, " https://city.example/atom.xml ", policy)
    assert read_feeds(feeds) == ["https://news.example.org/rss", "https://city.example/atom.xml"]
    assert remove_feed(feeds, "https://news.example.org/rss")
    assert not remove_feed(feeds, "https://news.example.org/rss")
    text = feeds.read_text()
    assert "# paused: https://old.example/rss" in text and text.startswith("# Feeds citebot")
    assert [p.name for p in feeds.parent.iterdir()] == ["feeds.txt"]  # no temp files left
    for bad, words in [
        ("not a url", "Not a feed URL"),
        ("ftp://x.example/feed", "only http and https"),
        ("http://127.0.0.1/feed", "a loopback address"),
    ]:
        with pytest.raises(FeedsFileError, match=words):
            add_feed(feeds, bad, policy)
    assert os.path.getsize(feeds) == len(text)
