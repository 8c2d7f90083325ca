"""End to end under trouble: a dropped gateway, Discord rate limits and server errors, a user
asking too fast, an answer too big for one message, and an engine that fails."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from bot.errors import APOLOGY, RateLimitedError
from bot.ratelimit import QuestionRateLimiter
from index.answer.compose import Answer, Quote, Source
from tests.bot.engines import GuardedEngine, IndexDirs, make_engine
from tests.bot.harness import (
    FOLLOWUP_PATH,
    MESSAGES_PATH,
    STEP_TIMEOUT,
    ask_by_mention,
    custom_id,
    embed_text,
    replies_to,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(60)

BRIDGE_QUOTE = "The Eastport harbour bridge reopened to traffic on Thursday"


def test_a_dropped_gateway_resumes_and_the_question_sent_meanwhile_is_answered(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            since = emu.checkpoint()
            await emu.drop_gateway(4000, hold_reconnect=True)
            question = await emu.send_message(
                f"{emu.bot_user.mention} When did the harbour bridge reopen?"
            )
            emu.release_gateway()
            reply = await emu.wait_for_message(
                emu.channel.id, replies_to(question), timeout=STEP_TIMEOUT
            )
            resume = await emu.wait_for_gateway_frame(6, since=since)
        assert BRIDGE_QUOTE in embed_text(reply)
        assert resume.path == "/resume-gateway/"
        assert [f.op for f in emu.gateway_frames if f.op in (2, 6)] == [2, 6]

    run_scenario(scenario)


def test_a_rate_limited_send_is_retried_after_retry_after(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            since = emu.checkpoint()
            emu.fail_next("POST", MESSAGES_PATH, status=429, retry_after=0.3)
            _, reply = await ask_by_mention(emu, "Who discovered the comet?")
        first, retry = emu.requests_to("POST", MESSAGES_PATH, since=since)
        assert (first.status, retry.status) == (429, 200)
        assert retry.time - first.time >= 0.3 - 0.01
        assert "discovered a new comet" in embed_text(reply)

    run_scenario(scenario)


def test_a_server_error_on_the_follow_up_is_retried(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            since = emu.checkpoint()
            emu.fail_next("POST", FOLLOWUP_PATH, status=500)
            command = await emu.run_slash_command(
                "ask", {"question": "When did the harbour bridge reopen?"}
            )
            answer = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        attempts = emu.requests_to("POST", FOLLOWUP_PATH, since=since)
        assert [r.status for r in attempts] == [500, 200]
        assert attempts[1].time - attempts[0].time >= 1  # discord.py's fixed back-off
        assert answer.id == command.original_message_id and BRIDGE_QUOTE in embed_text(answer)

    run_scenario(scenario)


def frozen_limiter() -> QuestionRateLimiter:
    """The default limit (5 per 60 s) on a clock that never moves: all questions are 'now'."""
    return QuestionRateLimiter(5, 60.0, clock=lambda: 1000.0)


def test_the_sixth_slash_question_within_a_minute_gets_the_notice(
    engine: Any, feedback: Any
) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        limiter = frozen_limiter()
        expected = (RateLimitedError,)
        async with running_bot(emu, engine, feedback, rate_limiter=limiter, expect_errors=expected):
            for _ in range(5):
                command = await emu.run_slash_command("ask", {"question": "robots?"})
                await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
            sixth = await emu.run_slash_command("ask", {"question": "robots?"})
            notice = await emu.wait_for_message(interaction=sixth)
            other = await emu.run_slash_command("ask", {"question": "robots?"}, user=emu.admin)
            answered = await emu.wait_for_message(interaction=other, timeout=STEP_TIMEOUT)
        assert sixth.callback_type == 4 and notice.ephemeral
        assert notice.content == (
            "You have asked 5 questions in the last 60 seconds: try again in 60 s."
        )
        assert "robots" in embed_text(answered)  # someone else may still ask

    run_scenario(scenario)


def test_the_sixth_mention_gets_one_notice_that_clears_itself(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, rate_limiter=frozen_limiter()) as bot:
            bot.get_cog("Ask").notice_seconds = 0.2  # type: ignore[union-attr]
            for _ in range(5):
                await ask_by_mention(emu, "Who discovered the comet?")
            _, notice = await ask_by_mention(emu, "Who discovered the comet?")
            await emu.wait_until(lambda: notice.deleted, what="the notice to be deleted")
            seventh = await emu.send_message(f"{emu.bot_user.mention} comet?")
            await ask_by_mention(emu, "robots?", author=emu.admin)  # others still answered
        assert notice.content.startswith("You have asked 5 questions in the last 60 seconds")
        assert not any(replies_to(seventh)(m) for m in emu.messages)  # one notice per window

    run_scenario(scenario)


def inflate(answer: Answer) -> Answer:
    """The same answer made huge: 40 long quotes citing 30 sources with long titles and links."""
    sentence = "Engineers replaced every steel cable and resurfaced the whole deck of the bridge. "
    sources = [
        Source(
            n=n,
            article_id=f"article-{n}",
            title=f"Report {n}: " + "a very long headline about the harbour bridge " * 6,
            url=f"https://example.org/news/{n}/" + "long-path-segment/" * 25,
            source="The Port Gazette and Evening Harbour Chronicle",
            published="2024-03-14",
        )
        for n in range(1, 31)
    ]
    quotes = [
        Quote(
            n=i % 30 + 1,
            text=sentence * 7,
            article_id=f"article-{i % 30 + 1}",
            start=0,
            end=len(sentence) * 7,
            score=1.0,
        )
        for i in range(40)
    ]
    long_text = sentence * 60
    passages = [
        dataclasses.replace(
            answer.passages[0],
            rank=rank,
            chunk=dataclasses.replace(answer.passages[0].chunk, text=long_text),
        )
        for rank in range(1, 11)
    ]
    return dataclasses.replace(
        answer, abstained=False, quotes=quotes, sources=sources, passages=passages
    )


class InflatingEngine(GuardedEngine):
    """The real engine, whose answers are then made far bigger than it ever makes them."""

    def ask(self, *args: Any, **kwargs: Any) -> Answer:
        return inflate(super().ask(*args, **kwargs))


def test_an_oversized_answer_with_many_sources_stays_within_limits(
    own_index: IndexDirs, embedder: Any, guard: Any, feedback: Any
) -> None:
    engine = make_engine(own_index, embedder, guard, cls=InflatingEngine)

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, "What did the engineers do?")
            command = await emu.run_slash_command("ask", {"question": "What did engineers do?"})
            followed = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
            press = await emu.press_button(reply, custom_id(reply, "citebot:sources:"))
            passages = await emu.wait_for_message(interaction=press)
        for message in (reply, followed):  # the harness also checks every message's limits
            description = message.embeds[0]["description"]
            quotes, sources = description.split("\n\n**Sources**\n")
            notes = [line for line in quotes.split("\n") if line.startswith("*As of ")]
            assert notes  # the articles are old: the answer says as of when
            quotes = quotes.removesuffix("\n" + "\n".join(notes))
            assert re.search(r"bridge\.( …)?” \[\d+\]$", quotes)  # cut after a sentence
            cited = set(re.findall(r"\[(\d+)\]", quotes))
            listed = re.findall(r"^\*\*\[(\d+)\]\*\* \[Report", sources, flags=re.M)
            assert listed and set(listed) <= cited
            assert sources.endswith("more: press Sources.")
        assert len(passages.embeds) == 10 and passages.ephemeral
        assert all(e["description"].endswith("bridge. …") for e in passages.embeds)

    run_scenario(scenario)


class BrokenEngine(GuardedEngine):
    """An engine whose answering fails in a way no user caused."""

    def ask(self, *args: Any, **kwargs: Any) -> Answer:
        raise RuntimeError("the index is on fire")


def test_an_unexpected_error_gets_an_apology_and_a_logged_traceback(
    built_index: IndexDirs, embedder: Any, guard: Any, feedback: Any
) -> None:
    engine = make_engine(built_index, embedder, guard, cls=BrokenEngine)

    async def scenario(emu: DiscordEmulator) -> None:
        expected = (RuntimeError,)
        async with running_bot(
            emu, engine, feedback, expect_errors=expected, expect_error_logs=2
        ) as bot:
            _, reply = await ask_by_mention(emu, "Who discovered the comet?")
            command = await emu.run_slash_command("ask", {"question": "comet?"})
            followed = await emu.wait_for_message(interaction=command)
        assert reply.content == APOLOGY and followed.content == APOLOGY
        tracebacks = [r.exc_info for r in bot.observed.error_records()]  # type: ignore[attr-defined]
        assert all(info and isinstance(info[1], RuntimeError) for info in tracebacks)

    run_scenario(scenario)
