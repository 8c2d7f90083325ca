"""End to end: "Find sources" on a message answers only the asker, with the supporting quote,
a plain "nothing supports it", or a flag on a quote that states another date or number."""

from __future__ import annotations

from typing import Any

import pytest

from bot.render_claims import NOTHING_AT_ALL
from index.errors import QuestionError
from tests.bot.harness import STEP_TIMEOUT, embed_text, run_scenario, running_bot
from tests.discord_emulator import DiscordEmulator, InteractionRecord, StoredMessage

pytestmark = pytest.mark.timeout(90)

MENU = "Find sources"


async def find_sources(
    emu: DiscordEmulator, text: str, **kwargs: Any
) -> tuple[dict[str, Any], InteractionRecord, StoredMessage]:
    """A member posts `text`; the admin runs Find sources on it; returns all three."""
    posted = await emu.send_message(text, **kwargs)
    command = await emu.run_message_command(MENU, posted, user=emu.admin)
    shown = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
    return posted, command, shown


def test_a_claim_in_the_collection_gets_its_quote_privately(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            posted, command, shown = await find_sources(
                emu, "Heard that the library bought 40 robots with a grant, nice!"
            )
        assert command.callback_type == 5 and shown.ephemeral
        (embed,) = shown.embeds
        link = f"https://discord.com/channels/{emu.guild.id}/{emu.channel.id}/{posted['id']}"
        assert embed["url"] == link
        assert "✅" in embed["description"]
        assert "40 robots were bought with a grant" in embed["description"]
        assert "library-robots" in embed["description"] and "[1]" in embed["description"]
        assert embed["footer"]["text"] == "Sources published 2024-05-02"
        public = [m for m in emu.messages if m.author_id == emu.bot_user.id and not m.ephemeral]
        assert public == []  # nobody else sees anything

    run_scenario(scenario)


def test_an_off_topic_message_is_supported_by_nothing(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, _, shown = await find_sources(emu, "Honestly, pineapple belongs on pizza.")
        assert shown.ephemeral
        assert shown.embeds[0]["description"] == NOTHING_AT_ALL
        assert "✅" not in embed_text(shown) and "[1]" not in embed_text(shown)

    run_scenario(scenario)


def test_a_wrong_date_and_a_wrong_number_are_flagged(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, _, shown = await find_sources(
                emu,
                "The harbour bridge was closed in March 2021 because inspectors found "
                "corrosion. The repair cost 58 million euros.",
            )
        text = shown.embeds[0]["description"]
        assert "⚠️ The article says **March 2022**, the message says **March 2021**" in text
        assert "⚠️ The article says **48 million**, the message says **58 million**" in text
        assert "“The bridge was closed in March 2022 when inspectors found corrosion" in text
        assert text.count("harbour-bridge-reopens") == 1  # one number for the one article

    run_scenario(scenario)


def test_a_long_message_is_checked_a_few_statements_at_a_time(engine: Any, feedback: Any) -> None:
    message = (
        "Wow! The comet was found by an amateur astronomer in Tasmania.\n"
        "The bridge toll for cars is one euro.\n"
        "Farmers harvested a third less wheat this year.\n"
        "Workshops on Saturday mornings teach children programming.\n"
        "Pineapple pizza is popular in Sweden."
    )

    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, _, shown = await find_sources(emu, message)
        (embed,) = shown.embeds
        assert embed["footer"]["text"].endswith("Checked the first 3 of 5 statements.")
        text = embed["description"]
        assert text.count("✅") >= 3
        assert "**1.** “The comet was found" in text and "**3.** “Farmers" in text
        assert "Workshops" not in text.split("**Sources**")[0]

    run_scenario(scenario)


def test_a_message_without_text_is_one_sentence(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback, expect_errors=(QuestionError,)):
            posted = await emu.send_message("", embeds=[{"image": {"url": "https://x.test/a.png"}}])
            command = await emu.run_message_command(MENU, posted)
            shown = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        assert shown.ephemeral and shown.content == "That message has no text to check."

    run_scenario(scenario)
