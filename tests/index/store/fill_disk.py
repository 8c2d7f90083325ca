"""Run inside a user namespace with a small tmpfs mounted at MOUNT (see test_disk_full.py):
`python -m tests.index.store.fill_disk MOUNT PYTHON ARTICLES MORE`. Indexes ARTICLES, adds MORE,
fills the filesystem while that reindex writes, then frees it and retries; prints one JSON line.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from pathlib import Path

from citebot import cli
from index.embed import embedder as embedder_module
from index.errors import DiskFullError
from index.progress import WRITING, Progress
from index.store.indexer import update_index
from tests.conftest import FakeEmbedder
from tests.index.store.test_crash_states import ask

CHUNK = b"\0" * (1 << 20)


def fill(path: Path) -> None:
    """Write to `path` until the filesystem is full (megabytes, then the last bytes)."""
    for block in (CHUNK, b"\0" * 512):
        with open(path, "ab") as fh, contextlib.suppress(OSError):
            while True:
                fh.write(block)
                fh.flush()


def main(mount: Path, articles: Path, more: Path) -> dict:
    data, filler = mount / "data", mount / "filler"
    update_index(articles, data, FakeEmbedder())
    result: dict = {"answer_before": ask(data)}
    shutil.copytree(more, articles / "demo")

    def progress(p: Progress) -> None:
        if p.stage == WRITING and not filler.exists():
            fill(filler)

    try:
        update_index(articles, data, FakeEmbedder(), progress=progress)
        result["error"] = ""
    except DiskFullError as exc:
        result["error"] = str(exc)
    result["leftovers"] = sorted(p.name for p in data.glob("*.build"))
    result["answer_during"] = ask(data)

    embedder_module.make_embedder = lambda settings: FakeEmbedder()  # type: ignore[assignment]
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = cli.main(["index", "--articles", str(articles), "--data", str(data), "--json"])
    result["cli_exit"], result["cli_stderr"] = code, stderr.getvalue()

    filler.unlink()
    retry = FakeEmbedder()
    result["retry"] = update_index(articles, data, retry).as_json()
    result["retry_embedded"] = retry.texts_embedded
    return result


if __name__ == "__main__":
    out = main(Path(sys.argv[1]), Path(sys.argv[3]), Path(sys.argv[4]))
    print(json.dumps(out))
