"""End to end: `/reindex` is for admins only, reports what it did, runs one at a time, and
questions keep being answered while it runs."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.async_engine import REINDEX_RUNNING, REINDEX_THREAD_NAME
from bot.errors import NotAdminError
from bot.permissions import NOT_ADMIN
from index.errors import ReindexRunningError
from tests.bot.engines import (
    FIXTURE_ARTICLES,
    GatedEmbedder,
    GuardedEngine,
    IndexDirs,
    LoopGuard,
    ReindexGate,
    engine_settings,
    make_engine,
)
from tests.bot.harness import STEP_TIMEOUT, ask_by_mention, embed_text, run_scenario, running_bot
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(60)

FERRY_ARTICLE = """---
title: New electric ferries enter service
url: https://example.org/news/electric-ferries
source: Port Gazette
published: 2024-06-01
---
Two electric ferries entered service on the Eastport harbour route on Monday. Each ferry
carries 150 passengers and recharges in eight minutes at the quay.
"""


def finished(message: Any) -> bool:
    return message.content.startswith("Reindex finished")


class CountingEngine(GuardedEngine):
    """The real engine, counting the reindexes it is asked to run."""

    reindexes = 0

    def reindex(self, *args: Any, **kwargs: Any) -> Any:
        self.reindexes += 1
        return super().reindex(*args, **kwargs)


def test_a_member_without_permission_is_refused_and_nothing_runs(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    engine = make_engine(own_index, embedder, guard, cls=CountingEngine)
    (own_index.articles / "ferries.md").write_text(FERRY_ARTICLE, encoding="utf-8")

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, expect_errors=(NotAdminError,)):
            command = await emu.run_slash_command("reindex", user=emu.member)
            refusal = await emu.wait_for_message(interaction=command)
            # Had the member's command started a reindex, this one would be refused (it
            # runs) or would find the new article already indexed (it ran).
            admin = await emu.run_slash_command("reindex", user=emu.admin)
            report = await emu.wait_for_message(
                interaction=admin, predicate=finished, timeout=STEP_TIMEOUT
            )
        assert command.callback_type == 4 and refusal.ephemeral
        assert refusal.content == NOT_ADMIN
        member_saw = [m for m in emu.messages if m.interaction_id == command.id]
        assert member_saw == [refusal]
        assert "1 added, 0 updated, 0 removed, 4 unchanged" in report.content
        assert engine.reindexes == 1  # the admin's

    run_scenario(scenario)


def test_a_member_with_an_admin_role_reindexes_and_gets_the_counts(
    own_engine: Any, own_index: IndexDirs, feedback: Any
) -> None:
    articles = own_index.articles
    (articles / "ferries.md").write_text(FERRY_ARTICLE, encoding="utf-8")
    wheat = articles / "wheat-harvest.json"
    wheat.write_text(wheat.read_text().replace("a third less", "a quarter less"))
    (articles / "comet-sighting.txt").unlink()
    (articles / "broken.json").write_text("{not json", encoding="utf-8")

    async def scenario(emu: DiscordEmulator) -> None:
        editors = emu.add_role("Editors")
        editor = emu.add_member("editor", roles=[editors])
        async with running_bot(emu, own_engine, feedback, admin_role_ids=[editors.id]) as bot:
            # As if the reindex outlived the interaction token: edits go through the channel.
            bot.get_cog("Admin").token_lifetime = 0  # type: ignore[union-attr]
            command = await emu.run_slash_command("reindex", user=editor)
            report = await emu.wait_for_message(
                interaction=command, predicate=finished, timeout=STEP_TIMEOUT
            )
        assert command.callback_type == 4 and not report.ephemeral
        first_line, skipped, failure = report.content.splitlines()
        assert "1 added, 1 updated, 1 removed, 2 unchanged, 1 failed" in first_line
        assert first_line.endswith("The index holds 4 articles in 4 chunks.")
        assert skipped == "Skipped:" and failure.startswith("- `broken.json`: ")
        (edit,) = emu.requests_to("PATCH", rf"^/channels/\d+/messages/{report.id}$")
        assert edit.status == 200

    run_scenario(scenario)


def test_questions_are_answered_while_an_admin_reindexes(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    gate = ReindexGate(REINDEX_THREAD_NAME)
    engine = GuardedEngine(
        engine_settings(own_index), embedder=GatedEmbedder(embedder, guard, gate)
    )
    engine.guard = guard
    (own_index.articles / "ferries.md").write_text(FERRY_ARTICLE, encoding="utf-8")

    async def scenario(emu: DiscordEmulator) -> None:
        expected = (ReindexRunningError,)
        async with running_bot(emu, engine, feedback, expect_errors=expected) as bot:
            command = await emu.run_slash_command("reindex", user=emu.admin)
            progress = await emu.wait_for_message(interaction=command)
            try:
                assert await asyncio.to_thread(gate.entered.wait, STEP_TIMEOUT)
                _, answer = await ask_by_mention(emu, "When did the harbour bridge reopen?")
                second = await emu.run_slash_command("reindex", user=emu.owner)
                refusal = await emu.wait_for_message(interaction=second)
                assert bot.engine.reindexing and not finished(progress)
            finally:
                gate.release.set()
            report = await emu.wait_for_message(
                predicate=lambda m: m.id == progress.id and finished(m), timeout=STEP_TIMEOUT
            )
            _, after = await ask_by_mention(
                emu, "How many passengers does an electric ferry carry?"
            )
        assert "The Eastport harbour bridge reopened" in embed_text(answer)
        assert refusal.ephemeral and refusal.content == REINDEX_RUNNING
        assert "1 added, 0 updated, 0 removed, 4 unchanged, 0 failed" in report.content
        assert "Each ferry carries 150 passengers" in embed_text(after)
        assert "https://example.org/news/electric-ferries" in embed_text(after)

    run_scenario(scenario)


def test_without_an_index_the_bot_says_so_until_an_admin_builds_it(
    tmp_path: Path, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    dirs = IndexDirs(tmp_path / "articles", tmp_path / "data")
    shutil.copytree(FIXTURE_ARTICLES, dirs.articles)
    engine = make_engine(dirs, embedder, guard)

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback) as bot:
            _, before = await ask_by_mention(emu, "Who discovered the comet?")
            command = await emu.run_slash_command("reindex", user=emu.owner)
            report = await emu.wait_for_message(
                interaction=command, predicate=finished, timeout=STEP_TIMEOUT
            )
            _, after = await ask_by_mention(emu, "Who discovered the comet?")
        assert (
            before.content == "Nothing is indexed yet: an admin can build the index with /reindex."
        )
        assert "4 added, 0 updated, 0 removed, 0 unchanged, 0 failed" in report.content
        assert "discovered a new comet" in embed_text(after)
        warnings = [r.getMessage() for r in bot.observed.records if r.levelname == "WARNING"]  # type: ignore[attr-defined]
        assert any("No index in" in w and "/reindex" in w for w in warnings)  # said at start-up

    run_scenario(scenario)


def test_a_reindex_that_outlives_the_interaction_token_still_reports_how_it_ended(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    gate = ReindexGate(REINDEX_THREAD_NAME)
    engine = GuardedEngine(
        engine_settings(own_index), embedder=GatedEmbedder(embedder, guard, gate)
    )
    engine.guard = guard
    (own_index.articles / "ferries.md").write_text(FERRY_ARTICLE, encoding="utf-8")

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            command = await emu.run_slash_command("reindex", user=emu.admin)
            progress = await emu.wait_for_message(interaction=command)
            assert await asyncio.to_thread(gate.entered.wait, STEP_TIMEOUT)
            emu.advance_clock(15 * 60 + 1)  # Discord's clock: the token has expired
            gate.release.set()
            report = await emu.wait_for_message(
                predicate=lambda m: m.id == progress.id and finished(m), timeout=STEP_TIMEOUT
            )
        assert "1 added, 0 updated, 0 removed, 4 unchanged, 0 failed" in report.content
        refused = emu.requests_to("PATCH", r"^/webhooks/\d+/[^/]+/messages/@original$")
        assert refused and all(r.status == 401 for r in refused)  # the expired token
        (edit,) = emu.requests_to("PATCH", rf"^/channels/\d+/messages/{progress.id}$")
        assert edit.status == 200  # then through the channel

    run_scenario(scenario)


class DeliberateFailure(Exception):
    """A test failing while a reindex it started is still running."""


def test_a_test_that_fails_mid_reindex_still_ends_the_reindex_thread(
    own_index: IndexDirs, embedder: Any, guard: LoopGuard, feedback: Any
) -> None:
    gate = ReindexGate(REINDEX_THREAD_NAME)
    engine = GuardedEngine(
        engine_settings(own_index), embedder=GatedEmbedder(embedder, guard, gate)
    )
    engine.guard = guard
    (own_index.articles / "ferries.md").write_text(FERRY_ARTICLE, encoding="utf-8")

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            command = await emu.run_slash_command("reindex", user=emu.admin)
            await emu.wait_for_message(interaction=command)
            assert await asyncio.to_thread(gate.entered.wait, STEP_TIMEOUT)
            raise DeliberateFailure("failing while the reindex is held")  # the gate stays shut

    with pytest.raises(DeliberateFailure):
        run_scenario(scenario)
    # The harness opened the gate and joined the thread: nothing of the test runs on into the
    # next one, or into the interpreter's exit (where it would abort pytest).
    assert [t.name for t in threading.enumerate() if t.name == REINDEX_THREAD_NAME] == []
