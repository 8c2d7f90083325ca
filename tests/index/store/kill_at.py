"""Run a reindex (fake embedder) and SIGKILL it at a given point:
`python -m tests.index.store.kill_at POINT ARTICLES DATA` (see test_crash_states.py)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from index.store import files, layout, writer
from index.store.indexer import update_index
from tests.conftest import FakeEmbedder


def kill(*args: object, **kwargs: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str, articles: Path, data: Path) -> None:
    if point == "published":  # renamed into place, CURRENT not yet rewritten
        layout.switch_current = kill  # type: ignore[assignment]
    elif point == "current-temp":  # CURRENT's temporary file written, not renamed
        real = os.replace

        def replace(src: object, dst: object) -> None:
            if str(dst).endswith(layout.CURRENT_FILE):
                kill()
            real(src, dst)  # type: ignore[arg-type]

        files.os.replace = replace  # type: ignore[assignment]
    elif point == "build":  # segments written and SQLite rows committed, nothing published
        writer.write_dense_index = kill  # type: ignore[assignment]
    update_index(articles, data, FakeEmbedder())
    raise SystemExit("the reindex finished before the kill point")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
