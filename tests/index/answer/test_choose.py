"""The sentence chooser's preferences, on hand-made scores (no model, no index)."""

from __future__ import annotations

import numpy as np

from index.answer import choose
from index.answer.choose import Ranked, chosen
from index.answer.question import analyse
from index.answer.retrieval import Passage
from index.answer.sentences import Candidate
from index.store.database import ChunkRecord

QUESTION = analyse("What happened to the bridge?")


def passage(rank: int, article: str, start: int, text: str, published: str | None) -> Passage:
    chunk = ChunkRecord(
        rank, article, start, start + len(text), text, "A title", None, None, published
    )
    return Passage(rank=rank, chunk=chunk, score=1.0, dense=0.5, lexical=1.0)


def ranked(*scored: tuple[Passage, int, float]) -> Ranked:
    """Candidates (one sentence at `offset` of each passage's text) with given relevance."""
    candidates = []
    for p, offset, _ in scored:
        end = min(i for i in (p.chunk.text.find(c, offset) for c in ".?") if i >= 0) + 1
        text = p.chunk.text[offset:end]
        candidates.append(Candidate(p, p.chunk.start + offset, p.chunk.start + end, text, True))
    relevance = np.array([r for *_, r in scored])
    return Ranked(candidates, relevance.copy(), relevance, list(np.argsort(-relevance)))


def first_quote(r: Ranked) -> str:
    return chosen(QUESTION, r, 600)[0][0].text


def test_a_sentence_of_the_newest_article_read_comes_first_when_close() -> None:
    older = passage(1, "old", 0, "The bridge was closed for repairs in spring.", "2023-03-01")
    newer = passage(2, "new", 0, "The bridge reopened to traffic on Friday.", "2023-06-09")
    close = ranked((older, 0, 1.0), (newer, 0, 1.0 - choose.W_NEWEST / 2))
    assert first_quote(close).startswith("The bridge reopened")
    far = ranked((older, 0, 1.0), (newer, 0, 1.0 - 2 * choose.W_NEWEST))
    assert first_quote(far).startswith("The bridge was closed")


def test_undated_articles_get_no_recency_bonus() -> None:
    undated = passage(1, "undated", 0, "The bridge was closed for repairs in spring.", None)
    dated = passage(2, "dated", 0, "The bridge reopened to traffic on Friday.", "2023-06-09")
    r = ranked((undated, 0, 1.0), (dated, 0, 1.0 - choose.W_NEWEST / 2))
    assert first_quote(r).startswith("The bridge reopened")  # the dated one is the newest
    both_undated = passage(2, "dated", 0, "The bridge reopened to traffic on Friday.", None)
    r = ranked((undated, 0, 1.0), (both_undated, 0, 1.0 - choose.W_NEWEST / 2))
    assert first_quote(r).startswith("The bridge was closed")


def test_the_sentence_opening_its_article_comes_first_when_close() -> None:
    text = "The bridge reopened on Friday. " + "Filler words here. " * 30 + "It cost a lot."
    later = len(text) - len("It cost a lot.")
    assert later >= choose.LEAD_CHARS
    p = passage(1, "a", 0, text, None)
    assert first_quote(ranked((p, later, 1.0), (p, 0, 1.0 - choose.W_LEAD / 2))).startswith(
        "The bridge reopened"
    )
    assert first_quote(ranked((p, later, 1.0), (p, 0, 1.0 - 2 * choose.W_LEAD))).startswith(
        "It cost a lot"
    )


def quotes(question: str, r: Ranked) -> list[str]:
    return [c.text for c, _ in chosen(analyse(question), r, 600)]


STORY = "The Bucks beat the Suns on Sunday. It was their 50th win. Fans cheered. "


def test_a_best_sentence_referring_back_is_quoted_with_the_one_before() -> None:
    p = passage(1, "a", 0, STORY, None)
    r = ranked((p, 0, 0.2), (p, STORY.index("It was"), 1.0), (p, STORY.index("Fans"), 0.1))
    assert quotes("Which team won its 50th game?", r)[0] == (
        "The Bucks beat the Suns on Sunday. It was their 50th win."
    )


def test_other_best_sentences_are_quoted_with_the_one_after() -> None:
    text = "The Suns lost on Sunday. Bucks fans cheered the 50th win. It was loud. "
    p = passage(1, "a", 0, text, None)
    r = ranked((p, 0, 0.2), (p, text.index("Bucks"), 1.0), (p, text.index("It was"), 0.1))
    assert quotes("Which team won its 50th game?", r)[0] == (
        "Bucks fans cheered the 50th win. It was loud."
    )


def test_the_kind_asked_for_refers_back() -> None:
    text = "Everything Everywhere All at Once led the field. The picture scored 11 nominations. "
    p = passage(1, "a", 0, text, None)
    r = ranked((p, 0, 0.2), (p, text.index("The picture"), 1.0))
    # "The picture" refers back only when a picture is what the question asks for
    assert quotes("Which picture scored the most nominations?", r)[0].startswith("Everything")
    assert quotes("How many nominations did the picture score?", r)[0].startswith("The picture")


def test_a_sentence_already_quoted_from_another_article_is_not_quoted_again() -> None:
    text = "The Bucks are the first team to reach 50 wins this season."
    first = passage(1, "a", 0, text, None)
    copy = passage(2, "b", 0, text, None)
    other = passage(3, "c", 0, "The Bucks clinched a playoff spot on Sunday.", None)
    r = ranked((first, 0, 1.0), (copy, 0, 0.95), (other, 0, 0.9))
    assert quotes("Which team reached 50 wins first?", r) == [
        text,
        "The Bucks clinched a playoff spot on Sunday.",
    ]


def test_a_sentence_that_is_itself_a_question_is_not_quoted() -> None:
    quiz = passage(1, "quiz", 0, "Which team reached 50 wins first this season?", None)
    report = passage(2, "report", 0, "The Bucks reached 50 wins on Sunday.", None)
    r = ranked((quiz, 0, 1.0), (report, 0, 0.6))
    assert quotes("Which team reached 50 wins first this season?", r) == [
        "The Bucks reached 50 wins on Sunday."
    ]


def test_a_question_is_quoted_when_nothing_else_may_be() -> None:
    quiz = passage(1, "quiz", 0, "Which team reached 50 wins first this season?", None)
    assert quotes("Which team reached 50 wins first?", ranked((quiz, 0, 1.0))) == [
        "Which team reached 50 wins first this season?"
    ]
