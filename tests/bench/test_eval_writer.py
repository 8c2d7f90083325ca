"""bench/eval_writer.py counts what a reader would have been shown: its tally of unverified
quotes and dangling [n] (the figure that must be 0) is computed from the article texts, not
with verify.py, so it must catch what a faulty verifier let through."""

from __future__ import annotations

from bench.eval_writer import Tally, count, shown_violations
from index.answer.compose import Quote, Source
from index.answer.verify import verify_written
from index.answer.writer import WriteOutcome
from index.answer.written import WrittenAnswer
from tests.index.answer.written_checks import ARTICLES, extractive, passages

BRIDGE_ID = "harbour-bridge"
QUESTION = {"question": "How much did the bridge repair cost?", "answers": ["48 million euros"]}


def bridge_source() -> Source:
    return Source(1, BRIDGE_ID, "Harbour bridge reopens", None, "Port Gazette", "2024-03-14")


def quote(text: str, shift: int = 0) -> Quote:
    start = ARTICLES[BRIDGE_ID].index(text) + shift
    return Quote(1, text, BRIDGE_ID, start, start + len(text), 0.0)


def unchecked(text: str, quotes: list[Quote]) -> WrittenAnswer:
    """A written answer as a verifier that checked nothing would have let it through."""
    return WrittenAnswer(text, "m", quotes, [bridge_source()])


def test_a_verified_answer_shows_no_violation() -> None:
    text = "The repair cost “48 million euros” [1] and took two years [1]."
    written = verify_written(text, passages(), "m").written
    assert written is not None and written.quotes
    assert shown_violations(written, ARTICLES) == (0, 0)


def test_an_invented_quote_and_a_dangling_citation_are_each_counted() -> None:
    written = unchecked(
        "The repair cost “52 million euros” [1]. It reopened “to traffic on Thursday” [7].",
        [quote("to traffic on Thursday")],
    )
    assert shown_violations(written, ARTICLES) == (1, 1)


def test_a_quote_at_the_wrong_offsets_or_of_another_article_is_unverified() -> None:
    shifted = unchecked("It cost “48 million euros” [1].", [quote("48 million euros", shift=3)])
    assert shown_violations(shifted, ARTICLES) == (1, 0)
    right = quote("48 million euros")
    elsewhere = Quote(1, right.text, "comet-sighting", right.start, right.end, 0.0)
    assert shown_violations(
        unchecked("It cost “48 million euros” [1].", [elsewhere]),
        {
            **ARTICLES,
            "comet-sighting": ARTICLES[BRIDGE_ID],  # the text would match; the source does not
        },
    ) == (1, 0)


def test_the_tally_reports_what_was_shown() -> None:
    tally = Tally()
    bad = unchecked("The repair cost “52 million euros” [2].", [])
    count(tally, QUESTION, extractive(), WriteOutcome(bad, None, text=bad.text), ARTICLES)
    good = verify_written("The repair cost “48 million euros” [1].", passages(), "m").written
    count(tally, QUESTION, extractive(), WriteOutcome(good, None, text="x"), ARTICLES)
    count(tally, QUESTION, extractive(), WriteOutcome(None, "the writer timed out"), ARTICLES)
    report = tally.as_json()
    assert (report["unverified_quotes_shown"], report["dangling_citations_shown"]) == (1, 1)
    assert (report["written_shown_untouched"], report["fallbacks"]) == (2, 1)
    assert report["answer_in_answer_written"] == 0.5  # the invented figure is not the answer


def test_a_quote_in_other_quotation_marks_is_counted_unless_it_is_article_text() -> None:
    corner = unchecked("The bridge was 「rebuilt by volunteers」 and ‹closed› [1].", [])
    assert shown_violations(corner, ARTICLES) == (2, 0)
    article = {BRIDGE_ID: "The mayor said «yes» twice."}
    inner = Quote(1, "said «yes» twice", BRIDGE_ID, 10, 26, 0.0)
    shown = unchecked("The mayor “said «yes» twice” [1].", [inner])
    assert shown_violations(shown, article) == (0, 0)
