"""Question analysis: the asking sentence, the expected answer, names, the present, language."""

from __future__ import annotations

import pytest

from index.answer.question import Expects, analyse, asking_sentence, looks_non_english

PREAMBLE = (
    "NFL player Damar Hamlin suffered an on-field medical emergency this week. "
    "He is a valued member of which team?"
)


def test_a_preamble_is_told_apart_from_the_ask() -> None:
    question = analyse(PREAMBLE)
    assert question.ask == "He is a valued member of which team?"
    assert question.has_preamble
    assert question.names == ("Damar Hamlin",)
    assert question.about_now


def test_a_one_sentence_question_is_its_own_ask() -> None:
    assert asking_sentence("Who won the marathon?") == "Who won the marathon?"
    assert not analyse("Who won the marathon?").has_preamble


@pytest.mark.parametrize(
    ("text", "expects"),
    [
        ("When does the festival end?", Expects.DATE),
        ("In what year did Tesla receive a Nobel Prize bid?", Expects.DATE),
        ("How many ferry crossings will there be?", Expects.NUMBER),
        ("How much does the new bridge cost?", Expects.NUMBER),
        ("What percentage of voters stayed home?", Expects.NUMBER),
        ("Who proposed the plan?", Expects.PERSON),
        ("Where was the first roller coaster built?", Expects.PLACE),
        ("In which city did the parade take place?", Expects.PLACE),
        ("Which team won the cup?", Expects.NAME),
        ("What is he accused of?", None),
        ("Why did the talks collapse?", None),
    ],
)
def test_the_expected_kind_of_answer(text: str, expects: Expects | None) -> None:
    assert analyse(text).expects == expects


def test_names_numbers_and_quoted_phrases() -> None:
    question = analyse('Did Ana Lopes win "the wet race" in Riverton on Sunday in 2024?')
    assert question.names == ("Ana Lopes", "Riverton")  # not "Sunday", not the first word
    assert question.numbers == ("2024",)
    assert question.phrases == ("the wet race",)


def test_an_abbreviated_title_is_not_part_of_a_name() -> None:
    question = analyse("Montana Gov. Greg Gianforte met Union Maj. Gen. Gordon Granger. Why?")
    assert question.names == ("Montana", "Greg Gianforte", "Union", "Gordon Granger")


def test_a_quoted_phrase_loses_the_punctuation_inside_its_closing_quote_mark() -> None:
    assert analyse("Who wrote “The Star-Spangled Banner?”").phrases == ("The Star-Spangled Banner",)
    assert analyse("Season 3 of “Ted Lasso,” premiered. Where?").phrases == ("Ted Lasso",)


def test_a_name_inside_a_quoted_phrase_is_left_to_the_phrase() -> None:
    question = analyse("Dwayne “The Rock” Johnson will remake which film?")
    assert question.phrases == ("The Rock",)
    assert question.names == ("Johnson",)  # not "Rock" as well: one caveat, not two


def test_a_weekday_splits_a_run_of_capitals() -> None:
    assert analyse("Who hosts the 2023 Academy Awards Sunday night?").names == ("Academy Awards",)


@pytest.mark.parametrize(
    ("text", "several"),
    [("Which records were broken?", True), ("Which record was broken?", False)],
)
def test_questions_asking_for_several_things(text: str, several: bool) -> None:
    assert analyse(text).several is several


@pytest.mark.parametrize(
    ("text", "other"),
    [
        ("¿Quién ganó el maratón de Riverton esta semana?", True),
        ("Qui a gagné le marathon de Riverton cette semaine?", True),
        ("Кто выиграл марафон?", True),
        ("Who won the marathon in Riverton this week?", False),
        ("Where is the café?", False),
    ],
)
def test_another_language_is_noticed(text: str, other: bool) -> None:
    assert looks_non_english(text) is other
