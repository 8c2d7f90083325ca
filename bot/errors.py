"""The one place errors are turned into replies.

Errors a user causes (a `CitebotError` from the engine, a failed check, a bad option) are
answered with their one sentence; anything else gets a short apology, and its traceback goes
to the log.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.async_engine import REINDEX_RUNNING
from index.errors import CitebotError, IndexMismatchError, IndexMissingError, ReindexRunningError

log = logging.getLogger(__name__)

# The engine's sentences are written for the command line (they name server paths and
# `citebot index`); in Discord these say what a member can do instead.
IN_DISCORD = {
    IndexMissingError: "Nothing is indexed yet: an admin can build the index with /reindex.",
    IndexMismatchError: (
        "The index was built with other model or chunk settings: an admin needs to run "
        "/reindex, which rebuilds it."
    ),
    ReindexRunningError: REINDEX_RUNNING,  # also when another process holds the lock
}
APOLOGY = "Sorry, something went wrong on my side; it has been logged, please try again later."
NOT_ALLOWED = "You cannot use this command here."


class UserError(app_commands.AppCommandError):
    """A mistake the user can fix; the message is one sentence for them."""


class NotAdminError(app_commands.CheckFailure):
    """The member may not run an admin command."""


class RateLimitedError(app_commands.CheckFailure):
    """The member asked too many questions too quickly."""


def user_message(error: BaseException) -> str | None:
    """The sentence for an error a user caused, or None for an unexpected error."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    for kind, sentence in IN_DISCORD.items():
        if isinstance(error, kind):
            return sentence
    if isinstance(error, CitebotError | UserError):
        return str(error)
    if isinstance(error, app_commands.CheckFailure):
        return str(error) if isinstance(error, NotAdminError | RateLimitedError) else NOT_ALLOWED
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid value for this option."
    return None


def _original(error: BaseException) -> BaseException:
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer an interaction that failed: the user's sentence or an apology (and log it)."""
    message = user_message(error)
    if message is None:
        name = interaction.command.qualified_name if interaction.command else "a component"
        log.error("unexpected error in %s", name, exc_info=_original(error))
        message = APOLOGY
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except Exception as exc:  # telling the user must never raise (e.g. while shutting down)
        log.warning("could not tell the user about an error: %s", exc)


async def on_app_command_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """The command tree's error handler."""
    await report(interaction, error)


async def report_in_channel(message: discord.Message, error: BaseException) -> None:
    """Reply to a question asked in a message that failed: its sentence or an apology."""
    text = user_message(error)
    if text is None:
        log.error("unexpected error answering message %d", message.id, exc_info=error)
        text = APOLOGY
    try:
        await message.channel.send(text, reference=message.to_reference(fail_if_not_exists=False))
    except Exception as exc:  # telling the user must never raise
        log.warning("could not tell the user about an error: %s", exc)
