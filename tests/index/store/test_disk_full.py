"""A full disk at any write step: one sentence (exit 2 from the CLI), the failed build removed
at once, the previous index still answering, and the retry after freeing space succeeds."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.errors import DiskFullError
from index.store import database, embedding_cache, indexer, layout, segments, vectors, writer
from index.store.generations import CURRENT_FILE
from index.store.indexer import update_index
from tests.conftest import DEMO_ARTICLES, FIXTURES, FakeEmbedder
from tests.index.store.test_crash_states import FERRY, ask, assert_reflects

ROOT = Path(__file__).parents[3]
ENOSPC = OSError(errno.ENOSPC, "No space left on device")


def fail_at(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, error: BaseException,
            when: Any = None) -> None:  # fmt: skip
    real = getattr(owner, name)

    def fail(*args: Any, **kwargs: Any) -> Any:
        if when is None or when(*args):
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, fail)


def named(name: str) -> Any:
    return lambda path, *rest: Path(path).name == name


# Every kind of write a reindex makes, in the order it makes them.
WRITE_STEPS = {
    "journal": (embedding_cache.EmbeddingJournal, "append", ENOSPC, None),
    "sqlite": (database.DatabaseWriter, "insert_article",
               sqlite3.OperationalError("database or disk is full"), None),
    "segment rows": (segments, "append_array", ENOSPC, None),
    "postings": (segments, "write_array", ENOSPC, None),
    "hard links": (writer, "link_or_copy", ENOSPC, None),
    "tombstones": (np, "save", ENOSPC, None),
    "vector index": (vectors, "write_atomic", ENOSPC, None),
    "manifest": (layout, "write_atomic", ENOSPC, named("manifest.json")),
    "CURRENT": (layout, "write_atomic", ENOSPC, named(CURRENT_FILE)),
}  # fmt: skip


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    articles, data = tmp_path / "articles", tmp_path / "data"
    shutil.copytree(FIXTURES / "articles", articles)
    shutil.copytree(DEMO_ARTICLES, articles / "demo")
    update_index(articles, data, FakeEmbedder())
    # The next reindex adds an article and removes one: every kind of write happens.
    (articles / "ferries.txt").write_text(FERRY)
    (articles / "comet-sighting.txt").unlink()
    return articles, data


@pytest.mark.parametrize("step", list(WRITE_STEPS))
def test_a_full_disk_at_each_write_step(
    step: str, indexed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, data = indexed
    before, live = ask(data), (data / CURRENT_FILE).read_text()
    owner, name, error, when = WRITE_STEPS[step]
    with monkeypatch.context() as patch:
        fail_at(patch, owner, name, error, when)
        with pytest.raises(DiskFullError) as raised:
            update_index(articles, data, FakeEmbedder())
    message = str(raised.value)
    assert message.startswith(f"Not enough disk space in {data}: the new index needs about ")
    assert message.endswith(" MB more; the previous index is still in use.")
    assert message.count(".") == 1 + str(data).count(".")  # one sentence
    assert not list(data.glob("*.build"))  # removed at once
    assert (data / CURRENT_FILE).read_text() == live
    assert ask(data) == before

    retry = FakeEmbedder()
    update_index(articles, data, retry)  # the space is back
    assert_reflects(articles, data)
    if step not in ("journal", "sqlite"):  # embedded before the failure: kept in the journal
        assert retry.texts_embedded == 0


def test_free_space_is_checked_before_starting(
    indexed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, data = indexed
    monkeypatch.setattr(indexer, "free_bytes", lambda path: 1000)
    embedder = FakeEmbedder()
    with pytest.raises(DiskFullError, match=r"needs about \d+ MB more; the previous index is"):
        update_index(articles, data, embedder)
    assert embedder.calls == 0 and not list(data.glob("*.build"))


def test_a_real_full_filesystem(tmp_path: Path) -> None:
    """On a 16 MB tmpfs (mounted in a user namespace): the disk fills up mid-reindex."""
    if shutil.which("unshare") is None:
        pytest.fail("this test needs util-linux's unshare to mount a small tmpfs")
    articles = tmp_path / "articles"
    shutil.copytree(FIXTURES / "articles", articles)
    shutil.copytree(DEMO_ARTICLES, tmp_path / "more")
    mount = tmp_path / "small"
    mount.mkdir()
    script = (
        'mount -t tmpfs -o size=16m tmpfs "$1" && exec "$2" -m tests.index.store.fill_disk "$@"'
    )
    proc = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh",
         str(mount), sys.executable, str(articles), str(tmp_path / "more")],
        capture_output=True, text=True, cwd=ROOT, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"].startswith(f"Not enough disk space in {mount / 'data'}: ")
    assert result["error"].endswith("MB more; the previous index is still in use.")
    assert result["leftovers"] == []
    assert result["answer_during"] == result["answer_before"]
    assert result["cli_exit"] == 2
    assert result["cli_stderr"].count("\n") == 1
    assert result["cli_stderr"].startswith("citebot: Not enough disk space in ")
    assert result["retry"]["added"] == 8 and result["retry"]["removed"] == 0
    assert result["retry_embedded"] == 0  # the embeddings made before the failure were kept
