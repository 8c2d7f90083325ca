"""`/sources`: search the passages, list the indexed articles, show the last answer's sources;
for admins, add pages by URL, manage the followed feeds, and see the questions the articles
failed to answer."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, render_web
from bot.errors import UserError
from bot.permissions import admin_check, admin_only, question_quota
from bot.render_gaps import gaps_embed
from bot.views import ArticlesPageButton, articles_page, sources_message
from index.engine import MAX_QUESTION_CHARS
from index.gaps import DEFAULT_DAYS

if TYPE_CHECKING:
    from bot.client import CitebotBot
    from bot.exts.feeds import Feeds

log = logging.getLogger(__name__)

NO_PASSAGES = "No passage matches that search: try other words, or see `/sources list`."
NO_ANSWER_YET = "No question has been answered in this channel yet."
NO_FETCHING = "Fetching from the web is not available: the feeds extension did not load."


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
        query: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
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
        await interaction.response.defer(ephemeral=True, thinking=True)  # before any slow work
        channel_id = interaction.channel_id or 0
        stored = await self.bot.engine.run(self.bot.feedback.last_answer, channel_id)
        if stored is None:
            raise UserError(NO_ANSWER_YET)
        heading = f"The last answer here was to: {stored.answer.question}"
        content, embeds = sources_message(stored, heading)
        await interaction.followup.send(content, embeds=embeds, ephemeral=True)

    # -- fresh sources (admins only; the work is done by the feeds extension) ----------------

    def _feeds(self) -> Feeds:
        cog = self.bot.get_cog("Feeds")
        if cog is None:
            raise UserError(NO_FETCHING)
        return cog  # type: ignore[return-value]

    @app_commands.command(name="add")
    @app_commands.describe(url="The page or PDF to add (http or https)")
    @admin_only()
    async def add(
        self, interaction: discord.Interaction[CitebotBot], url: app_commands.Range[str, 1, 2000]
    ) -> None:
        """Fetch a page or PDF, add it to the articles and index it (admins only)."""
        feeds = self._feeds()
        await interaction.response.defer(thinking=True)
        log.info("/sources add by user %d", interaction.user.id)
        run = await feeds.add([url])
        await interaction.followup.send(render_web.add_report(run))

    @app_commands.command(name="feeds")
    @admin_only()
    async def list_feeds(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """The followed feeds, when each was last read, and what they brought (admins only)."""
        feeds = self._feeds()
        listed = await feeds.feeds()
        embed = render_web.feeds_embed(listed, feeds.minutes, feeds.last_refresh)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="feed-add")
    @app_commands.describe(url="The RSS or Atom feed to follow")
    @admin_only()
    async def feed_add(
        self, interaction: discord.Interaction[CitebotBot], url: app_commands.Range[str, 1, 2000]
    ) -> None:
        """Follow an RSS or Atom feed: its new articles are added at each refresh (admins only)."""
        feeds = self._feeds()
        await interaction.response.defer(ephemeral=True, thinking=True)
        stored, parsed = await feeds.follow(url)
        await interaction.followup.send(render_web.followed(stored, parsed, feeds.minutes))

    @app_commands.command(name="feed-remove")
    @app_commands.describe(url="The feed to stop following, as listed by /sources feeds")
    @admin_only()
    async def feed_remove(
        self, interaction: discord.Interaction[CitebotBot], url: app_commands.Range[str, 1, 2000]
    ) -> None:
        """Stop following a feed; the articles it brought stay (admins only)."""
        removed = await self._feeds().unfollow(url)
        if not removed:
            raise UserError(f"{render_web.quiet_url(url)} is not followed: see `/sources feeds`.")
        text = f"No longer following {render_web.quiet_url(url)}; its articles stay indexed."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="gaps")
    @app_commands.describe(days=f"How many days back to look (default {DEFAULT_DAYS})")
    @admin_check()
    async def gaps(
        self,
        interaction: discord.Interaction[CitebotBot],
        days: app_commands.Range[int, 1, 365] = DEFAULT_DAYS,
    ) -> None:
        """Questions the articles did not answer or that got 👎, grouped (admins only)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        gaps = await self.bot.engine.gaps(self.bot.feedback, days)
        embed = gaps_embed(gaps, days, self.bot.feedback.keep_days)
        await interaction.followup.send(embed=embed, ephemeral=True)


async def setup(bot: CitebotBot) -> None:
    """Load the extension."""
    await bot.add_cog(Sources(bot))
