"""Who may run which commands, and how often.

Admin commands get the real check and Discord's UI hint together.

`default_permissions` only decides who *sees* a command in Discord's client (and server admins
can change that); the check below is what the bot itself enforces on every invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, TypeVar

import discord
from discord import app_commands

from bot.errors import NotAdminError, RateLimitedError
from bot.render import rate_limit_notice

if TYPE_CHECKING:
    from bot.client import CitebotBot

T = TypeVar("T")

NOT_ADMIN = (
    "Only members with Manage Server or Administrator, or one of citebot's admin roles, "
    "can use this command."
)


def is_admin(
    permissions: discord.Permissions, role_ids: Collection[int], admin_role_ids: Collection[int]
) -> bool:
    """Manage Server or Administrator (the owner has both), or one of the admin roles."""
    if permissions.administrator or permissions.manage_guild:
        return True
    return any(role_id in admin_role_ids for role_id in role_ids)


def admin_only() -> Callable[[T], T]:
    """Restrict an app command to admins: hidden from others in the UI, refused by the bot."""

    def decorator(func: T) -> T:
        func = app_commands.guild_only()(func)
        func = app_commands.default_permissions(manage_guild=True)(func)
        return admin_check()(func)

    return decorator


def admin_check() -> Callable[[T], T]:
    """The bot's own admin check alone, for a subcommand: Discord applies UI permissions
    (`default_permissions`) to a whole command group, never to one of its subcommands."""

    async def predicate(interaction: discord.Interaction[CitebotBot]) -> bool:
        member = interaction.user
        if not isinstance(member, discord.Member):
            raise NotAdminError("This command can only be used in a server.")
        # Discord's own resolution of the member's permissions, and the cached guild's.
        permissions = interaction.permissions | member.guild_permissions
        role_ids = [role.id for role in member.roles]
        if not is_admin(permissions, role_ids, interaction.client.settings.admin_role_ids):
            raise NotAdminError(NOT_ADMIN)
        return True

    return app_commands.check(predicate)


def question_quota() -> Callable[[T], T]:
    """Count an app command against the user's question rate limit; refuse it when spent."""

    async def predicate(interaction: discord.Interaction[CitebotBot]) -> bool:
        bot = interaction.client
        verdict = bot.rate_limiter.acquire(interaction.user.id)
        if not verdict.allowed:
            limiter = bot.rate_limiter
            notice = rate_limit_notice(limiter.limit, limiter.per, verdict.retry_after)
            raise RateLimitedError(notice)
        return True

    return app_commands.check(predicate)
