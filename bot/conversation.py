"""Where a question belongs: the conversation it continues, and where its answer goes.

A conversation is keyed by the thread it lives in (a thread the bot starts from a question
has that message's id), or, outside threads, by its first answer (the feedback store picks the
key). A message in a thread, or a reply to one of the bot's answers, continues that
conversation: its earlier turns come from the feedback store (the last few, within a day). The
answer replied to is found from the answer id its buttons carry, so a reply works as soon as
the answer is visible. A reply to anyone else's
message, or a message elsewhere, starts a new one. Whether a question is then read as a
follow-up is the engine's rule (index/answer/followup.py), not decided here.

In answer channels (`CITEBOT_ANSWER_IN_THREAD`, on by default) a new question gets a thread of
its own, named after it, and the answer is posted there; if the thread cannot be created the
answer is a reply in the channel.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot import render
from index.answer.followup import Turn

if TYPE_CHECKING:
    from bot.client import CitebotBot

log = logging.getLogger(__name__)

THREAD_NAME_LIMIT = 100
ANSWER_BUTTON = re.compile(r"^citebot:(?:vote:(?:up|down)|sources):(?P<answer_id>[0-9a-f]{16})$")
THREAD_ARCHIVE_MINUTES = 1440


@dataclass(frozen=True)
class Conversation:
    """The conversation a question continues (`key` None: it starts a new one)."""

    key: int | None = None
    earlier: list[Turn] = field(default_factory=list)


async def conversation_of(bot: CitebotBot, message: discord.Message) -> Conversation:
    """The conversation `message` continues: its thread's, or that of the answer it replies to."""
    channel = message.channel
    if isinstance(channel, discord.Thread):
        return Conversation(channel.id, await bot.engine.run(bot.feedback.turns, channel.id))
    replied = _replied_bot_message(message, bot.user)
    if replied is None:
        return Conversation()
    answer_id = answer_id_of(replied)
    if answer_id is not None:
        stored = await bot.engine.run(bot.feedback.answer, answer_id)
    else:
        stored = await bot.engine.run(bot.feedback.by_message, replied.id)
    if stored is None or stored.conversation is None:
        return Conversation()
    turns = await bot.engine.run(bot.feedback.turns, stored.conversation, upto=stored.id)
    return Conversation(stored.conversation, turns)


async def conversation_in(bot: CitebotBot, channel: Any) -> Conversation:
    """For a slash command: the conversation of the thread it is run in, if any."""
    if isinstance(channel, discord.Thread):
        return Conversation(channel.id, await bot.engine.run(bot.feedback.turns, channel.id))
    return Conversation()


def _replied_bot_message(
    message: discord.Message, me: discord.ClientUser | None
) -> discord.Message | None:
    reference = message.reference
    resolved = reference.resolved if reference is not None else None
    if me is None or not isinstance(resolved, discord.Message) or resolved.author.id != me.id:
        return None
    return resolved


def answer_id_of(message: discord.Message) -> str | None:
    """The answer id an answer message's buttons carry, if it is one."""
    for row in message.components:
        for item in getattr(row, "children", [row]):
            match = ANSWER_BUTTON.match(getattr(item, "custom_id", None) or "")
            if match:
                return match["answer_id"]
    return None


@dataclass
class AnswerPlace:
    """Where an answer to a message is posted: a new thread, or a reply in place."""

    message: discord.Message
    thread: discord.Thread | None = None

    @property
    def channel(self) -> discord.abc.Messageable:
        return self.thread if self.thread is not None else self.message.channel

    async def send(self, **kwargs: Any) -> discord.Message:
        """Post the answer; a reply keeps working if the question was deleted meanwhile."""
        if self.thread is not None:
            return await self.thread.send(**kwargs)
        reference = self.message.to_reference(fail_if_not_exists=False)
        return await self.message.channel.send(reference=reference, **kwargs)


async def answer_place(bot: CitebotBot, message: discord.Message, question: str) -> AnswerPlace:
    """A new thread for a question asked in an answer channel (when enabled), else in place."""
    channel = message.channel
    wanted = (
        bot.settings.answer_in_thread
        and isinstance(channel, discord.TextChannel)
        and channel.id in bot.settings.answer_channel_ids
    )
    if not wanted:
        return AnswerPlace(message)
    name = render.one_line(question, THREAD_NAME_LIMIT) or "Question"
    try:
        thread = await message.create_thread(
            name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
        )
    except discord.HTTPException as exc:
        log.warning("cannot start a thread in channel %d, replying instead: %s", channel.id, exc)
        return AnswerPlace(message)
    return AnswerPlace(message, thread)
