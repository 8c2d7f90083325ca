"""What may be quoted, and which sentences hold the kind of answer a question expects."""

from __future__ import annotations

import pytest

from index.answer.question import Expects, analyse
from index.answer.retrieval import Passage
from index.answer.sentences import asks, candidate_sentences, carries, is_quotable
from index.store.database import ChunkRecord

TITLE = "Malmö opens its new cycling bridge over the harbour"


@pytest.mark.parametrize(
    "text",
    [
        "# Lantern festival returns to the old town",
        "## What to expect",
        "- Tickets: free for everyone who comes",
        "1. Parade every evening at nine",
        "By Tom Becker",
        "Photo: Erik Sand / Nordic Wire",
        "© Getty Images",
        "Envoys meet in Geneva to revive stalled water talks\n© Getty Images",
        TITLE,
        "The **bridge** cost 310 million kronor.",
        "Read [the full report](https://example.org/report) here.",
        "Short line here",
    ],
)
def test_not_running_prose_is_never_quoted(text: str) -> None:
    assert not is_quotable(text, TITLE)


@pytest.mark.parametrize(
    "text",
    [
        "The festival runs until 14 August.",
        "By the end of the day, 12,000 cyclists had crossed it.",
        "Officials said the bridge, which cost far more than planned, opens on Monday to all",
    ],
)
def test_running_prose_is_quoted(text: str) -> None:
    assert is_quotable(text, TITLE)


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("When does the festival end?", "The festival runs until 14 August.", True),
        ("When does the festival end?", "The festival has more stalls this year.", True),
        ("When does the festival end?", "The festival has more lanterns than before.", False),
        ("How many crossings will there be?", "Crossings rise to 14 a day.", True),
        ("How many crossings will there be?", "Crossings rise to twelve a day.", True),
        ("How many crossings will there be in 2024?", "There were crossings in 2024.", False),
        ("Who proposed the plan?", "It was proposed by councillor Amira Haddad.", True),
        ("Who proposed the plan?", "Under the plan, crossings rise.", False),
        ("Who did Amira Haddad thank?", "Amira Haddad thanked the council.", False),
        ("Where was it built?", "It was built in Coney Island in 1884.", True),
    ],
)
def test_a_sentence_carries_what_the_question_lacks(
    question: str, sentence: str, expected: bool
) -> None:
    analysed = analyse(question)
    assert carries(analysed.expects, sentence, analysed) is expected


def test_nothing_is_expected_of_an_open_question() -> None:
    analysed = analyse("Why did the talks collapse?")
    assert carries(None, "They collapsed in 2021 after a dispute.", analysed) is False
    assert analysed.expects is None
    assert carries(Expects.DATE, "They collapsed in 2021 after a dispute.", analysed)


def _sentences(text: str) -> list[tuple[str, bool]]:
    chunk = ChunkRecord(1, "a", 0, len(text), text, TITLE, None, None, None)
    passage = Passage(rank=1, chunk=chunk, score=1.0, dense=1.0, lexical=1.0)
    return [(c.text, c.quotable) for c in candidate_sentences([passage])]


def test_a_sentence_hard_wrapped_over_lines_is_one_quotable_sentence() -> None:
    text = (
        "Two electric ferries entered service on the Eastport harbour route on Monday. Each"
        " ferry\ncarries 150 passengers and recharges in eight minutes at the quay. The port"
        " says the route,\nHarbour Line, runs every twenty minutes from early morning until"
        " late at night.\n"
    )
    assert _sentences(text) == [
        ("Two electric ferries entered service on the Eastport harbour route on Monday.", True),
        ("Each ferry\ncarries 150 passengers and recharges in eight minutes at the quay.", True),
        (
            "The port says the route,\nHarbour Line, runs every twenty minutes from early"
            " morning until late at night.",
            True,
        ),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Bridge Opens After Two Years\nThe bridge reopened to traffic on Thursday morning.",
        "## Costs\nThe bridge cost 310 million kronor in the end, the city said.",
        "Lanterns light up the old town as the festival returns to Malmö Harbour\n"
        "The festival runs until 14 August, the organisers said.",
    ],
)
def test_a_heading_above_a_sentence_stays_apart_from_it(text: str) -> None:
    heading, sentence = text.split("\n")
    assert _sentences(text) == [(heading, False), (sentence, True)]


@pytest.mark.parametrize(
    ("sentence", "question"),
    [
        ("Has Earth's inner core stopped spinning?", True),
        ("“Who will pay for it?” ", True),
        ("He asked who would pay for it, and nobody answered.", False),
        ("Is it over? Not yet.", False),  # ends as an answer
    ],
)
def test_a_sentence_that_is_itself_a_question(sentence: str, question: bool) -> None:
    assert asks(sentence) is question
