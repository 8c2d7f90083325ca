"""Irregular past forms for "did" questions: "When did the crisis begin?" -> "began"."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from index.answer.choose import rank
from index.answer.coverage import TermWeights
from index.answer.question import analyse
from index.answer.retrieval import Passage, Query
from index.answer.verbs import past_forms
from index.store.database import ChunkRecord
from index.store.lexical import LexicalIndex, terms

ANSWER = "The oil crisis began in October 1973 when producers proclaimed an embargo."
ASIDE = "Long lines formed at gas stations in the oil crisis, beginning in summer 1972."
LEXICAL = LexicalIndex.build(
    [1, 2, 3], [ANSWER, ASIDE, "The bridge reopened to traffic on Friday after repairs."]
)


def test_only_questions_asking_with_did_get_past_forms() -> None:
    assert past_forms("When did the oil crisis begin?") == (
        ("begin", frozenset({"began", "begun"})),
    )
    assert dict(past_forms("When does the season begin?"))["begin"] == {"began", "begun"}
    assert dict(past_forms("Who did she write the song with?"))["write"] == {"wrote", "written"}
    assert past_forms("When will the season begin?") == ()
    assert past_forms("Who wrote the anthem?") == ()  # already in the past: matched as it is


def test_a_past_form_covers_the_base_verb_of_a_did_question() -> None:
    question = analyse("When did the oil crisis begin?")
    plain = TermWeights(terms(question.text), LEXICAL)
    with_forms = TermWeights(terms(question.text), LEXICAL, question.past_forms)
    assert plain.of(ANSWER) < 1.0
    assert with_forms.of(ANSWER) == 1.0
    assert with_forms.of(ASIDE) == plain.of(ASIDE) == 1.0  # "beginning" was always found


def passage(rank: int, text: str) -> Passage:
    chunk = ChunkRecord(rank, f"a{rank}", 0, len(text), text, "A title", None, None, None)
    return Passage(rank=rank, chunk=chunk, score=1.0, dense=0.5, lexical=1.0)


def test_the_sentence_saying_began_ranks_first() -> None:
    text = "When did the oil crisis begin?"
    query = Query(text, np.zeros(3, np.float32), terms(text), analyse(text))
    passages = [passage(1, ANSWER), passage(2, ASIDE)]
    ranked = rank(query, passages, LEXICAL)
    assert ranked is not None
    assert ranked.candidates[ranked.by_relevance[0]].text == ANSWER
    # Without the past forms, "beginning" wins over "began" (the demo's first answer did so).
    bare = replace(query, question=replace(query.question, past_forms=()))
    ranked = rank(bare, passages, LEXICAL)
    assert ranked is not None
    assert ranked.candidates[ranked.by_relevance[0]].text == ASIDE
