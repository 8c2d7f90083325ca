"""What may be quoted, and which sentences hold the kind of answer a question expects."""

from __future__ import annotations

import pytest

from index.answer.question import Expects, analyse
from index.answer.sentences import carries, is_quotable

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
