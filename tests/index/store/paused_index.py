"""The real `citebot` command line, stopped at a known point of a reindex so a test can kill it.

`python -m tests.index.store.paused_index ARGS...` runs `citebot ARGS...`; its first embedding
of new chunks embeds half of them for real, prints `EMBEDDING_MARK` on stderr and then waits
until the process is killed. The kill therefore lands mid-embedding, inside an unfinished build,
however fast the machine (see test_crash.py).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from citebot.cli import main
from index.embed.embedder import SentenceTransformerEmbedder

EMBEDDING_MARK = "paused-index: embedding is half done"

_real_embed = SentenceTransformerEmbedder.embed


def _embed_half_then_wait(
    self: SentenceTransformerEmbedder, texts: Sequence[str], *, progress: Any = None
) -> np.ndarray:
    _real_embed(self, list(texts)[: max(1, len(texts) // 2)])
    print(EMBEDDING_MARK, file=sys.stderr, flush=True)
    threading.Event().wait()  # until SIGKILL
    raise AssertionError("unreachable")


if __name__ == "__main__":
    SentenceTransformerEmbedder.embed = _embed_half_then_wait  # type: ignore[method-assign]
    sys.exit(main(sys.argv[1:]))
