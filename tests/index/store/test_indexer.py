"""Incremental, crash-safe indexing with a fake embedder (fast); the real model is in test_e2e."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.errors import (
    ArticlesFolderError,
    DataDirError,
    IndexMismatchError,
    ReindexRunningError,
)
from index.store.generations import (
    CURRENT_FILE,
    current_generation,
    open_lexical,
    open_snapshot,
)
from index.store.indexer import update_index, writer_lock
from index.store.lexical import terms
from tests.conftest import FIXTURES, FakeEmbedder


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    shutil.copytree(FIXTURES / "articles", folder)
    return folder


def texts_in_index(data: Path) -> str:
    snapshot = open_snapshot(data)
    rows = snapshot.db.execute("SELECT text FROM chunks").fetchall()
    return " ".join(r[0] for r in rows)


def test_first_run_indexes_everything(articles: Path, tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    report = update_index(articles, tmp_path / "data", embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (4, 0, 0, 0)
    assert report.failed == []
    snapshot = open_snapshot(tmp_path / "data")
    assert report.chunks == snapshot.chunk_count == embedder.texts_embedded > 0
    titles = {a.title for a in snapshot.articles()}
    assert "Harbour bridge reopens after two-year repair" in titles
    # Newest published first.
    assert [a.id for a in snapshot.articles()][:3] == [
        "library-robots",
        "harbour-bridge",
        "wheat-harvest",
    ]


def test_unchanged_folder_embeds_nothing(articles: Path, tmp_path: Path) -> None:
    update_index(articles, tmp_path / "data", FakeEmbedder())
    gen = current_generation(tmp_path / "data")
    again = FakeEmbedder()
    report = update_index(articles, tmp_path / "data", again)
    assert again.calls == 0
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 4)
    assert current_generation(tmp_path / "data") == gen  # nothing rewritten


def test_edit_and_delete(articles: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    update_index(articles, data, FakeEmbedder())
    (articles / "comet-sighting.txt").write_text(
        "Amateur astronomer spots new comet\nThe comet was renamed Zephyrine by the union.\n"
    )
    (articles / "library-robots.md").unlink()
    embedder = FakeEmbedder()
    report = update_index(articles, data, embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 2)
    assert embedder.calls == 1 and embedder.texts_embedded == 1  # only the edited article
    text = texts_in_index(data)
    assert "Zephyrine" in text
    assert "programmable robots" not in text
    assert "Rosa Delgado" not in text  # the old version of the edited article is gone
    snapshot = open_snapshot(data)
    assert snapshot.chunk_count == snapshot.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]


def test_deleted_article_is_gone_from_faiss_and_bm25(articles: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    update_index(articles, data, FakeEmbedder())
    (articles / "library-robots.md").unlink()
    update_index(articles, data, FakeEmbedder())
    snapshot = open_snapshot(data)
    ids = {int(i) for i in __import__("faiss").vector_to_array(snapshot.vectors.index.id_map)}
    stored = {r[0] for r in snapshot.db.execute("SELECT id FROM chunks")}
    assert ids == stored
    lexical = open_lexical(snapshot.path)
    assert lexical.search(terms("programmable robots library card"), 5) == []


def test_bad_files_are_reported_and_good_ones_kept(articles: Path, tmp_path: Path) -> None:
    (articles / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (articles / "empty.md").write_text("")
    (articles / "cafe.txt").write_bytes("Café news\nLe café a rouvert à Paris.".encode("latin-1"))
    (articles / "feed.jsonl").write_text(
        json.dumps({"id": "ok-1", "title": "Fine", "text": "A fine article body."})
        + "\n{broken json\n"
    )
    report = update_index(articles, tmp_path / "data", FakeEmbedder())
    failed = {f.path: f.error for f in report.failed}
    assert set(failed) == {"photo.txt", "empty.md", "feed.jsonl#2"}
    assert all(failed.values())
    ids = {a.id for a in open_snapshot(tmp_path / "data").articles()}
    assert {"cafe", "ok-1", "harbour-bridge", "comet-sighting"} <= ids
    assert "Le café a rouvert à Paris." in texts_in_index(tmp_path / "data")


def test_missing_articles_folder(tmp_path: Path) -> None:
    with pytest.raises(ArticlesFolderError, match="not found"):
        update_index(tmp_path / "nope", tmp_path / "data", FakeEmbedder())


def test_data_dir_that_is_a_file(articles: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(DataDirError, match="Cannot write to the data directory"):
        update_index(articles, blocker / "data", FakeEmbedder())


def test_other_model_is_refused_on_open(articles: Path, tmp_path: Path) -> None:
    from index.store.indexer import index_params

    update_index(articles, tmp_path / "data", FakeEmbedder())
    other = FakeEmbedder()
    other.model_id = "another-model"
    with pytest.raises(IndexMismatchError, match="reindex"):
        open_snapshot(tmp_path / "data", index_params(other, 200, 1))


def test_other_model_rebuilds_on_reindex(articles: Path, tmp_path: Path) -> None:
    update_index(articles, tmp_path / "data", FakeEmbedder())
    other = FakeEmbedder()
    other.model_id = "another-model"
    report = update_index(articles, tmp_path / "data", other)
    assert report.added == 4 and other.texts_embedded == report.chunks
    assert open_snapshot(tmp_path / "data").manifest["model"] == "another-model"


def test_a_settings_change_is_said_once_plainly_and_rebuilds(
    articles: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13, item 5: one line says what changed and that it rebuilds; no contradictory
    "run `citebot index --rebuild`" and no internal dicts."""
    data = tmp_path / "data"
    update_index(articles, data, FakeEmbedder(), chunk_tokens=200)
    caplog.clear()
    with caplog.at_level("INFO"):
        report = update_index(articles, data, FakeEmbedder(), chunk_tokens=100)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(said) == 1, said
    assert "chunks of at most 200 word pieces, now 100" in said[0]
    assert "rebuilding it now" in said[0]
    assert "--rebuild" not in said[0] and "{" not in said[0]
    assert (report.added, report.articles) == (4, 4)  # every article is in the rebuilt index
    assert open_snapshot(data).manifest["chunker"]["max_tokens"] == 100


def test_one_writer_at_a_time(articles: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with writer_lock(data), pytest.raises(ReindexRunningError, match="Another reindex"):
        update_index(articles, data, FakeEmbedder())


class ExplodingEmbedder(FakeEmbedder):
    def embed(self, texts: object, *, progress: object = None) -> None:
        raise RuntimeError("killed mid-embedding")


def test_failure_mid_build_keeps_previous_index(articles: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    update_index(articles, data, FakeEmbedder())
    before = (data / CURRENT_FILE).read_text()
    chunks_before = open_snapshot(data).chunk_count
    (articles / "new.txt").write_text("New one\nSomething happened today in the harbour.")
    with pytest.raises(RuntimeError):
        update_index(articles, data, ExplodingEmbedder())
    assert (data / CURRENT_FILE).read_text() == before
    assert open_snapshot(data).chunk_count == chunks_before
    report = update_index(articles, data, FakeEmbedder())
    assert report.added == 1
    assert not list(data.glob("*.build"))  # the unfinished build was cleaned up
