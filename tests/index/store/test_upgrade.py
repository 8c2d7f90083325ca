"""A format-1 data directory (written by the previous citebot) keeps answering, and the next
reindex upgrades it to format 2 without embedding any unchanged chunk again."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.answer.retrieval import Retriever, prepare_query
from index.progress import WRITING, Progress
from index.store.generations import current_generation, open_snapshot
from index.store.indexer import index_params, update_index
from index.store.layout import FORMAT_VERSION
from tests.conftest import DEMO_ARTICLES, FIXTURES, FakeEmbedder

FORMAT1 = FIXTURES / "format1"
QUESTION = "When did the harbour bridge reopen after the repair?"


@pytest.fixture
def old_index(tmp_path: Path) -> tuple[Path, Path]:
    """(articles, data): the folder the flat fixture was built from, and a copy of it."""
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    shutil.copytree(DEMO_ARTICLES, articles / "demo")
    shutil.copytree(FORMAT1 / "flat", data)
    return articles, data


def answer(data: Path) -> list[tuple[str, str, float]]:
    """(article id, chunk text, score) of the top passages, as the engine retrieves them."""
    snapshot = open_snapshot(data, index_params(FakeEmbedder(), 200, 1))
    passages = Retriever(snapshot, snapshot.lexical).search(
        prepare_query(QUESTION, FakeEmbedder()), k=5
    )
    return [(p.chunk.article_id, p.chunk.text, round(p.score, 4)) for p in passages]


def test_a_format1_index_is_answered_then_upgraded_without_embedding(
    old_index: tuple[Path, Path],
) -> None:
    articles, data = old_index
    before = answer(data)
    assert before[0][0] == "harbour-bridge"
    assert open_snapshot(data).format == 1
    seen_while_writing: list[list[tuple[str, str, float]]] = []

    def progress(p: Progress) -> None:
        if p.stage == WRITING:  # the new generation is complete but not yet published
            seen_while_writing.append(answer(data))

    embedder = FakeEmbedder()
    report = update_index(articles, data, embedder, progress=progress)
    assert embedder.texts_embedded == 0
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 12)
    assert (report.articles, report.chunks, report.reused) == (12, 158, 158)
    assert seen_while_writing == [before]  # the old generation answered until the switch
    snapshot = open_snapshot(data)
    assert snapshot.format == FORMAT_VERSION and snapshot.generation == 2
    after = answer(data)
    assert [(a, t) for a, t, _ in after] == [(a, t) for a, t, _ in before]
    np.testing.assert_allclose([s for *_, s in after], [s for *_, s in before], atol=1e-3)
    old_texts = sorted(r[0] for r in open_snapshot(data).db.execute("SELECT text FROM chunks"))
    assert len(old_texts) == 158

    # The next reindex finds nothing to do; the one after a change drops the format-1 folder.
    again = FakeEmbedder()
    assert update_index(articles, data, again).unchanged == 12 and again.calls == 0
    assert current_generation(data) == data / "gen-000002"
    (articles / "comet-sighting.txt").unlink()
    update_index(articles, data, FakeEmbedder())
    assert not (data / "gen-000001").exists()
    assert answer(data)[0][0] == "harbour-bridge"


def test_an_edit_made_before_the_upgrade_embeds_only_the_changed_chunks(
    old_index: tuple[Path, Path],
) -> None:
    articles, data = old_index
    long_article = max((articles / "demo").glob("*.md"), key=lambda p: p.stat().st_size)
    text = long_article.read_text(encoding="utf-8")
    edited = text.rstrip() + "\n\nA closing sentence added by the editors today.\n"
    long_article.write_text(edited, encoding="utf-8")
    embedder = FakeEmbedder()
    report = update_index(articles, data, embedder)
    assert (report.updated, report.unchanged) == (1, 11)
    chunks_of_it = (
        open_snapshot(data)
        .db.execute(
            "SELECT COUNT(*) FROM chunks WHERE article_id = ?", (f"demo/{long_article.stem}",)
        )
        .fetchone()[0]
    )
    assert chunks_of_it > 5
    assert 1 <= embedder.texts_embedded <= 2  # the last chunk (and one it now overlaps with)


def test_a_format1_hnsw_index_is_answered(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FORMAT1 / "hnsw", data)
    snapshot = open_snapshot(data, index_params(FakeEmbedder(), 200, 1))
    assert snapshot.manifest["index_type"] == "hnsw-sq8"
    for chunk_id, record in snapshot.chunks([1, 2, 3, 4]).items():
        vector = FakeEmbedder().embed([f"{record.title}\n{record.text}"])[0]
        top_id, score = snapshot.vectors.search(vector, 1)[0]
        assert (top_id, round(score, 2)) == (chunk_id, 1.0)
