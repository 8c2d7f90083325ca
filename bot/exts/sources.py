"""`/sources`: search the passages, list the indexed articles, show the last answer's sources."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.errors import UserError
from bot.permissions import question_quota
from bot.views import ArticlesPageButton, articles_page, sources_message

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)

NO_PASSAGES = "No passage matches that search: try other words, or see `/sources list`."
NO_ANSWER_YET = "No question has been answered in this channel yet."


class Sources(commands.GroupCog, group_name="sources"):
    """Look at what citebot knows and where its answers come from."""

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ArticlesPageButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ArticlesPageButton)

    @app_commands.command(name="search")
    @app_commands.describe(query="Words or a question to look for", count="How many passages")
    @question_quota()
    async def search(
        self,
        interaction: discord.Interaction[CitebotBot],
        query: app_commands.Range[str, 1, 1000],
        count: app_commands.Range[int, 1, 10] = 5,
    ) -> None:
        """The passages that best match a query, with their scores (only you see them)."""
        if not query.strip():
            raise UserError("The search is empty: type some words to look for.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        passages = await self.bot.engine.search(query, count)
        if not passages:
            await interaction.followup.send(NO_PASSAGES, ephemeral=True)
            return
        heading = f"Top {len(passages)} passages for: {query}"
        content, embeds = render.passages_message(passages, heading=heading)
        await interaction.followup.send(content, embeds=embeds, ephemeral=True)

    @app_commands.command(name="list")
    async def list_articles(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """The indexed articles, newest first, and when the index was last updated."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        embed, view = await articles_page(self.bot, 0)
        if view is None:
            await interaction.followup.send(embed=embed, ephemeral=True)
        else:
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)

    @app_commands.command(name="last")
    async def last(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """The passages behind the last answer given in this channel (only you see them)."""
        channel_id = interaction.channel_id or 0
        stored = await self.bot.engine.run(self.bot.feedback.last_answer, channel_id)
        if stored is None:
            raise UserError(NO_ANSWER_YET)
        heading = f"The last answer here was to: {stored.answer.question}"
        content, embeds = sources_message(stored, heading)
        await interaction.response.send_message(content, embeds=embeds, ephemeral=True)


async def setup(bot: CitebotBot) -> None:
    """Load the extension."""
    await bot.add_cog(Sources(bot))
