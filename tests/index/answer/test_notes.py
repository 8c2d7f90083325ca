"""Notes: names no article or no quote mentions, stale evidence, other languages."""

from __future__ import annotations

from datetime import date

from index.answer.notes import as_of_note, mentions, missing_notes
from index.answer.question import analyse
from index.store.lexical import LexicalIndex

LEXICAL = LexicalIndex.build(
    [1, 2],
    [
        "Malmö opened a new cycling bridge that cost 310 million kronor.",
        "Ana Lopes won the Riverton marathon in 2024.",
    ],
)


def test_a_name_no_article_holds() -> None:
    question = analyse("How much does the new bridge in Stockholm cost?")
    notes = missing_notes(question, ["The bridge cost 310 million kronor."], LEXICAL)
    assert notes == ["No article mentions Stockholm."]


def test_names_only_the_quotes_lack_and_names_nowhere_are_told_apart() -> None:
    question = analyse("Did Ana Lopes win in Riverton and Oslo in 2024?")
    notes = missing_notes(question, ["The bridge cost 310 million kronor."], LEXICAL)
    assert notes == [
        "No article mentions Oslo.",
        "The quoted passages do not mention Ana Lopes, Riverton or 2024.",
    ]


def test_the_numbers_of_a_story_told_before_the_question_are_not_checked() -> None:
    quoted = ["Lopes won the Riverton marathon."]
    story = analyse("Ana Lopes won a marathon in 2024. Which city did she win in?")
    assert missing_notes(story, quoted, LEXICAL) == []
    asked = analyse("Ana Lopes won a marathon. Which city did she win in, in 2024?")
    assert missing_notes(asked, quoted, LEXICAL) == ["The quoted passages do not mention 2024."]
    # ... but a number of the story that no article holds at all is still told.
    nowhere = analyse("Ana Lopes won at age 31. Which city did she win in?")
    assert missing_notes(nowhere, quoted, LEXICAL) == ["No article mentions 31."]


def test_a_surname_alone_counts_as_a_mention() -> None:
    assert mentions("Ana Lopes", ["Lopes pulled away after 30 kilometres."])
    assert not mentions("Ana Lopes", ["Lopez pulled away."])
    assert mentions("M&M’s", ["M&M's new packaging"])


def test_a_last_word_counts_only_written_as_a_name() -> None:
    # A question about the Tony Award answered from a sentence about the Oscars.
    assert not mentions("Tony Award", ["Smith would traditionally present the award."])
    assert mentions("Tony Award", ["She won a Tony Award on Sunday."])
    assert mentions("Tony Award", ["She won her first TONY AWARD."])
    assert not mentions("Supreme Court", ["The case went back to a lower court."])
    assert mentions("George Washington", ["Washington’s farewell address warned of parties."])
    assert not mentions("Polish monumental theatre", ["The National Theatre is a theatre."])


def test_the_us_and_the_uk_are_mentioned_by_any_of_their_names() -> None:
    assert mentions("U.S.", ["The United States sent a delegation."])
    assert mentions("US", ["Prices in the U.S. rose."])
    assert mentions("U.S.", ["A US-led coalition formed."])
    assert mentions("U.K.", ["Britain voted to leave."])
    assert not mentions("U.S.", ["Tell us more about it."])  # the pronoun is no country
    assert not mentions("U.S.", ["USAID announced funding."])
    assert not mentions("U.K.", ["The United States sent a delegation."])


def test_stale_evidence_is_dated() -> None:
    now = analyse("Who won the marathon this week?")
    assert as_of_note(now, ["2024-04-21"], date(2024, 4, 23)) is None
    note = as_of_note(now, ["2021-04-18", None], date(2024, 4, 23))
    assert note is not None and note.startswith("As of 2021-04-18")
    timeless = analyse("Who won the marathon?")
    assert as_of_note(timeless, ["2024-03-01"], date(2024, 4, 23)) is None
    assert as_of_note(timeless, ["2023-03-01"], date(2024, 4, 23)) is not None
    assert as_of_note(now, [None], date(2024, 4, 23)) is None
    assert as_of_note(now, ["2021-04-18"], None) is None
