"""Registering the slash commands with Discord at start-up.

Commands are synced to the configured servers on every start (they appear at once there);
without servers they are synced globally, but only when they changed since the last global
sync, because global registration is slow to propagate and rate-limited.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from index.store.generations import write_atomic

log = logging.getLogger(__name__)

SYNCED_FILE = "commands-synced.json"


async def sync_commands(
    tree: app_commands.CommandTree[Any], guild_ids: list[int], state_dir: Path
) -> None:
    """Register the tree's commands in `guild_ids`, or globally when there are none."""
    if guild_ids:
        for guild_id in guild_ids:
            await _sync_guild(tree, guild_id)
    else:
        await _sync_global(tree, state_dir / SYNCED_FILE)


async def _sync_guild(tree: app_commands.CommandTree[Any], guild_id: int) -> None:
    guild = discord.Object(guild_id)
    tree.copy_global_to(guild=guild)
    try:
        synced = await tree.sync(guild=guild)
    except discord.Forbidden:
        log.error(
            "cannot register commands in server %d: invite the bot there with the "
            "applications.commands scope, or fix CITEBOT_GUILD_IDS",
            guild_id,
        )
        return
    log.info("registered %d commands in server %d", len(synced), guild_id)


async def _sync_global(tree: app_commands.CommandTree[Any], record: Path) -> None:
    payload = json.dumps([c.to_dict(tree) for c in tree.get_commands()], sort_keys=True)
    previous = await asyncio.to_thread(_read, record)
    if previous == payload:
        log.info("global commands unchanged since the last sync")
        return
    synced = await tree.sync()
    log.info("registered %d global commands (they may take a while to appear)", len(synced))
    await asyncio.to_thread(write_atomic, record, payload.encode())


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
