"""End to end with an LLM configured: the real discord.py client against the Discord emulator,
the real engine, and the scripted OpenAI-compatible server. The reply shows the quotes at once
and is edited into the written answer when it arrives; when the writer falls short the quotes
stay. The Sources button and votes work for both kinds, and votes record which one was shown.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.render import WRITING_NOTE
from index.answer.writer import Writer
from index.answer.written import AnswerKind
from index.settings import WriterSettings
from tests.bot.harness import (
    STEP_TIMEOUT,
    ask_by_mention,
    custom_id,
    embed_text,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator, StoredMessage
from tests.llm_server import Scripted, ScriptedLLM, quoting

pytestmark = pytest.mark.timeout(60)

QUESTION = "How much did the bridge repair cost?"
WRITTEN = "The repair cost “48 million euros” [1]."
FOOTER = "Written by scripted-model, quotes checked"
EDIT_ORIGINAL = r"^/webhooks/\d+/[^/]+/messages/@original$"
EDIT_MESSAGE = r"^/channels/\d+/messages/\d+$"


def writer_for(llm: ScriptedLLM, timeout: float = 5.0) -> Writer:
    settings = WriterSettings(
        _env_file=None, base_url=llm.base_url, model="scripted-model", timeout=timeout
    )
    return Writer(settings)


def description(message: StoredMessage) -> str:
    return message.embeds[0]["description"]


def footer(message: StoredMessage) -> str:
    return (message.embeds[0].get("footer") or {}).get("text") or ""


def test_slash_ask_shows_the_quotes_at_once_then_the_written_answer(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        hold = asyncio.Event()
        async with (
            ScriptedLLM(responder=quoting("48 million euros", "The repair cost", hold)) as llm,
            running_bot(emu, engine, feedback, writer=writer_for(llm)),
        ):
            command = await emu.run_slash_command("ask", {"question": QUESTION})
            first = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
            quoted, first_footer = description(first), footer(first)
            since = emu.checkpoint()
            hold.set()
            written = await emu.wait_for_message(
                interaction=command, predicate=lambda m: FOOTER in footer(m), since=since
            )
            sources = await emu.press_button(written, custom_id(written, "citebot:sources:"))
            shown = await emu.wait_for_message(interaction=sources)
            vote = await emu.press_button(written, custom_id(written, "citebot:vote:up:"))
            await emu.wait_for_message(interaction=vote, predicate=lambda m: m.ephemeral)
        # First the quotes, saying a written answer is on its way; then the same message edited.
        assert "“The Eastport harbour bridge reopened to traffic" in quoted
        assert first_footer.startswith(WRITING_NOTE)
        assert written.id == first.id == command.original_message_id
        assert description(written).startswith(WRITTEN)
        assert "**[1]** [Harbour bridge reopens after two-year repair]" in description(written)
        assert emu.requests_to("PATCH", EDIT_ORIGINAL)
        # The Sources button shows what the written answer quoted, in bold.
        assert shown.ephemeral and "**48 million euros**" in embed_text(shown)
        answer_id = custom_id(written, "citebot:sources:").split(":")[2]
        stored = feedback.answer(answer_id)
        assert stored.kind is AnswerKind.WRITTEN and stored.written.quotes[0].text == (
            "48 million euros"
        )
        assert feedback.voted_kind(answer_id, emu.member.id) is AnswerKind.WRITTEN
        assert all(c.endswith(":w") for c in written.custom_ids())

    run_scenario(scenario)


def test_a_mention_is_edited_into_the_written_answer_and_each_vote_keeps_its_kind(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        hold = asyncio.Event()
        async with (
            ScriptedLLM(responder=quoting("48 million euros", "The repair cost", hold)) as llm,
            running_bot(emu, engine, feedback, writer=writer_for(llm)),
        ):
            _, reply = await ask_by_mention(emu, QUESTION)
            early_up = custom_id(reply, "citebot:vote:up:")
            press = await emu.press_button(reply, early_up, user=emu.member)
            await emu.wait_for_message(interaction=press, predicate=lambda m: m.ephemeral)
            since = emu.checkpoint()
            hold.set()
            written = await emu.wait_for_message(
                emu.channel.id, lambda m: FOOTER in footer(m), since=since
            )
            late_up = custom_id(written, "citebot:vote:up:")
            press = await emu.press_button(written, late_up, user=emu.admin)
            await emu.wait_for_message(interaction=press, predicate=lambda m: m.ephemeral)
        assert written.id == reply.id and description(written).startswith(WRITTEN)
        assert emu.requests_to("PATCH", EDIT_MESSAGE)
        answer_id = early_up.split(":")[3]
        assert feedback.voted_kind(answer_id, emu.member.id) is AnswerKind.EXTRACTIVE
        assert feedback.voted_kind(answer_id, emu.admin.id) is AnswerKind.WRITTEN
        labels = [b.get("label") for b in written.components[0]["components"]]
        assert labels[1] == "2"  # both 👍, the one cast before the edit included

    run_scenario(scenario)


@pytest.mark.parametrize(
    "replies",
    [
        [Scripted("The repair cost “52 million euros” [1].")],
        [Scripted("The repair cost “48 million euros” [7].")],
        [Scripted("I don't know.")],
        [Scripted(status=500)] * 3,
        [Scripted(body='{"choices": [')],
        [Scripted("The repair cost “48 million euros” [1].", delay=30)],
    ],
    ids=["invented-quote", "dangling-citation", "abstains", "http-500", "malformed", "timeout"],
)
def test_when_the_writer_falls_short_the_quotes_stay(
    engine: Any, feedback: Any, replies: list[Scripted]
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with (
            ScriptedLLM(*replies) as llm,
            running_bot(emu, engine, feedback, writer=writer_for(llm, timeout=1.0)),
        ):
            since = emu.checkpoint()
            _, reply = await ask_by_mention(emu, QUESTION)
            final = await emu.wait_for_message(
                emu.channel.id,
                lambda m: m.id == reply.id and m.edit_count > 0 and WRITING_NOTE not in footer(m),
                since=since,
            )
        text = embed_text(final)
        assert "“The Eastport harbour bridge reopened to traffic" in text
        assert "52 million" not in text and "[7]" not in text and "quotes checked" not in text
        assert not any(c.endswith(":w") for c in final.custom_ids())
        answer_id = custom_id(final, "citebot:sources:").split(":")[2]
        assert feedback.answer(answer_id).written is None

    run_scenario(scenario)


def test_an_abstention_asks_no_writer(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with (
            ScriptedLLM(Scripted("unused")) as llm,
            running_bot(emu, engine, feedback, writer=writer_for(llm)),
        ):
            _, reply = await ask_by_mention(emu, "quantum chromodynamics")
        assert llm.completions == [] and footer(reply) == ""
        assert not emu.requests_to("PATCH", EDIT_MESSAGE)

    run_scenario(scenario)


def test_an_edit_discord_refuses_leaves_the_quotes_without_an_apology(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with (
            ScriptedLLM(responder=quoting("48 million euros", "The repair cost")) as llm,
            running_bot(emu, engine, feedback, writer=writer_for(llm)) as bot,
        ):
            emu.fail_next("PATCH", EDIT_MESSAGE, status=403, body={"message": "Missing Access"})
            _, reply = await ask_by_mention(emu, QUESTION)
            await emu.wait_for_request(method="PATCH", path=EDIT_MESSAGE)
            await emu.wait_until(
                lambda: any("could not replace" in r.getMessage() for r in bot.observed.records)
            )
        assert "“The Eastport harbour bridge reopened" in description(reply)
        bot_messages = [m for m in emu.messages if m.author_id == emu.bot_user.id]
        assert len(bot_messages) == 1  # no apology after an answer that stands

    run_scenario(scenario)
