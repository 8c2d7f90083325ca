"""End to end: `/ask private:true` answers only the asker (buttons work there too), and
`/sources gaps` shows admins the questions the articles failed, grouped, within the retention
period (driven by a clock the test controls)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import NotAdminError, UserError
from bot.exts.sources import NO_ANSWER_YET
from bot.permissions import NOT_ADMIN
from tests.bot.engines import GuardedFeedbackStore, LoopGuard
from tests.bot.harness import (
    STEP_TIMEOUT,
    ask_by_mention,
    custom_id,
    embed_text,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(90)


class Clock:
    """The feedback store's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_private_answer_is_ephemeral_and_its_buttons_work(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, expect_errors=(UserError,)):
            command = await emu.run_slash_command(
                "ask", {"question": "How much did the bridge repair cost?", "private": True}
            )
            answer = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
            sources = await emu.press_button(answer, custom_id(answer, "citebot:sources:"))
            shown = await emu.wait_for_message(interaction=sources)
            up = custom_id(answer, "citebot:vote:up:")
            vote = await emu.press_button(answer, up)
            thanks = await emu.wait_for_message(interaction=vote, predicate=lambda m: m.ephemeral)
            last = await emu.run_slash_command("sources", subcommand="last", user=emu.admin)
            refusal = await emu.wait_for_message(interaction=last)
        assert command.callback_type == 5 and command.callback_data["flags"] & 64
        assert answer.ephemeral and "48 million euros" in embed_text(answer)
        assert shown.ephemeral and "**The Eastport harbour bridge reopened" in embed_text(shown)
        assert vote.callback_type == 6 and "👍 is recorded" in thanks.content
        labels = {
            b["custom_id"]: b.get("label") for b in emu.message(answer).components[0]["components"]
        }
        assert labels[up] == "1"
        assert feedback.counts(up.rsplit(":", 1)[1]).up == 1
        # Another member's /sources last does not reveal the private question.
        assert refusal.content == NO_ANSWER_YET
        assert not emu.requests_to("GET", r"^/channels/\d+/messages")  # never fetched publicly

    run_scenario(scenario)


def test_gaps_are_grouped_for_admins_and_refused_to_others(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, expect_errors=(NotAdminError,)):
            replies = []
            for question in [
                "Who won the football match last night?",
                "Which team won the football game yesterday?",
                "who won yesterday's football match?",
                "Who is the mayor of Greenvale?",
            ]:
                replies.append((await ask_by_mention(emu, question))[1])
            _, answered = await ask_by_mention(emu, "When will the ferries stop running?")
            down = await emu.press_button(answered, custom_id(answered, "citebot:vote:down:"))
            await emu.wait_for_message(interaction=down, predicate=lambda m: m.ephemeral)
            refused = await emu.run_slash_command("sources", subcommand="gaps", user=emu.member)
            refusal = await emu.wait_for_message(interaction=refused)
            asked = await emu.run_slash_command(
                "sources", {"days": 7}, subcommand="gaps", user=emu.admin
            )
            listing = await emu.wait_for_message(interaction=asked, timeout=STEP_TIMEOUT)
        assert refused.callback_type == 4 and refusal.ephemeral and refusal.content == NOT_ADMIN
        assert listing.ephemeral
        (embed,) = listing.embeds
        assert embed["title"] == "Questions the articles did not answer (last 7 days)"
        lines = embed["description"].split("\n")
        link = f"https://discord.com/channels/{emu.guild.id}/{emu.channel.id}/{replies[2].id}"
        assert lines[0].startswith(
            "**1.** who won yesterday's football match? — 3× (3 not answered)"
        )
        assert lines[0].endswith(f"[jump]({link})")
        assert len(lines) == 3 and "Who is the mayor of Greenvale? — 1×" in embed["description"]
        assert "When will the ferries stop running? — 1× (1 👎)" in embed["description"]

    run_scenario(scenario)


def test_old_questions_are_deleted_after_the_retention(
    engine: Any, tmp_path: Path, guard: LoopGuard
) -> None:
    clock = Clock()
    feedback = GuardedFeedbackStore(tmp_path / "feedback.sqlite", guard, keep_days=30, clock=clock)

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, old = await ask_by_mention(emu, "Who won the football match last night?")
            clock.now += timedelta(days=31)
            await ask_by_mention(emu, "Who is the mayor of Greenvale?")  # saving prunes
            asked = await emu.run_slash_command(
                "sources", {"days": 365}, subcommand="gaps", user=emu.owner
            )
            listing = await emu.wait_for_message(interaction=asked, timeout=STEP_TIMEOUT)
            press = await emu.press_button(old, custom_id(old, "citebot:vote:up:"))
            gone = await emu.wait_for_message(interaction=press)
        text = listing.embeds[0]["description"]
        assert "Who is the mayor of Greenvale?" in text and "football" not in text
        assert listing.embeds[0]["footer"]["text"].endswith("Questions are kept 30 days.")
        assert "no longer stored" in gone.content
        with feedback.connect() as conn:
            assert conn.execute("SELECT COUNT(*) FROM answers").fetchone() == (1,)

    run_scenario(scenario)
