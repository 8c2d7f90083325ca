"""The emulator's threads, message context menus and clock, driven by the real discord.py client.

Uses the minimal bot of test_emulator_smoke.py; each test adds what it needs to it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.bot.test_emulator_smoke import (
    STEP_TIMEOUT,
    record_error,
    run_scenario,
    running_bot,
    sync_guild_commands,
)
from tests.discord_emulator import DiscordEmulator
from tests.discord_emulator.models import CREATE_PUBLIC_THREADS, SEND_MESSAGES_IN_THREADS
from tests.discord_emulator.threads import HAS_THREAD_FLAG
from tests.discord_emulator.validation import check_commands

pytestmark = pytest.mark.timeout(60)


async def next_event(bot: discord.Client, event: str, check: Any = None) -> Any:
    return await bot.wait_for(event, check=check, timeout=STEP_TIMEOUT)


def test_the_bot_starts_a_thread_from_a_message_and_talks_in_it() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            question = await emu.send_message("what about the bridge?")
            channel = bot.get_channel(emu.channel.id)
            assert isinstance(channel, discord.TextChannel)
            message = await channel.fetch_message(int(question["id"]))
            created = asyncio.ensure_future(next_event(bot, "thread_create"))
            thread = await message.create_thread(name="About the bridge")
            assert (await created).id == thread.id == message.id
            assert thread.parent_id == channel.id and thread.owner_id == emu.bot_user.id
            cached = bot.get_channel(thread.id)
            assert isinstance(cached, discord.Thread) and cached.me is not None
            await thread.send("in the thread")
            incoming = asyncio.ensure_future(
                next_event(bot, "message", lambda m: m.author.id == emu.member.id)
            )
            await emu.send_message("and when did it open?", channel_id=thread.id)
            heard = await incoming
            assert isinstance(heard.channel, discord.Thread) and heard.channel.id == thread.id
            assert heard.channel.parent_id == channel.id
            with pytest.raises(discord.HTTPException) as again:
                await message.create_thread(name="Twice")
            assert again.value.code == 160004
            with pytest.raises(discord.HTTPException) as long_name:
                await channel.create_thread(name="x" * 101, type=discord.ChannelType.public_thread)
            assert long_name.value.code == 50035
            with pytest.raises(discord.HTTPException) as nested:
                await (await thread.fetch_message(heard.id)).create_thread(name="nested")
            assert nested.value.code == 50024
        starter = emu.message(question)
        assert starter.flags & HAS_THREAD_FLAG and starter.payload["thread"]["id"] == question["id"]
        in_thread = [m for m in emu.messages if m.channel_id == thread.id]
        assert [m.content for m in in_thread] == ["in the thread", "and when did it open?"]
        assert emu.thread(thread.id).message_count == 2

    run_scenario(scenario)


def test_threads_need_their_own_permissions() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        deny = CREATE_PUBLIC_THREADS | SEND_MESSAGES_IN_THREADS
        overwrite = {"id": str(emu.bot_user.id), "type": 1, "allow": "0", "deny": str(deny)}
        locked = emu.add_text_channel("no-threads", overwrites=[overwrite])
        async with running_bot(emu) as bot:
            sent = await emu.send_message("hello", channel_id=locked.id)
            channel = bot.get_channel(locked.id)
            assert isinstance(channel, discord.TextChannel)
            message = await channel.fetch_message(int(sent["id"]))
            with pytest.raises(discord.Forbidden):
                await message.create_thread(name="not allowed")
            await channel.send("the channel itself is fine")
            thread = await emu.start_thread(sent, "started by a member")
            cached = await bot.fetch_channel(thread.id)
            assert isinstance(cached, discord.Thread)
            with pytest.raises(discord.Forbidden):
                await cached.send("cannot send in threads here")

    run_scenario(scenario)


def test_people_start_threads_with_and_without_a_message() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            created = asyncio.ensure_future(next_event(bot, "thread_create"))
            sent = await emu.send_message("look at this")
            thread = await emu.start_thread(sent, "Looking", user=emu.admin)
            seen = await created
            assert seen.id == thread.id == int(sent["id"]) and seen.owner_id == emu.admin.id
            created = asyncio.ensure_future(next_event(bot, "thread_create"))
            loose = await emu.create_thread("No starter")
            assert (await created).id == loose.id
        system = [m for m in emu.messages if m.payload["type"] == 18]
        assert [m.content for m in system] == ["No starter"]
        assert system[0].payload["message_reference"]["channel_id"] == str(loose.id)
        assert system[0].channel_id == emu.channel.id

    run_scenario(scenario)


def test_a_message_command_gets_its_target_and_answers_ephemerally() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            targets: list[discord.Message] = []

            async def quote_it(interaction: discord.Interaction, message: discord.Message) -> None:
                targets.append(message)
                await interaction.response.send_message(f"> {message.content}", ephemeral=True)

            menu = app_commands.ContextMenu(name="Quote it", callback=quote_it)
            bot.tree.add_command(menu)
            bot.tree.on_error = lambda i, e: record_error(bot, e)  # type: ignore[assignment,method-assign,return-value]
            await sync_guild_commands(bot, emu)
            registered = {c["name"]: c for c in emu.commands()}
            assert (
                registered["Quote it"]["type"] == 3 and registered["Quote it"]["description"] == ""
            )
            sent = await emu.send_message("The bridge reopened on Thursday.", author=emu.admin)
            command = await emu.run_message_command("Quote it", sent)
            shown = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
            with pytest.raises(ValueError, match="ephemeral"):
                await emu.run_message_command("Quote it", shown)
            with pytest.raises(LookupError):
                await emu.run_message_command("ping", sent)  # a slash command, not a menu
        (target,) = targets
        assert target.id == int(sent["id"]) and target.author.id == emu.admin.id
        assert target.content == "The bridge reopened on Thursday."
        assert shown.ephemeral and shown.payload["type"] == 23
        assert command.payload["data"]["target_id"] == sent["id"]

    run_scenario(scenario)


def test_context_menu_definitions_are_checked_as_discord_does() -> None:
    ok = [{"name": "Find sources", "type": 3}, {"name": "ask", "description": "Ask.", "type": 1}]
    assert check_commands(ok) is None
    bad = {
        "description": [{"name": "Find sources", "type": 3, "description": "Checks claims"}],
        "options": [{"name": "Find sources", "type": 3, "options": [{"name": "x", "type": 3}]}],
        "name": [{"name": "x" * 33, "type": 3}],
        "type": [{"name": "what", "type": 4}],
    }
    for field, commands in bad.items():
        error = check_commands(commands)
        assert error is not None and field in str(error["errors"]), field
    many = [{"name": f"Menu {i}", "type": 3} for i in range(16)]
    assert check_commands(many) is not None


def test_the_emulated_clock_dates_messages() -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu) as bot:
            incoming = asyncio.ensure_future(next_event(bot, "message"))
            await emu.send_message("an old question")
            heard = await incoming
        assert heard.created_at.date().isoformat() == "2024-04-01"
        assert heard.created_at.tzinfo is not None

    run_scenario(scenario, now=datetime(2024, 4, 1, 9, 30, tzinfo=UTC))
