"""Answers that hold up on news: the date of asking, the answering sentence first, honest notes.

The fixture articles in tests/fixtures/news/ were written for these tests (invented places and
people): two marathons years apart, a bridge in Malmö (never Stockholm), two broken records, a
syndicated copy of one of them, a Markdown article with headings, a byline, a list and a photo
credit, and a .txt whose first lines are a repeated title and a photo credit.
"""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest

from index.answer.compose import NOT_COVERED, Answer
from index.answer.notes import NON_ENGLISH
from index.answer.retrieval import Filters
from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from index.settings import EngineSettings
from tests.conftest import FIXTURES

ASKED: list[Answer] = []  # every answer of this module, checked for headings at the end


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    root = tmp_path_factory.mktemp("news")
    shutil.copytree(FIXTURES / "news", root / "articles")
    engine = Engine(
        EngineSettings(articles_dir=root / "articles", data_dir=root / "data"),
        embedder=real_embedder,
    )
    assert engine.reindex().added == len(list((FIXTURES / "news").iterdir()))
    return engine


def ask(engine: Engine, question: str, **kwargs: object) -> Answer:
    answer = engine.ask(question, **kwargs)  # type: ignore[arg-type]
    ASKED.append(answer)
    return answer


def cited(answer: Answer) -> list[str]:
    return [q.article_id for q in answer.quotes]


def test_as_of_leaves_out_articles_published_later(engine: Engine) -> None:
    answer = ask(engine, "Who won the Riverton marathon this week?", as_of=date(2023, 5, 1))
    assert not answer.abstained
    assert set(cited(answer)) == {"marathon-2021"}
    assert "Grace Mutai" in answer.quotes[0].text
    assert all(p.chunk.article_id != "marathon-2024" for p in answer.passages)
    # The freshest evidence is two years older than the date of asking: the answer says so.
    assert any(n.startswith("As of 2021-04-18") for n in answer.notes)


def test_a_question_about_this_week_prefers_the_recent_article(engine: Engine) -> None:
    answer = ask(engine, "Who won the Riverton marathon this week?", as_of=date(2024, 4, 23))
    assert cited(answer)[0] == "marathon-2024"
    assert "Ana Lopes" in answer.quotes[0].text
    assert not any(n.startswith("As of") for n in answer.notes)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When does the lantern festival end?", "14 August"),
        ("Who proposed the ferry plan?", "Amira Haddad"),
        ("How many ferry crossings will there be under the plan?", "14 a day"),
    ],
)
def test_the_answering_sentence_comes_first(engine: Engine, question: str, expected: str) -> None:
    answer = ask(engine, question, as_of=date(2024, 9, 1))
    assert not answer.abstained
    assert expected in answer.quotes[0].text


@pytest.mark.parametrize(
    ("question", "first"),
    [
        (
            "The harbour council debated the ferry timetable and its cost for a long time on "
            "Tuesday. Who proposed the motion?",
            "The motion was proposed by councillor Amira Haddad.",
        ),
        (
            "Organisers say the old town's lantern festival, which opened with a parade of paper "
            "dragons, will be bigger than ever. Until when does it run?",
            "The festival runs until 14 August.",
        ),
    ],
)
def test_after_a_story_the_sentence_answering_the_ask_comes_first(
    engine: Engine, question: str, first: str
) -> None:
    # The story's words match the sentence before the answer better than the answer does.
    answer = ask(engine, question, as_of=date(2024, 9, 1))
    assert not answer.abstained
    assert answer.quotes[0].text.startswith(first)


def test_a_place_no_article_mentions_is_said(engine: Engine) -> None:
    answer = ask(engine, "How much does the new bridge in Stockholm cost?", as_of=date(2024, 7, 1))
    assert "No article mentions Stockholm." in answer.notes
    assert "No article mentions Stockholm." in answer.text
    assert all("Stockholm" not in q.text for q in answer.quotes)


def test_several_answers_come_from_several_articles(engine: Engine) -> None:
    answer = ask(engine, "Which records were broken?", as_of=date(2024, 8, 1))
    assert not answer.abstained
    assert {"sprint-record"} <= set(cited(answer))
    assert set(cited(answer)) & {"heat-record", "heat-record-copy"}


def test_a_syndicated_copy_counts_once_and_is_named(engine: Engine) -> None:
    answer = ask(engine, "How hot did it get in Valdora?", as_of=date(2024, 8, 1))
    heat = [s for s in answer.sources if s.article_id in ("heat-record", "heat-record-copy")]
    assert len(heat) == 1
    other = "Coastal Post" if heat[0].article_id == "heat-record" else "Southern Herald"
    assert heat[0].also == (other,)
    copies = [p for p in answer.passages if p.chunk.title.startswith("Valdora swelters")]
    assert len(copies) == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(source="No Such Outlet"), "No indexed article is from No Such Outlet"),
        (Filters(since=date(2030, 1, 1)), "No indexed article is published on or after 2030"),
    ],
)
def test_a_filter_that_matches_nothing_says_so(
    engine: Engine, filters: Filters, expected: str
) -> None:
    answer = ask(engine, "Who won the Riverton marathon?", filters=filters)
    assert answer.abstained
    assert answer.text.startswith(expected)
    assert NOT_COVERED not in answer.text


def test_as_of_keeps_undated_articles(engine: Engine) -> None:
    answer = ask(engine, "Where will the next round of water talks be?", as_of=date(2020, 1, 1))
    assert {p.chunk.article_id for p in answer.passages} == {"peace-talks"}  # the undated .txt
    assert not answer.abstained
    assert "Vienna" in answer.quotes[0].text


def test_a_question_in_another_language_gets_a_note(engine: Engine) -> None:
    answer = ask(engine, "¿Quién ganó el maratón de Riverton esta semana?", as_of=date(2024, 5, 1))
    assert NON_ENGLISH in answer.notes


def test_headings_bylines_credits_titles_and_markdown_are_never_quoted(engine: Engine) -> None:
    for question in (
        "What to expect at the lantern festival?",
        "Who wrote the lantern festival article?",
        "Envoys meet in Geneva to revive stalled water talks",
        "Malmö opens its new cycling bridge over the harbour",
        "Where is the Malmö bridge photo from?",
        "What tickets and parade times does the lantern festival have?",
    ):
        ask(engine, question, as_of=date(2024, 9, 1))
    titles = {a.title for a in engine.articles()}
    quotes = [q for answer in ASKED for q in answer.quotes]
    assert len(quotes) > 10
    for quote in quotes:
        text = quote.text.strip()
        assert text not in titles, text
        assert not re.match(r"(#|[-*+] |By [A-Z])", text), text
        assert "©" not in text and "Photo:" not in text, text
        assert "**" not in text and "](" not in text, text
        assert "\n" not in quote.display


def test_a_quote_over_a_paragraph_break_reads_as_one_line(engine: Engine) -> None:
    answer = ask(engine, "What happened at the Riverton marathon in 2024?", as_of=date(2024, 5, 1))
    for quote in answer.quotes:
        assert quote.display == " ".join(quote.text.split())
    assert all("\n" not in part for part in answer.text.split("”"))
