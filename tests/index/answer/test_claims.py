"""Checking a message's claims: supporting quotes, nothing found, and numbers or dates that
differ from what the articles say."""

from __future__ import annotations

import pytest

from index.answer.claims import MAX_CLAIMS, NO_TEXT, Verdict, plain_text, split_claims
from index.answer.figures import disagreements, figures
from index.engine import Engine
from index.errors import QuestionError


def test_dates_and_amounts_are_read_with_what_they_count() -> None:
    found = figures("On 3 January, March 2022 and 2024-03-14 it cost $1.2bn, 38 % and 40 robots.")
    assert [(f.text, f.kind, f.value) for f in found] == [
        ("3 January", "date", (None, 1, 3)),
        ("March 2022", "date", (2022, 3, None)),
        ("2024-03-14", "date", (2024, 3, 14)),
        ("$1.2bn", "amount", 1.2e9),
        ("38 %", "amount", 38.0),
        ("40", "amount", 40.0),
    ]
    assert found[3].unit == {"dollar"} and found[4].unit == {"percent"}
    assert "robot" in found[5].unit
    assert figures("Comet C/2025 A1 (Delgado)") == []


@pytest.mark.parametrize(
    ("claim", "sentence", "expected"),
    [
        ("It closed in March 2021.", "It closed in March 2022.", [("March 2021", "March 2022")]),
        ("Seen on 3 February.", "She saw it on 3 January.", [("3 February", "3 January")]),
        (
            "It cost 58 million euros.",
            "The repair cost 48 million euros.",
            [("58 million", "48 million")],
        ),
        ("It cost 48 million euros.", "Engineers replaced all 212 steel cables.", []),
        ("The library bought 40 robots.", "The 40 robots were bought with a grant.", []),
        ("It cost 48m euros.", "The repair cost 48 million euros.", []),
    ],
)
def test_only_figures_about_the_same_thing_disagree(
    claim: str, sentence: str, expected: list[tuple[str, str]]
) -> None:
    found = [(mine.text, theirs.text) for mine, theirs in disagreements(claim, sentence)]
    assert found == expected


def test_a_message_is_cut_into_at_most_a_few_claims() -> None:
    message = (
        "Hey <@123>, did you see this? https://example.org/x **The bridge reopened on Thursday "
        "after two years.**\nThe repair cost 48 million euros\nlol. The library bought forty "
        "robots for children. The wheat harvest fell by a third this year. The comet was found "
        "in Tasmania by an amateur."
    )
    claims, total = split_claims(message)
    assert total == 5 and len(claims) == MAX_CLAIMS
    assert claims[0] == "The bridge reopened on Thursday after two years."
    assert claims[1] == "The repair cost 48 million euros"
    assert "<@123>" not in plain_text(message) and "https://" not in plain_text(message)


def test_a_supported_claim_gets_its_quote(fixture_engine: Engine) -> None:
    check = fixture_engine.check("The library bought 40 robots with a grant.")
    (claim,) = check.claims
    assert claim.verdict is Verdict.SUPPORTED and check.supported
    assert "40 robots were bought with a grant" in claim.answer.text
    assert claim.answer.sources[0].article_id == "library-robots"


def test_an_off_topic_message_is_supported_by_nothing(fixture_engine: Engine) -> None:
    check = fixture_engine.check("I think pineapple belongs on pizza, honestly.")
    assert [c.verdict for c in check.claims] == [Verdict.UNSUPPORTED]
    assert not check.supported


def test_a_wrong_date_and_a_wrong_amount_are_flagged(fixture_engine: Engine) -> None:
    check = fixture_engine.check(
        "The harbour bridge was closed in March 2021 because inspectors found corrosion. "
        "Its repair cost 58 million euros. Rosa Delgado spotted the comet on 3 February."
    )
    flagged = [
        (c.verdict, [(d.article.text, d.message.text) for d in c.differences]) for c in check.claims
    ]
    assert flagged == [
        (Verdict.DIFFERS, [("March 2022", "March 2021")]),
        (Verdict.DIFFERS, [("48 million", "58 million")]),
        (Verdict.DIFFERS, [("3 January", "3 February")]),
    ]
    assert "March 2022" in check.claims[0].differences[0].quote.text


def test_a_message_without_a_statement_is_one_sentence(fixture_engine: Engine) -> None:
    with pytest.raises(QuestionError, match=NO_TEXT):
        fixture_engine.check("<@123> https://example.org")
    with pytest.raises(QuestionError, match="no statement to check"):
        fixture_engine.check("When did the bridge reopen?")
