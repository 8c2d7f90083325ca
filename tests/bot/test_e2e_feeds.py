"""End to end, the real discord.py client against the emulator and the local news site:
`/sources add` fetches, indexes and reports; members cannot add (and nothing is fetched);
feeds are listed, followed and dropped; the scheduled refresh adds new entries while
questions are answered, and never reindexes at the same time as `/reindex`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from bot.async_engine import REINDEX_RUNNING, REINDEX_THREAD_NAME
from bot.errors import NotAdminError, UserError
from bot.exts.feeds import Feeds
from bot.permissions import NOT_ADMIN
from index.errors import ReindexRunningError
from index.settings import DEFAULT_MODEL, EngineSettings
from tests.bot.engines import (
    GatedEmbedder,
    GuardedEmbedder,
    GuardedEngine,
    IndexDirs,
    LoopGuard,
    ReindexGate,
)
from tests.bot.harness import STEP_TIMEOUT, ask_by_mention, embed_text, run_scenario, running_bot
from tests.discord_emulator import DiscordEmulator
from tests.index.ingest.web.site import NewsSite

pytestmark = pytest.mark.timeout(90)


def web_engine(
    dirs: IndexDirs, embedder: Any, guard: LoopGuard, *, allow_private: bool = True
) -> GuardedEngine:
    """The real engine over `dirs`, fetching from the local site (127.0.0.1) when allowed."""
    settings = EngineSettings(
        _env_file=None,
        articles_dir=dirs.articles,
        data_dir=dirs.data,
        model=DEFAULT_MODEL,
        feeds_file=dirs.data.parent / "feeds.txt",
        allow_private_urls=allow_private,
        fetch_timeout=5,
        host_delay=0,
    )
    engine = GuardedEngine(settings, embedder=embedder)
    engine.guard = guard
    return engine


def feeds_cog(bot: Any) -> Feeds:
    """The loaded feeds extension (a fresh module per bot, hence no isinstance)."""
    cog = bot.get_cog("Feeds")
    assert cog is not None and type(cog).__name__ == "Feeds"
    return cog  # type: ignore[no-any-return]


@asynccontextmanager
async def held_feed(site: NewsSite, path: str) -> AsyncIterator[asyncio.Event]:
    """Serve `path` only once the returned event is set (the refresh waits meanwhile)."""
    release = asyncio.Event()
    serve = site._dispatch

    async def gated(request: web.Request) -> web.StreamResponse:
        await release.wait()
        site.extra.pop(path)
        return await serve(request)

    site.extra[path] = gated
    try:
        yield release
    finally:
        release.set()


def test_an_admin_adds_a_page_and_questions_are_answered_from_it(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    engine = web_engine(own_index, GuardedEmbedder(embedder, guard), guard)

    async def scenario(emu: DiscordEmulator) -> None:
        async with NewsSite() as site, running_bot(emu, engine, feedback):
            url = site.url("/news/ferries.html")
            command = await emu.run_slash_command(
                "sources", {"url": url}, subcommand="add", user=emu.admin
            )
            report = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
            again = await emu.run_slash_command(
                "sources", {"url": url}, subcommand="add", user=emu.owner
            )
            same = await emu.wait_for_message(interaction=again, timeout=STEP_TIMEOUT)
            _, answer = await ask_by_mention(
                emu, "How many passengers does an electric ferry carry?"
            )
        assert command.callback_type == 5 and not report.ephemeral  # reported in the channel
        first, index_line = report.content.splitlines()
        assert first.startswith("Added **Electric ferries enter service** (`web/127.0.0.1_")
        assert first.endswith(f"from <{url}>")
        assert index_line.startswith("The index now holds 5 articles in ")
        assert same.content == f"Unchanged: <{url}> is already indexed as it is."
        assert "Each ferry carries 150 passengers" in embed_text(answer)
        assert url in embed_text(answer)
        assert [h.status for h in site.requests_to("/news/ferries.html")] == [200, 304]

    run_scenario(scenario)


@pytest.mark.parametrize(
    ("subcommand", "options"),
    [
        ("add", {"url": "PAGE"}),
        ("feed-add", {"url": "FEED"}),
        ("feed-remove", {"url": "FEED"}),
        ("feeds", {}),
    ],
)
def test_a_member_is_refused_every_fetching_command_and_nothing_is_fetched(
    own_index: IndexDirs,
    embedder: Any,
    guard: LoopGuard,
    feedback: Any,
    subcommand: str,
    options: dict[str, str],
) -> None:
    engine = web_engine(own_index, GuardedEmbedder(embedder, guard), guard)
    feeds_file = own_index.data.parent / "feeds.txt"
    generation = engine.status().generation

    async def scenario(emu: DiscordEmulator) -> None:
        async with NewsSite() as site:
            feeds_file.write_text(site.url("/atom.xml") + "\n")
            values = {
                k: site.url("/news/ferries.html" if v == "PAGE" else "/atom.xml")
                for k, v in options.items()
            }
            async with running_bot(emu, engine, feedback, expect_errors=(NotAdminError,)):
                command = await emu.run_slash_command(
                    "sources", values, subcommand=subcommand, user=emu.member
                )
                refusal = await emu.wait_for_message(interaction=command)
            assert refusal.ephemeral and refusal.content == NOT_ADMIN
            assert site.hits == []  # not even robots.txt

    run_scenario(scenario)
    assert feeds_file.read_text().count("\n") == 1  # the feeds file is untouched
    assert not (own_index.articles / "web").exists()
    assert engine.status().generation == generation


def test_internal_addresses_are_refused_from_discord_too(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    engine = web_engine(own_index, GuardedEmbedder(embedder, guard), guard, allow_private=False)

    async def scenario(emu: DiscordEmulator) -> None:
        async with NewsSite() as site, running_bot(emu, engine, feedback):
            for url in (site.url("/news/ferries.html"), "http://169.254.169.254/latest/meta-data/"):
                command = await emu.run_slash_command(
                    "sources", {"url": url}, subcommand="add", user=emu.admin
                )
                report = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
                assert report.content.startswith(f"Could not add <{url}>: refused to contact ")
                assert "CITEBOT\\_ALLOW\\_PRIVATE\\_URLS=true" in report.content
            assert site.hits == []

    run_scenario(scenario)


def test_admins_follow_list_and_drop_feeds(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    engine = web_engine(own_index, GuardedEmbedder(embedder, guard), guard)
    feeds_file = own_index.data.parent / "feeds.txt"

    async def scenario(emu: DiscordEmulator) -> None:
        async with (
            NewsSite() as site,
            running_bot(emu, engine, feedback, expect_errors=(UserError,)) as bot,
        ):
            atom = site.url("/atom.xml")

            async def run(subcommand: str, **options: str) -> Any:
                command = await emu.run_slash_command(
                    "sources", options, subcommand=subcommand, user=emu.admin
                )
                return await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)

            empty = await run("feeds")
            followed = await run("feed-add", url=atom)
            twice = await run("feed-add", url=atom)
            not_a_feed = await run("feed-add", url=site.url("/news/tram.html"))
            before = await run("feeds")
            await feeds_cog(bot).refresh()
            after = await run("feeds")
            dropped = await run("feed-remove", url=atom)
            unknown = await run("feed-remove", url=atom)
            _, answer = await ask_by_mention(emu, "When do the night trams return?")
        assert empty.embeds[0]["description"].startswith("No feeds are followed yet")
        assert "No scheduled refresh" in empty.embeds[0]["footer"]["text"]
        assert followed.ephemeral and followed.content == (
            f"Now following **Eastport City Hall** <{atom}> (2 entries now); its articles are "
            "added when feeds are next refreshed (`citebot refresh`)."
        )
        assert twice.content == f"<{atom}> is already followed."
        assert not_a_feed.content.startswith("Not added: ")
        assert "expected a feed, got text/html" in not_a_feed.content
        assert before.embeds[0]["description"] == f"**1.** <{atom}> — not read yet"
        listing = after.embeds[0]["description"]
        assert listing.startswith(f"**1.** **Eastport City Hall** <{atom}> — read <t:")
        assert "2 entries · 2 articles added · 0 pages failed" in listing
        assert "last refresh: 1 feed (0 failed): 2 added" in after.embeds[0]["footer"]["text"]
        assert dropped.content == f"No longer following <{atom}>; its articles stay indexed."
        assert unknown.content == f"<{atom}> is not followed: see `/sources feeds`."
        assert "Night trams will run through the old town again" in embed_text(answer)

    run_scenario(scenario)
    assert feeds_file.read_text().splitlines() == [
        "# Feeds citebot follows: one RSS or Atom URL per line; lines starting with # are ignored."
    ]


def test_the_scheduled_refresh_adds_entries_while_questions_are_answered(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    engine = web_engine(own_index, GuardedEmbedder(embedder, guard), guard)
    feeds_file = own_index.data.parent / "feeds.txt"

    async def scenario(emu: DiscordEmulator) -> None:
        async with NewsSite() as site:
            feeds_file.write_text(site.url("/atom.xml") + "\n")
            async with (
                held_feed(site, "/atom.xml") as release,
                running_bot(emu, engine, feedback, refresh_minutes=45) as bot,
            ):
                cog = feeds_cog(bot)
                assert cog.scheduled.is_running() and cog.scheduled.minutes == 45
                await emu.wait_until(lambda: site.requests_to("/atom.xml") != [])
                assert not cog.refreshed.is_set()  # the refresh is waiting for the feed
                _, during = await ask_by_mention(emu, "When did the harbour bridge reopen?")
                release.set()
                await asyncio.wait_for(cog.refreshed.wait(), STEP_TIMEOUT)
                _, after = await ask_by_mention(emu, "When do the night trams return?")
                upcoming = cog.scheduled.next_iteration
                assert upcoming is not None and upcoming > datetime.now(UTC)  # the schedule goes on
        assert "The Eastport harbour bridge reopened" in embed_text(during)
        assert "Night trams will run through the old town again" in embed_text(after)
        run = cog.last_refresh
        assert run is not None and run.index is not None and run.index.added == 2

    run_scenario(scenario)


def test_without_a_schedule_nothing_is_refreshed(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    engine = web_engine(own_index, GuardedEmbedder(embedder, guard), guard)

    async def scenario(emu: DiscordEmulator) -> None:
        async with NewsSite() as site:
            (own_index.data.parent / "feeds.txt").write_text(site.url("/atom.xml") + "\n")
            async with running_bot(emu, engine, feedback) as bot:
                await ask_by_mention(emu, "When did the harbour bridge reopen?")
                assert not feeds_cog(bot).scheduled.is_running()
            assert site.hits == []

    run_scenario(scenario)


def test_a_scheduled_refresh_waits_for_a_running_reindex_and_never_runs_beside_it(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    gate = ReindexGate(REINDEX_THREAD_NAME)
    engine = web_engine(own_index, GatedEmbedder(embedder, guard, gate), guard)
    feeds_file = own_index.data.parent / "feeds.txt"
    (own_index.articles / "note.md").write_text(
        "---\ntitle: Council note\n---\nThe council met on Tuesday to discuss the budget.\n"
    )

    async def scenario(emu: DiscordEmulator) -> None:
        async with NewsSite() as site:
            feeds_file.write_text(site.url("/atom.xml") + "\n")
            async with (
                held_feed(site, "/atom.xml") as release,
                running_bot(emu, engine, feedback, refresh_minutes=30) as bot,
            ):
                cog = feeds_cog(bot)
                command = await emu.run_slash_command("reindex", user=emu.admin)
                progress = await emu.wait_for_message(interaction=command)
                assert await asyncio.to_thread(gate.entered.wait, STEP_TIMEOUT)
                with logged("waiting for the running reindex to finish") as waiting:
                    release.set()  # the refresh fetches and writes, then waits for the reindex
                    await asyncio.wait_for(waiting.wait(), STEP_TIMEOUT)
                assert not cog.refreshed.is_set() and bot.engine.reindexing
                gate.release.set()
                await asyncio.wait_for(cog.refreshed.wait(), STEP_TIMEOUT)
                manual = await emu.wait_for_message(
                    predicate=lambda m: m.id == progress.id and "finished" in m.content,
                    timeout=STEP_TIMEOUT,
                )
                second = await emu.run_slash_command("reindex", user=emu.admin)
                later = await emu.wait_for_message(
                    interaction=second,
                    predicate=lambda m: "finished" in m.content,
                    timeout=STEP_TIMEOUT,
                )
        assert "1 added, 0 updated, 0 removed, 4 unchanged" in manual.content
        run = cog.last_refresh
        assert run is not None and run.index is not None
        assert (run.index.added, run.index.unchanged) == (2, 5)  # after the manual reindex
        assert "0 added, 0 updated, 0 removed, 7 unchanged" in later.content
        assert REINDEX_RUNNING not in [m.content for m in emu.messages]

    run_scenario(scenario)


def test_a_reindex_is_refused_while_a_scheduled_refresh_reindexes(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    gate = ReindexGate(REINDEX_THREAD_NAME)
    engine = web_engine(own_index, GatedEmbedder(embedder, guard, gate), guard)
    feeds_file = own_index.data.parent / "feeds.txt"

    async def scenario(emu: DiscordEmulator) -> None:
        async with NewsSite() as site:
            feeds_file.write_text(site.url("/atom.xml") + "\n")
            expected = (ReindexRunningError,)
            async with running_bot(
                emu, engine, feedback, refresh_minutes=30, expect_errors=expected
            ) as bot:
                cog = feeds_cog(bot)
                try:  # the refresh has fetched the feed's two pages and is embedding them
                    assert await asyncio.to_thread(gate.entered.wait, STEP_TIMEOUT)
                    command = await emu.run_slash_command("reindex", user=emu.admin)
                    refusal = await emu.wait_for_message(interaction=command)
                    _, during = await ask_by_mention(emu, "When did the harbour bridge reopen?")
                    assert not cog.refreshed.is_set()
                finally:
                    gate.release.set()
                await asyncio.wait_for(cog.refreshed.wait(), STEP_TIMEOUT)
        assert refusal.ephemeral and refusal.content == REINDEX_RUNNING
        assert "The Eastport harbour bridge reopened" in embed_text(during)
        run = cog.last_refresh
        assert run is not None and run.index is not None and run.index.added == 2

    run_scenario(scenario)


@contextmanager
def logged(message: str) -> Iterator[asyncio.Event]:
    """An event set (from any thread) when the bot logs `message`."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == message:
                loop.call_soon_threadsafe(event.set)

    handler = Watch()
    logging.getLogger("bot").addHandler(handler)
    try:
        yield event
    finally:
        logging.getLogger("bot").removeHandler(handler)
