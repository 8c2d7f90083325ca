""" "Find sources": a message context-menu command that checks any message against the articles.

Right-click a message > Apps > Find sources: its claims (a few sentences at most) are looked
up, and only the person who asked sees the supporting quotes, a plain "nothing supports
this", or a flag on a quote that states a different number or date. The checking itself is
the engine's (index/answer/claims.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.permissions import question_quota
from bot.render_claims import claims_embed

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)

MENU_NAME = "Find sources"


def message_text(message: discord.Message) -> str:
    """What a message says: its text, or (for a bot's embed-only message) its embeds' text."""
    if message.content.strip():
        return message.content
    parts = []
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
    return "\n".join(part for part in parts if part)


class FindSources(commands.Cog):
    """Checks what a message says against the indexed articles."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=MENU_NAME, callback=self.find_sources)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @question_quota()
    async def find_sources(
        self, interaction: discord.Interaction[CitebotBot], message: discord.Message
    ) -> None:
        """Reply, to the asker only, with the quotes that support the message's claims."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        check = await self.bot.engine.check(message_text(message), interaction.created_at.date())
        log.info(
            "checked %d claims of message %d: %s",
            len(check.claims),
            message.id,
            [c.verdict.value for c in check.claims],
        )
        await interaction.followup.send(embed=claims_embed(check, message.jump_url), ephemeral=True)


async def setup(bot: CitebotBot) -> None:
    """Load the extension."""
    await bot.add_cog(FindSources(bot))
