"""End to end: `@everyone`, `<@user>` and `<@&role>` in a question or in an article's text never
make the bot ping anyone, wherever the text lands in what it sends.

The question and the quoted article both carry every kind of mention; they are shown back in
answers (by mention, `/ask`, a follow-up), passages (the Sources button, `/sources last`,
`/sources search`) and checks (Find sources). The emulator reports a ping for mention markup in
content or in any embed text (title, description, fields, footer, author) that the message's
`allowed_mentions` lets through (`StoredMessage.pings`), so this fails if any of those sends
stopped suppressing mentions.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.engines import IndexDirs
from tests.bot.harness import (
    STEP_TIMEOUT,
    ask_by_mention,
    custom_id,
    embed_text,
    replies_to,
    run_scenario,
    running_bot,
)
from tests.discord_emulator import DiscordEmulator

pytestmark = pytest.mark.timeout(90)

QUOTED_USER, QUOTED_ROLE = 712345678901234567, 798765432109876543
MENTIONS = f"@everyone @here <@{QUOTED_USER}> <@!{QUOTED_USER}> <@&{QUOTED_ROLE}>"
NOTICE = f"""---
title: Harbour festival notice
url: https://example.org/news/harbour-festival
source: Port Gazette
published: 2024-05-02
---
The organisers pinned a notice reading "{MENTIONS} the harbour festival starts at noon on
Saturday" to the quay office door. Festival tickets are handed out by <@{QUOTED_USER}> and
the volunteers of <@&{QUOTED_ROLE}>, who also guide visitors around the harbour.
"""
QUESTION = f"{MENTIONS} when does the harbour festival start?"
FESTIVAL = "the harbour festival starts at noon"


@pytest.fixture
def festival_engine(own_engine: Any, own_index: IndexDirs) -> Any:
    (own_index.articles / "festival.md").write_text(NOTICE, encoding="utf-8")
    assert own_engine.reindex().added == 1
    return own_engine


def test_mentions_in_questions_and_quotes_ping_nobody(festival_engine: Any, feedback: Any) -> None:
    async def scenario(emu: DiscordEmulator) -> None:
        role = emu.add_role("Volunteers", role_id=QUOTED_ROLE)
        emu.add_member("ticket-desk", user_id=QUOTED_USER)
        async with running_bot(emu, festival_engine, feedback):
            _, answer = await ask_by_mention(emu, QUESTION)
            follow_up = await emu.send_message(
                f"{MENTIONS} and where are the tickets?",
                referenced_message=answer,
                reply_ping=False,
            )
            followed = await emu.wait_for_message(
                emu.channel.id, replies_to(follow_up), timeout=STEP_TIMEOUT
            )
            slash = await emu.run_slash_command("ask", {"question": QUESTION})
            sources = await emu.press_button(answer, custom_id(answer, "citebot:sources:"))
            last = await emu.run_slash_command("sources", subcommand="last")
            search = await emu.run_slash_command(
                "sources", {"query": QUESTION}, subcommand="search"
            )
            claim = await emu.send_message(f"{MENTIONS} the harbour festival starts at noon.")
            check = await emu.run_message_command("Find sources", claim)
            shown = [
                await emu.wait_for_message(interaction=i, timeout=STEP_TIMEOUT)
                for i in (slash, sources, last, search, check)
            ]
        everything = [answer, followed, *shown]
        assert all(FESTIVAL in embed_text(m) for m in [answer, *shown[:4]])  # quoted
        assert "when does the harbour festival start?" in answer.embeds[0]["title"]
        # The markup did reach Discord (in embeds), and still nobody is pinged.
        assert any(MENTIONS in embed_text(m) for m in everything)
        assert {m.id: m.pings for m in everything} == {m.id: [] for m in everything}
        bot_messages = [m for m in emu.messages if m.author_id == emu.bot_user.id]
        assert all(m.pings == [] for m in bot_messages)  # the harness checks this too
        assert role.id == QUOTED_ROLE

    run_scenario(scenario)
