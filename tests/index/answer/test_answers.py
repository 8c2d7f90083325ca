"""Answers from a real index (bundled model, FAISS, BM25, SQLite) of the fixture articles."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from index.answer.compose import (
    MAX_QUOTE_CHARS,
    NOT_COVERED,
    answer_as_json,
    compose_answer,
)
from index.answer.confidence import ABSTAIN_BELOW, CHECKED
from index.answer.retrieval import Filters, prepare_query
from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from index.errors import IndexMissingError, QuestionError
from index.settings import EngineSettings
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    root = tmp_path_factory.mktemp("answers")
    shutil.copytree(FIXTURES / "articles", root / "articles")
    engine = Engine(
        EngineSettings(articles_dir=root / "articles", data_dir=root / "data"),
        embedder=real_embedder,
    )
    report = engine.reindex()
    assert report.added == 4
    return engine


def article_text(engine: Engine, article_id: str) -> str:
    text = engine.retriever().snapshot.article_text(article_id)
    assert text is not None
    return text


def test_answer_quotes_the_right_article_verbatim(engine: Engine) -> None:
    answer = engine.ask("How much did the harbour bridge repair cost?")
    assert not answer.abstained
    assert "48 million euros" in answer.text
    assert answer.sources[0].url == "https://example.org/news/harbour-bridge-reopens"
    assert answer.sources[0].source == "Port Gazette"
    assert answer.sources[0].published == "2024-03-14"
    for quote in answer.quotes:
        assert article_text(engine, quote.article_id)[quote.start : quote.end] == quote.text
    assert sum(len(q.text) for q in answer.quotes) <= MAX_QUOTE_CHARS


def test_citation_numbers_are_consistent(engine: Engine) -> None:
    answer = engine.ask("What did the drought do to wheat and who discovered the comet?")
    numbers = [s.n for s in answer.sources]
    assert numbers == list(range(1, len(numbers) + 1))
    by_article = {s.article_id: s.n for s in answer.sources}
    assert len(by_article) == len(answer.sources)  # one number per article
    for quote in answer.quotes:
        assert by_article[quote.article_id] == quote.n
        assert f"[{quote.n}]" in answer.text
    # First appearance order: the first quote cites [1].
    assert answer.quotes[0].n == 1


def test_off_topic_question_abstains(engine: Engine) -> None:
    answer = engine.ask("Which team won the 1998 FIFA World Cup final in Paris?")
    assert answer.abstained
    assert answer.text == f"{NOT_COVERED} No article mentions FIFA, World Cup, Paris or 1998."
    assert answer.quotes == [] and answer.sources == []
    assert answer.passages  # the closest passages are still available to show


def test_source_filter(engine: Engine) -> None:
    question = "What happened this year?"
    answer = engine.ask(question, filters=Filters(source="farm weekly"))
    assert {p.chunk.article_id for p in answer.passages} == {"wheat-harvest"}
    none = engine.search(question, filters=Filters(source="No Such Outlet"))
    assert none == []


def test_date_filters(engine: Engine) -> None:
    since = engine.search("news", k=10, filters=Filters(since=date(2024, 4, 1)))
    assert {p.chunk.article_id for p in since} == {"library-robots"}
    until = engine.search("news", k=10, filters=Filters(until=date(2024, 3, 31)))
    assert {p.chunk.article_id for p in until} == {"harbour-bridge", "wheat-harvest"}
    window = engine.search(
        "news", k=10, filters=Filters(since=date(2024, 3, 1), until=date(2024, 3, 31))
    )
    assert {p.chunk.article_id for p in window} == {"harbour-bridge"}


def test_as_of_leaves_out_articles_published_later(engine: Engine) -> None:
    question = "Which library lends robots to children?"
    assert "library-robots" in {p.chunk.article_id for p in engine.search(question, k=10)}
    before = engine.ask(question, k=10, as_of=date(2024, 4, 1))
    assert before.as_of == date(2024, 4, 1)
    assert "library-robots" not in {p.chunk.article_id for p in before.passages}
    assert all(q.article_id != "library-robots" for q in before.quotes)
    narrower = engine.search(
        question, k=10, filters=Filters(until=date(2024, 12, 31)), as_of=date(2024, 4, 1)
    )
    assert {p.chunk.article_id for p in narrower} == {"harbour-bridge", "wheat-harvest"}


def test_empty_question_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(QuestionError, match="empty"):
        engine.ask("   \n ")


def test_huge_question_is_truncated_not_fatal(engine: Engine) -> None:
    question = "How much did the harbour bridge repair cost? " + "blah " * 2000
    assert len(question) > 10_000
    answer = engine.ask(question)
    assert len(answer.question) <= 1000
    assert answer.passages  # retrieval still ran


def test_json_shape(engine: Engine) -> None:
    data = answer_as_json(engine.ask("How many robots did the library buy?", k=3))
    assert set(data) == {
        "question", "answer", "abstained", "quotes", "sources", "passages", "confidence", "as_of",
        "notes", "reason",
    }  # fmt: skip
    assert len(data["passages"]) == 3
    assert set(data["quotes"][0]) == {
        "n", "text", "article_id", "title", "url", "source", "published", "start", "end", "score"
    }  # fmt: skip
    assert set(data["passages"][0]) == {
        "rank", "chunk_id", "article_id", "title", "url", "source", "published", "text", "start",
        "end", "score", "dense", "lexical", "also",
    }  # fmt: skip
    assert "40 robots" in data["answer"]


def test_empty_index_gives_a_clear_message(
    tmp_path: Path, real_embedder: SentenceTransformerEmbedder
) -> None:
    (tmp_path / "articles").mkdir()
    engine = Engine(
        EngineSettings(articles_dir=tmp_path / "articles", data_dir=tmp_path / "data"),
        embedder=real_embedder,
    )
    with pytest.raises(IndexMissingError, match="citebot index"):
        engine.ask("Anything?")
    engine.reindex()
    with pytest.raises(IndexMissingError, match="no articles"):
        engine.ask("Anything?")


class CountingEmbedder:
    """The real model, counting the texts it embeds."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed(self, texts: list[str], **kwargs: object) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed(texts)


@pytest.mark.parametrize(
    ("question", "answered"),
    [("How much did the harbour bridge repair cost?", True), ("Who painted the Mona Lisa?", False)],
)
def test_confidence_stops_checking_once_sure_with_the_same_decision(
    engine: Engine, real_embedder: SentenceTransformerEmbedder, question: str, answered: bool
) -> None:
    retriever = engine.retriever()
    query = prepare_query(question, real_embedder)
    passages = retriever.search(query, k=5)
    early, full = CountingEmbedder(real_embedder), CountingEmbedder(real_embedder)
    answer = compose_answer(query, passages, retriever.lexical, early)  # type: ignore[arg-type]
    # An unreachable threshold makes it check all CHECKED best sentences:
    everything = compose_answer(query, passages, retriever.lexical, full, abstain_below=9.0)  # type: ignore[arg-type]
    assert len(full.texts) == CHECKED
    assert answer.abstained is not answered
    assert answer.abstained == (everything.confidence < ABSTAIN_BELOW)
    if answered:
        assert len(early.texts) == 1  # the best sentence was enough
        assert ABSTAIN_BELOW <= answer.confidence <= everything.confidence + 1e-6
    else:
        assert early.texts == full.texts
        assert answer.confidence == pytest.approx(everything.confidence)
