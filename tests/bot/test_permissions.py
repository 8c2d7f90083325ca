"""Who may run admin commands, and how errors become the sentence a user sees."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from bot.errors import APOLOGY, NOT_ALLOWED, NotAdminError, UserError, user_message
from bot.permissions import is_admin
from index.errors import ArticlesFolderError, IndexMissingError, ReindexRunningError


@pytest.mark.parametrize(
    ("permissions", "roles", "allowed"),
    [
        (discord.Permissions(manage_guild=True), [], True),
        (discord.Permissions(administrator=True), [], True),
        (discord.Permissions(send_messages=True), [7], True),  # an admin role
        (discord.Permissions(send_messages=True, manage_messages=True), [8], False),
        (discord.Permissions.none(), [], False),
    ],
)
def test_admins_are_managers_administrators_or_have_an_admin_role(
    permissions: discord.Permissions, roles: list[int], allowed: bool
) -> None:
    assert is_admin(permissions, roles, admin_role_ids=[7]) is allowed


def test_errors_users_cause_are_their_sentence_others_are_not() -> None:
    folder = ArticlesFolderError("The articles folder articles does not exist.")
    assert user_message(folder) == "The articles folder articles does not exist."
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.original = UserError("Bad date.")
    assert user_message(wrapped) == "Bad date."
    assert user_message(NotAdminError("Admins only.")) == "Admins only."
    assert user_message(app_commands.CheckFailure()) == NOT_ALLOWED
    assert user_message(RuntimeError("boom")) is None
    assert "Sorry" in APOLOGY


def test_engine_sentences_meant_for_the_command_line_are_reworded_for_discord() -> None:
    missing = IndexMissingError("No index in /srv/citebot/data yet: run `citebot index`.")
    assert user_message(missing) == (
        "Nothing is indexed yet: an admin can build the index with /reindex."
    )
    elsewhere = ReindexRunningError("Another reindex is running on /srv/citebot/data; wait.")
    assert "/srv" not in (user_message(elsewhere) or "")
