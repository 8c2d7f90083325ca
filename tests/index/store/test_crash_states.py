"""Every state a killed writer can leave is recovered by the next reindex, and answering
never stops: a reindex is SIGKILLed (in a child process) at each step of publishing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.answer.retrieval import Retriever, prepare_query
from index.ingest.readers import load_articles
from index.progress import WRITING, Progress
from index.store.generations import CURRENT_FILE, open_snapshot
from index.store.indexer import update_index
from tests.conftest import FIXTURES, FakeEmbedder
from tests.index.store.test_vectors import indexed_ids

ROOT = Path(__file__).parents[3]
QUESTION = "How many passengers does an electric ferry carry?"
FERRY = "Electric ferries enter service\nEach ferry carries 150 passengers across the harbour.\n"

KILL_POINTS = ("published", "current-temp", "build")  # see kill_at.py


def killed_reindex(articles: Path, data: Path, point: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.index.store.kill_at", point, str(articles), str(data)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == -9, proc.stderr  # SIGKILL, at the chosen point


def ask(data: Path) -> list[str]:
    snapshot = open_snapshot(data)
    found = Retriever(snapshot, snapshot.lexical).search(prepare_query(QUESTION, FakeEmbedder()))
    return [p.chunk.article_id for p in found]


def assert_reflects(articles: Path, data: Path) -> None:
    """The live generation holds exactly the folder's articles, in SQLite, FAISS and BM25."""
    snapshot = open_snapshot(data)
    want = {a.id: a.content_hash for a in load_articles(articles).articles}
    assert {a.id: a.content_hash for a in snapshot.articles()} == want
    stored = {r[0] for r in snapshot.db.execute("SELECT id FROM chunks")}
    assert indexed_ids(snapshot) == stored == set(snapshot.lexical.chunk_ids[snapshot.rows.live])
    assert snapshot.chunk_count == len(stored) == snapshot.manifest["chunks"]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_the_next_reindex_recovers_from_a_kill(point: str, tmp_path: Path) -> None:
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    update_index(articles, data, FakeEmbedder())
    before = ask(data)
    live = (data / CURRENT_FILE).read_text()
    (articles / "ferries.txt").write_text(FERRY)
    (articles / "comet-sighting.txt").unlink()

    killed_reindex(articles, data, point)
    assert (data / CURRENT_FILE).read_text() == live  # not switched
    leftovers = {p.name for p in data.iterdir()}
    expected = {
        "published": "gen-000002",
        "current-temp": next((n for n in leftovers if n.startswith(".CURRENT.tmp-")), "none"),
        "build": "gen-000002.build",
    }[point]
    assert expected in leftovers
    assert ask(data) == before  # still answered from the previous generation

    answers_meanwhile: list[list[str]] = []

    def progress(p: Progress) -> None:
        if p.stage == WRITING:
            answers_meanwhile.append(ask(data))

    embedder = FakeEmbedder()
    report = update_index(articles, data, embedder, progress=progress)
    assert_reflects(articles, data)
    assert ask(data)[0] == "ferries"
    assert not [n for n in (p.name for p in data.iterdir()) if ".tmp-" in n or n.endswith(".build")]
    if point == "build":  # the kill came after embedding: the journal spared the work
        assert embedder.texts_embedded == 0 and report.added == 1 and report.removed == 1
        assert answers_meanwhile == [before]
    else:  # the killed run had published a complete generation: it became the live one
        assert report.changed is False and answers_meanwhile == []


def test_an_old_build_folder_next_to_a_published_generation(tmp_path: Path) -> None:
    """The state that made every later reindex fail with "Directory not empty" in format 1."""
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    update_index(articles, data, FakeEmbedder())
    shutil.copytree(data / "gen-000001", data / "gen-000002.build")
    (data / ".CURRENT.tmp-12345").write_text("gen-0000")
    (articles / "ferries.txt").write_text(FERRY)
    update_index(articles, data, FakeEmbedder(), rebuild=True)
    assert_reflects(articles, data)
    assert sorted(p.name for p in data.iterdir() if p.name.startswith(("gen-", ".CUR"))) == [
        "gen-000001",
        "gen-000002",
    ]
