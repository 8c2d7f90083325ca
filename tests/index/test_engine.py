"""The engine the CLI and the bot share: questions as asked, as_of, and reopening new indexes."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import MAX_QUESTION_CHARS, Engine, clean_question, fit_question
from index.errors import QuestionError
from index.settings import EngineSettings
from tests.conftest import FIXTURES, FakeEmbedder


def settings(root: Path) -> EngineSettings:
    return EngineSettings(articles_dir=root / "articles", data_dir=root / "data")


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    """The real model over the four fixture articles (one of them undated)."""
    root = tmp_path_factory.mktemp("engine")
    shutil.copytree(FIXTURES / "articles", root / "articles")
    engine = Engine(settings(root), embedder=real_embedder)
    assert engine.reindex().added == 4
    return engine


def test_text_that_is_not_unicode_is_replaced_not_fatal() -> None:
    # A lone surrogate: what Python makes of undecodable bytes, and what a Discord client can send.
    assert clean_question("Who found\udce9 the\x00 comet?\u200b ") == "Who found\ufffd the comet?"
    with pytest.raises(QuestionError, match="empty"):
        clean_question(" \x00\u200b\n")


def test_a_question_with_a_lone_surrogate_is_answered(engine: Engine) -> None:
    answer = engine.ask("Who found the comet\ud800?")
    assert "Rosa Delgado" in answer.text


def test_a_long_question_keeps_its_end_where_the_ask_is(engine: Engine) -> None:
    preamble = "My neighbour keeps talking about the weather and the garden fence. " * 80
    question = preamble + "How much did the harbour bridge repair cost?"
    assert len(question) > 5 * MAX_QUESTION_CHARS
    answer = engine.ask(question)
    assert answer.question.endswith("How much did the harbour bridge repair cost?")
    assert len(answer.question) <= MAX_QUESTION_CHARS
    assert not answer.abstained and "48 million euros" in answer.text


def test_a_question_is_cut_to_what_the_model_reads_at_a_word() -> None:
    embedder = FakeEmbedder()  # one word piece per word or mark, 254 at most
    question = " ".join(f"w{i}" for i in range(400))
    fitted = fit_question(question, embedder)
    assert question.endswith(fitted) and fitted.startswith("w146 ")
    assert embedder.count_tokens([fitted]) == [embedder.max_tokens]
    assert fit_question("short question?", embedder) == "short question?"


def test_a_question_without_spaces_is_cut_inside_its_one_word() -> None:
    embedder = FakeEmbedder()
    question = "-" * 1000  # 1,000 punctuation marks: 1,000 word pieces and no word boundary
    assert fit_question(question, embedder) == "-" * embedder.max_tokens


def test_as_of_leaves_out_later_articles_but_keeps_undated_ones(engine: Engine) -> None:
    question = "Which library lends robots to children?"
    used = {p.chunk.article_id for p in engine.search(question, k=10, as_of=date(2024, 4, 1))}
    assert used == {"harbour-bridge", "wheat-harvest", "comet-sighting"}  # robots: 2024-05-02
    answer = engine.ask("Who found the comet?", as_of=date(2024, 4, 1))
    assert "Rosa Delgado" in answer.text  # the comet article has no date


def test_as_of_after_every_article_changes_nothing(engine: Engine) -> None:
    question = "Which library lends robots to children?"
    unfiltered = engine.search(question, k=10)
    later = engine.search(question, k=10, as_of=date(2100, 1, 1))
    assert [p.chunk.id for p in later] == [p.chunk.id for p in unfiltered]
    assert engine.retriever().newest_published == "2024-05-02"


def test_a_new_generation_is_used_without_a_restart(tmp_path: Path) -> None:
    """A reindex by this engine, or by another process, is seen by the next question."""
    shutil.copytree(FIXTURES / "articles", tmp_path / "articles")
    engine = Engine(settings(tmp_path), embedder=FakeEmbedder())
    engine.reindex()
    first = engine.status()
    assert (first.articles, first.generation) == (4, 1)
    assert "otters" not in {a.id for a in engine.articles()}

    (tmp_path / "articles" / "otters.txt").write_text(
        "Otters return to the river\nA family of otters was seen in the river for the first time"
        " in forty years, the water board said on Monday.\n"
    )
    other = Engine(settings(tmp_path), embedder=FakeEmbedder())  # say, `citebot index`
    other.reindex()
    assert engine.status().generation == 2
    passages = engine.search("Where were the otters seen?", k=1)
    assert passages[0].chunk.article_id == "otters"
