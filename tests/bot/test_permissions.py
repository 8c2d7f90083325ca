"""Who may run admin commands, and how errors become the sentence a user sees."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.errors import APOLOGY, NOT_ALLOWED, NotAdminError, UserError, report, user_message
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


def test_engine_sentences_meant_for_the_command_line_are_reworded_for_discord() -> None:
    missing = IndexMissingError("No index in /srv/citebot/data yet: run `citebot index`.")
    assert user_message(missing) == (
        "Nothing is indexed yet: an admin can build the index with /reindex."
    )
    elsewhere = ReindexRunningError("Another reindex is running on /srv/citebot/data; wait.")
    assert "/srv" not in (user_message(elsewhere) or "")


@dataclass
class Replies:
    """What `report` sent, and how: stands in for an interaction's response and follow-up."""

    deferred: bool = False
    sent: list[tuple[str, str, bool]] = field(default_factory=list)

    def is_done(self) -> bool:
        return self.deferred

    async def send_message(self, content: str, *, ephemeral: bool = False) -> None:
        self.sent.append(("response", content, ephemeral))

    async def send(self, content: str, *, ephemeral: bool = False) -> None:
        self.sent.append(("followup", content, ephemeral))


class FakeInteraction:
    """Only what `report` reads of a `discord.Interaction` (a unit test of our own code)."""

    def __init__(self, *, deferred: bool) -> None:
        self.replies = Replies(deferred)
        self.response = self.followup = self.replies
        self.command: Any = None


@pytest.mark.parametrize("deferred", [False, True])
def test_an_unexpected_error_is_apologised_for_and_logged_a_users_error_is_said(
    deferred: bool, caplog: pytest.LogCaptureFixture
) -> None:
    boom, mistake = FakeInteraction(deferred=deferred), FakeInteraction(deferred=deferred)
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        asyncio.run(report(boom, RuntimeError("the index is on fire")))  # type: ignore[arg-type]
        asyncio.run(report(mistake, UserError("Bad date.")))  # type: ignore[arg-type]
    how = "followup" if deferred else "response"  # after a defer, only a follow-up can answer
    assert boom.replies.sent == [(how, APOLOGY, True)]
    assert mistake.replies.sent == [(how, "Bad date.", True)]
    (logged,) = caplog.records  # the unexpected error only, with its traceback
    assert logged.exc_info is not None and str(logged.exc_info[1]) == "the index is on fire"
