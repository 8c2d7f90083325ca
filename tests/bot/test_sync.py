"""Registering the slash commands at start-up (bot/sync.py), against the Discord emulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.sync import SYNCED_FILE
from index.engine import MAX_QUESTION_CHARS
from tests.bot.engines import IndexDirs
from tests.bot.harness import run_scenario, running_bot
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(60)

GLOBAL_PUT = r"^/applications/\d+/commands$"
GUILD_PUT = r"^/applications/\d+/guilds/\d+/commands$"


def start_and_stop(engine: Any, feedback: Any, **settings: Any) -> tuple[int, list[str]]:
    """Start the bot against a fresh emulator: (global registrations, global command names)."""
    seen: dict[str, Any] = {}

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, **settings):
            pass
        seen["puts"] = len(emu.requests_to("PUT", GLOBAL_PUT))
        seen["names"] = sorted(c["name"] for c in emu.commands(guild=False))

    run_scenario(scenario)
    return seen["puts"], seen["names"]


def test_global_commands_are_registered_again_only_when_they_change(
    own_engine: Any, own_index: IndexDirs, feedback: Any
) -> None:
    puts, names = start_and_stop(own_engine, feedback, guild_ids=[])
    assert puts == 1 and {"ask", "sources", "reindex"} <= set(names)
    record = own_index.data / SYNCED_FILE
    assert {c["name"] for c in json.loads(record.read_text())} == set(names)

    # A restart with the same commands does not register them again (Discord rate-limits
    # global registration, and it takes a while to show everywhere).
    assert start_and_stop(own_engine, feedback, guild_ids=[]) == (0, [])

    record.write_text("[]")  # as if the commands had changed since
    assert start_and_stop(own_engine, feedback, guild_ids=[]) == (1, names)


def test_with_servers_commands_go_to_each_and_a_refusal_does_not_stop_the_others(
    own_engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        elsewhere = emu.guild.id + 1  # a server the bot was not invited to: 403 Missing Access
        async with running_bot(
            emu, own_engine, feedback, guild_ids=[elsewhere, emu.guild.id], expect_error_logs=1
        ) as bot:
            (refused,) = bot.observed.error_records()  # type: ignore[attr-defined]
            assert refused.getMessage().startswith(
                f"cannot register commands in server {elsewhere}"
            )
        assert len(emu.requests_to("PUT", GUILD_PUT)) == 2
        assert emu.requests_to("PUT", GLOBAL_PUT) == []
        assert {"ask", "sources", "reindex"} <= {c["name"] for c in emu.commands()}

    run_scenario(scenario)


def test_the_question_options_take_as_much_as_the_engine_reads(
    own_engine: Any, feedback: Any
) -> None:
    registered: list[dict[str, Any]] = []

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, own_engine, feedback):
            pass
        registered.extend(emu.commands())

    run_scenario(scenario)
    by_name = {c["name"]: c for c in registered}
    (question,) = [o for o in by_name["ask"]["options"] if o["name"] == "question"]
    (search,) = [o for o in by_name["sources"]["options"] if o["name"] == "search"]
    (query,) = [o for o in search["options"] if o["name"] == "query"]
    assert question["max_length"] == query["max_length"] == MAX_QUESTION_CHARS
