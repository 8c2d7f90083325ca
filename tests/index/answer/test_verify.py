"""Verification of written answers: what is kept, what is removed and why."""

from __future__ import annotations

import pytest

from index.answer.verify import find_quote, split_sentences, verify_written
from tests.index.answer.written_checks import BRIDGE, assert_shown_is_verified, passages


def check(text: str) -> tuple[str | None, list[str]]:
    """The written text shown (None: the extractive answer is) and the reasons for removals."""
    result = verify_written(text, passages(), "m")
    if result.written is not None:
        assert_shown_is_verified(result.written)
    return (result.written.text if result.written else None), [r.reason for r in result.removed]


def test_sentences_keep_the_citations_after_their_full_stop() -> None:
    text = "It cost 48.5 million. [1] U.S. officials said so [2].\nNext “one. Two” [3] and more"
    assert split_sentences(text) == [
        "It cost 48.5 million. [1]",
        "U.S. officials said so [2].",
        "Next “one. Two” [3] and more",
    ]
    assert split_sentences("- first [1]\n- second [2]\n\nA quote “across\nlines” [1].") == [
        "first [1]",
        "second [2]",
        "A quote “across lines” [1].",
    ]


def test_quotes_match_up_to_whitespace_and_quote_marks_only() -> None:
    assert find_quote("reopened  to\ntraffic", BRIDGE) is not None
    assert find_quote("Reopened to traffic", BRIDGE) is None  # case is content
    assert find_quote("reopened to trafic", BRIDGE) is None
    text = (
        'Engineers "replaced all 212 steel cables," [1] and the bridge '
        '"reopened … on Thursday" [1].'
    )
    shown, removed = check(text)
    assert removed == []
    assert shown == (
        "Engineers “replaced all 212 steel cables” [1] and the bridge “reopened … on Thursday” [1]."
    )


def test_single_quoted_spans_are_checked_too() -> None:
    shown, removed = check(
        "The city's toll is 'one euro for buses' [2]. It cost “48 million euros” [1]."
    )
    assert removed == ["quotes “one euro for buses” as [2], but it is in no passage"]
    assert shown is None  # less than half is left


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("「", "」"), ("『", "』"), ("‹", "›"), ("❝", "❞"), ("｢", "｣"), ("«", "»"), ("‚", "‘")],
)
def test_quotes_in_any_quotation_marks_are_checked(opening: str, closing: str) -> None:
    shown, removed = check(f"The bridge {opening}reopened to traffic{closing} [1].")
    assert removed == [] and shown == "The bridge “reopened to traffic” [1]."
    shown, removed = check(f"The bridge was {opening}rebuilt by volunteers{closing} [1].")
    assert shown is None
    assert removed == ["quotes “rebuilt by volunteers” as [1], but it is in no passage"]


@pytest.mark.parametrize(
    ("citation", "shown"),
    [("[1, 3]", "[1][2]"), ("[1][2]", "[1]"), ("[Passage 1]", "[1]"), ("[1-2]", "[1]")],
)
def test_citation_forms_are_renumbered_per_article(citation: str, shown: str) -> None:
    text, removed = check(f"The bridge reopened on Thursday {citation}.")
    assert removed == [] and text == f"The bridge reopened on Thursday {shown}."


def test_figures_and_names_must_come_from_the_cited_passages() -> None:
    _, removed = check(
        "The repair cost 52 million euros [1]. Mayor Tom Berg opened it [1]. "
        "A toll of one euro stays until 2026 [2]. Engineers replaced 212 cables [1]."
    )
    assert removed == [
        "mentions 52, which the passages it cites do not",
        "mentions Tom, which the passages it cites do not",
    ]


def test_a_name_from_another_passage_is_not_supported_by_the_one_cited() -> None:
    shown, removed = check("Rosa Delgado reopened the bridge [1]. The bridge reopened [1].")
    # The first word of a sentence is capitalised anyway; "Delgado" is checked.
    assert removed == ["mentions Delgado, which the passages it cites do not"]
    assert shown is None


def test_an_uncited_sentence_is_kept_only_if_short_and_without_new_facts() -> None:
    shown, removed = check(
        "The bridge reopened on Thursday after a two-year repair [1]. That was good news. "
        "It will carry 30,000 cars a day."
    )
    assert (
        shown == "The bridge reopened on Thursday after a two-year repair [1]. That was good news."
    )
    assert removed == ["mentions 30,000, which the passages it cites do not"]
    long_uncited = "The bridge is a very important link for the whole harbour area " * 3
    _, removed = check(f"The bridge reopened on Thursday [1]. {long_uncited.strip()}.")
    assert removed == ["cites no passage"]


def test_unbalanced_quotes_and_hedges_are_removed() -> None:
    shown, removed = check(
        "It cost “48 million euros” [1]. The bridge “reopened to traffic on Thursday [1].\n\n"
        "The passages do not mention the opening hours."
    )
    assert removed == ["has unbalanced quotation marks", "says the passages do not answer"]
    assert shown is None  # what is left is under half the text


def test_an_abstention_first_means_no_written_answer() -> None:
    result = verify_written(
        "The passages do not say. But it cost 48 million euros [1].", passages(), "m"
    )
    assert result.written is None and result.fallback == "the writer said it does not know"


def test_nothing_or_garbage_is_no_answer() -> None:
    assert verify_written("", passages(), "m").fallback == "the writer returned no text"
    result = verify_written("[1] [2] [3]", passages(), "m")
    assert result.written is None and result.removed[0].reason == "says nothing"


def test_echoed_headings_and_talk_about_the_passages_are_not_answers() -> None:
    _, removed = check("The passage is: [1] Harbour bridge reopens (Port Gazette, 2024-03-14)")
    assert removed == ["talks about the passages instead of answering"]
    shown, removed = check("Harbour bridge reopens [1]. The answer is: it reopened Thursday [1].")
    assert shown is None and len(removed) == 2


def test_a_quote_may_come_from_any_passage_its_citation_names() -> None:
    shown, removed = check("Cars pay “a toll of one euro” [1, 2].")
    assert removed == [] and shown == "Cars pay “a toll of one euro” [1]."


def test_a_link_absent_from_the_passages_is_not_shown() -> None:
    _, removed = check(
        "The bridge reopened on Thursday [1]. Read more at https://evil.example/x [1]."
    )
    assert removed == ["mentions https://evil.example/x, which the passages it cites do not"]
