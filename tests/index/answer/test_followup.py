"""Follow-up questions: which questions are read with the conversation, and what that changes."""

from __future__ import annotations

import numpy as np
import pytest

from index.answer.followup import (
    CONTEXT_QUESTIONS,
    MAX_CONTEXT_CHARS,
    Turn,
    needs_context,
    pointed_source,
    prefer_articles,
    read_question,
)
from index.answer.retrieval import Passage
from index.engine import Engine
from index.store.generations import ChunkRecord

BRIDGE = Turn(
    "When did the harbour bridge reopen?",
    ("When did the harbour bridge reopen?",),
    ("harbour-bridge",),
)


@pytest.mark.parametrize(
    "question",
    [
        "when did it open?",
        "How much did that cost?",
        "Where is that bridge?",
        "Who paid for them?",
        "what happened there?",
        "tell me more about the second one",
        "what does [2] say about the ferries?",
        "why?",
        "and the toll?",
        "Who paid?",
        "and how long can a child keep one?",
    ],
)
def test_questions_that_refer_back_or_are_short_need_the_conversation(question: str) -> None:
    assert needs_context(question)


@pytest.mark.parametrize(
    "question",
    [
        "Who discovered the comet?",
        "Is it true that the comet was found in Tasmania?",
        "Are there robots for adults at the library?",
        "How much did the harbour bridge repair cost?",
        "What did the mayor say that the toll would be?",
        "Is one robot enough for a class of children?",
    ],
)
def test_questions_that_stand_on_their_own_do_not(question: str) -> None:
    assert not needs_context(question)


def test_a_follow_up_is_read_with_the_earlier_question_and_prefers_what_it_cited() -> None:
    reading = read_question("  when did   it open? ", [BRIDGE])
    assert reading.is_follow_up and reading.after == BRIDGE
    assert reading.question == "when did it open?"
    assert reading.retrieval_question == "When did the harbour bridge reopen? when did it open?"
    assert reading.prefer == ("harbour-bridge",)
    assert reading.turn(["harbour-bridge"]).context == reading.context


def test_a_question_that_stands_alone_ignores_the_conversation() -> None:
    reading = read_question("Who discovered the comet?", [BRIDGE])
    assert not reading.is_follow_up and reading.prefer == ()
    assert reading.retrieval_question == "Who discovered the comet?"


def test_without_an_earlier_turn_nothing_is_a_follow_up() -> None:
    assert not read_question("why?", []).is_follow_up


def test_the_context_keeps_the_last_few_questions_and_fits_the_engine() -> None:
    turns = [BRIDGE]
    for question in ["why was it closed?", "who said so?", "and then?", "what about it?"]:
        reading = read_question(question, turns)
        turns.append(reading.turn(["harbour-bridge"]))
    assert turns[-1].context == ("who said so?", "and then?", "what about it?")
    assert len(turns[-1].context) == CONTEXT_QUESTIONS
    long = Turn("x " * 600, ("x " * 600,), ())
    reading = read_question("and why?", [long])
    assert reading.retrieval_question == "and why?"  # the earlier one does not fit
    assert len(read_question("why?", [BRIDGE]).retrieval_question) <= MAX_CONTEXT_CHARS


def test_the_second_one_points_at_the_second_source() -> None:
    last = Turn("robots and wheat?", cited=("library-robots", "wheat-harvest"))
    assert read_question("tell me more about the second one", [last]).prefer == ("wheat-harvest",)
    assert read_question("what does source 1 say?", [last]).prefer == ("library-robots",)
    assert read_question("and the last one?", [last]).prefer == ("wheat-harvest",)
    assert pointed_source("the third one", 2) is None
    assert read_question("why?", [last]).prefer == last.cited


def passage(rank: int, article_id: str, score: float) -> Passage:
    chunk = ChunkRecord(rank, article_id, 0, 1, "x", article_id, None, None, None)
    return Passage(rank, chunk, score, score, np.float32(0))


def test_preferred_articles_rise_but_scores_stay() -> None:
    passages = [passage(1, "a", 0.9), passage(2, "b", 0.8), passage(3, "c", 0.5)]
    ranked = prefer_articles(passages, ["b"], 2)
    assert [(p.rank, p.chunk.article_id, p.score) for p in ranked] == [(1, "b", 0.8), (2, "a", 0.9)]
    assert prefer_articles(passages, ["c"], 3)[0].chunk.article_id == "a"  # 0.65 < 0.9
    assert prefer_articles(passages, [], 2) == passages[:2]


def test_a_follow_up_is_answered_from_the_article_of_the_conversation(
    fixture_engine: Engine,
) -> None:
    alone = fixture_engine.ask("when did it open?")
    answer, reading = fixture_engine.ask_after("when did it open?", [BRIDGE])
    assert alone.abstained  # on its own the question says too little
    assert reading.is_follow_up and not answer.abstained
    assert answer.question == "when did it open?"
    assert [s.article_id for s in answer.sources] == ["harbour-bridge"]
    assert "reopened to traffic on Thursday" in answer.text


def test_a_follow_up_about_what_was_cited_uses_its_passages(fixture_engine: Engine) -> None:
    robots = Turn("How many robots did the library buy?", cited=("library-robots",))
    answer, _ = fixture_engine.ask_after("who paid for them?", [robots])
    assert "grant from the regional education fund" in answer.text
    assert fixture_engine.ask("who paid for them?").abstained


def test_a_new_topic_in_a_conversation_is_answered_on_its_own(fixture_engine: Engine) -> None:
    answer, reading = fixture_engine.ask_after("Who discovered the comet?", [BRIDGE])
    assert not reading.is_follow_up
    assert [s.article_id for s in answer.sources] == ["comet-sighting"]
    assert answer.text == fixture_engine.ask("Who discovered the comet?").text
