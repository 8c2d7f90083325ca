"""Rendering "Find sources" replies, `/sources gaps` and answer footers, within Discord's limits."""

from __future__ import annotations

from datetime import date

from bot import render
from bot.render_claims import NOTHING_SUPPORTS, claims_embed
from bot.render_gaps import NO_GAPS, gaps_embed
from index.answer.claims import ClaimCheck, MessageCheck
from index.answer.compose import Answer, Quote, Source
from index.gaps import FailedQuestion, Gap
from tests.bot.harness import assert_within_limits
from tests.discord_emulator.records import StoredMessage


def source(n: int, published: str | None) -> Source:
    url = f"https://example.org/{n}/" + "x" * 400
    return Source(n, f"article-{n}", "T" * 250, url, "Outlet", published)


def supported(claim: str, article: int, published: str | None = "2024-01-0{}") -> ClaimCheck:
    src = source(1, published.format(article) if published else None)
    src = Source(1, f"article-{article}", src.title, src.url, src.source, src.published)
    quotes = [Quote(1, "A long quoted sentence, " * 40, f"article-{article}", 0, 10, 1.0)] * 3
    return ClaimCheck(claim, Answer(claim, False, quotes=quotes, sources=[src]))


def test_claims_fit_in_one_embed_and_sources_are_numbered_once() -> None:
    checks = [supported("x " * 300, 1), supported("y", 2), supported("z", 1)]
    checks.append(ClaimCheck("nothing here", Answer("nothing here", True)))
    embed = claims_embed(MessageCheck(checks, 7), "https://discord.com/channels/1/2/3")
    message = StoredMessage(
        0,
        {"id": "1", "channel_id": "2", "author": {"id": "3"}, "embeds": [embed.to_dict()]},
        "rest",
    )
    assert_within_limits(message)
    text = embed.description or ""
    assert text.count("**[1]**") == 1 and text.count("**[2]**") == 1  # article-1 cited twice
    assert f"❌ {NOTHING_SUPPORTS}" in text
    assert embed.footer.text == (
        "Sources published 2024-01-01 – 2024-01-02 · Checked the first 4 of 7 statements."
    )


def test_a_long_gap_list_is_cut_with_a_pointer_to_the_cli() -> None:
    gaps = [
        Gap(
            [
                FailedQuestion(
                    f"question {i} " + "w" * 140, "2024-03-01T10:00:00+00:00", None, True, 0, 0
                )
            ]
        )
        for i in range(200)
    ]
    embed = gaps_embed(gaps, 30, 30)
    assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
    assert (embed.description or "").endswith("more (`citebot gaps --json` lists all).")
    assert gaps_embed([], 7, 30).description == NO_GAPS
    assert "kept 30 days" in (gaps_embed([], 90, 30).footer.text or "")


def test_the_footer_names_the_follow_up_and_the_sources_dates() -> None:
    answer = Answer(
        "why?",
        False,
        quotes=[Quote(1, "q", "a", 0, 1, 1.0)],
        sources=[source(1, "2023-01-06T10:00:00"), source(2, None), source(3, "2023-01-04")],
        as_of=date(2024, 1, 1),
    )
    embed = render.answer_embed(answer, follow_up_of="When did the harbour bridge reopen?")
    assert embed.footer.text == (
        "Follow-up to: When did the harbour bridge reopen?\n"
        "Sources published 2023-01-04 – 2023-01-06"
    )
    undated = Answer("q", False, quotes=answer.quotes, sources=[source(1, None)])
    assert render.answer_embed(undated).footer.text is None
