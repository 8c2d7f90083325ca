"""Hybrid retrieval (index/answer/retrieval.py) over a small index built with the fake
embedder: rankings checked against brute force, filters, near-duplicates, the three modes."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from index.answer.retrieval import Filters, Mode
from index.embed.embedder import passage_for_embedding
from index.engine import Engine
from index.ingest.chunking import max_chunk_chars
from index.settings import EngineSettings
from tests.conftest import FIXTURES, FakeEmbedder

OTTERS = "Otters return to the river\nA family of otters was seen in the river again.\n"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The four fixture articles, an undated one, and the same story under two names."""
    root = tmp_path_factory.mktemp("retrieval")
    shutil.copytree(FIXTURES / "articles", root / "articles")
    (root / "articles" / "otters.txt").write_text(OTTERS)
    (root / "articles" / "otters-again.txt").write_text(OTTERS)  # a copy, as syndication does
    settings = EngineSettings(
        _env_file=None, articles_dir=root / "articles", data_dir=root / "data"
    )
    engine = Engine(settings, embedder=FakeEmbedder())
    assert engine.reindex().added == 6
    return engine


def cosine(engine: Engine, question: str, title: str, text: str) -> float:
    vectors = engine.embedder.embed([question, passage_for_embedding(title, text, engine.embedder)])
    return float(vectors[0] @ vectors[1])


def test_dense_ranking_is_the_brute_force_ranking(engine: Engine) -> None:
    question = "How many robots did the library buy for children?"
    every = engine.search(question, k=50, mode=Mode.DENSE)
    assert len(every) == 5  # every chunk but the duplicate otters one
    brute = sorted(every, key=lambda p: -cosine(engine, question, p.chunk.title, p.chunk.text))
    top = engine.search(question, k=3, mode=Mode.DENSE)
    assert [p.chunk.id for p in top] == [p.chunk.id for p in brute[:3]]
    for passage in top:
        assert passage.dense == pytest.approx(
            cosine(engine, question, passage.chunk.title, passage.chunk.text), abs=2e-3
        )  # float16 storage


def test_hybrid_passages_are_ranked_with_both_scores(engine: Engine) -> None:
    passages = engine.search("harbour bridge repair cost", k=4)
    assert [p.rank for p in passages] == [1, 2, 3, 4]
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert passages[0].chunk.article_id == "harbour-bridge"
    assert passages[0].lexical > 0 and passages[0].dense > 0


def test_lexical_mode_ranks_by_the_words_themselves(engine: Engine) -> None:
    (first, *_) = engine.search("Rosa Delgado comet", k=3, mode=Mode.LEXICAL)
    assert first.chunk.article_id == "comet-sighting" and first.dense != 0  # both scores given


def test_near_duplicate_passages_are_collapsed(engine: Engine) -> None:
    passages = engine.search("Where were the otters seen?", k=5)
    otters = [p.chunk.article_id for p in passages if p.chunk.article_id.startswith("otters")]
    assert len(otters) == 1


def test_filters_by_outlet_and_date(engine: Engine) -> None:
    question = "news"
    by_outlet = engine.search(question, k=10, filters=Filters(source="port gazette"))
    assert {p.chunk.article_id for p in by_outlet} == {"harbour-bridge"}
    in_2024 = engine.search(
        question, k=10, filters=Filters(since=date(2024, 1, 1), until=date(2024, 12, 31))
    )
    assert {p.chunk.article_id for p in in_2024} == {"harbour-bridge", "library-robots"}
    as_of = engine.search(question, k=10, filters=Filters(as_of=date(2024, 4, 1)))
    assert "library-robots" not in {p.chunk.article_id for p in as_of}
    undated = {p.chunk.article_id.removesuffix("-again") for p in as_of}
    assert {"comet-sighting", "otters"} <= undated  # undated articles stay
    assert engine.search(question, k=10, filters=Filters(source="Nobody's Herald")) == []


def test_k_is_the_most_passages_returned(engine: Engine) -> None:
    for k in (1, 2, 5):
        assert len(engine.search("river harbour library comet wheat", k=k)) == k
    assert len(engine.search("river", k=50)) == 5  # all there is, duplicates collapsed


def test_merged_passages_stay_within_the_chunk_budget(tmp_path: Path) -> None:
    """Issue 15, item 5: a 2 MB "word" is cut into chunks of the budget in characters, and
    merging adjacent chunks must not glue them back together (it returned 160,000 characters
    of a blob in one passage). Ordinary adjacent chunks still merge within the budget."""
    (tmp_path / "articles").mkdir()
    blob = "".join(chr(ord("a") + (i * 7919) % 26) for i in range(40_000))  # no spaces
    (tmp_path / "articles" / "blob.txt").write_text(
        f"Blob report\nThe blob begins here. {blob} The blob ends here.\n"
    )
    story = " ".join(f"On day {n} the ferry to the island carried {n} riders." for n in range(60))
    (tmp_path / "articles" / "ferry.txt").write_text(f"Ferry log\n{story}\n")
    settings = EngineSettings(
        _env_file=None, articles_dir=tmp_path / "articles", data_dir=tmp_path / "data"
    )
    engine = Engine(settings, embedder=FakeEmbedder())
    assert engine.reindex().added == 2
    budget = max_chunk_chars(settings.chunk_tokens)

    for question in ("Where does the blob begin and end?", "How many riders did the ferry carry?"):
        passages = engine.search(question, k=5)
        assert passages and max(len(p.chunk.text) for p in passages) <= budget, question
    ferry = engine.search("How many riders did the ferry to the island carry?", k=5)
    (log,) = [p for p in ferry if p.chunk.article_id == "ferry"]
    assert log.chunk.text == story  # the ferry log's four chunks are still one passage
