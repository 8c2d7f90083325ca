"""End to end: a question carrying text that is not valid Unicode (a lone surrogate, which a
Discord client can send inside JSON) is answered, by mention and by /ask, and nothing fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.harness import STEP_TIMEOUT, ask_by_mention, embed_text, run_scenario, running_bot
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(60)


def test_a_question_with_a_lone_surrogate_is_answered(engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        async with running_bot(emu, engine, feedback):
            _, reply = await ask_by_mention(emu, "Who found the comet\ud800?")
            command = await emu.run_slash_command("ask", {"question": "Who \udce9found the comet?"})
            answer = await emu.wait_for_message(interaction=command, timeout=STEP_TIMEOUT)
        for message in (reply, answer):
            assert "discovered a new comet" in embed_text(message)

    run_scenario(scenario)
