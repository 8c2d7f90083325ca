"""A reindex with the real model, SIGKILLed after a chosen number of embedding calls:
`python -m tests.index.store.resumed_index CALLS ARTICLES DATA DONE_FILE` (see test_resume.py).

Every call to the embedder that returns appends the hashes of its texts to DONE_FILE (the
texts this process had finished embedding). Call number CALLS + 1 embeds half of its texts
for real (work in flight, lost with the process), prints `KILL_MARK` on stderr and waits for
the SIGKILL, so the kill lands in the middle of embedding however fast the machine is.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.embedder import SentenceTransformerEmbedder
from index.store.indexer import update_index

KILL_MARK = "resumed-index: embedding in flight, kill now"


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


class StoppingEmbedder(SentenceTransformerEmbedder):
    def __init__(self, calls: int, done_file: Path) -> None:
        super().__init__()
        self.calls_left = calls
        self.done = open(done_file, "a", encoding="utf-8")  # noqa: SIM115 - lives until the kill

    def embed(self, texts: Sequence[str], *, progress: Any = None) -> np.ndarray:
        if self.calls_left == 0:
            super().embed(list(texts)[: max(1, len(texts) // 2)])
            print(KILL_MARK, file=sys.stderr, flush=True)
            threading.Event().wait()  # until SIGKILL
        vectors = super().embed(texts, progress=progress)
        self.done.write("".join(text_hash(t) + "\n" for t in texts))
        self.done.flush()  # handed to the OS: a SIGKILL does not lose it
        self.calls_left -= 1
        return vectors


if __name__ == "__main__":
    calls, articles, data, done = sys.argv[1:5]
    update_index(Path(articles), Path(data), StoppingEmbedder(int(calls), Path(done)))
    raise SystemExit("the reindex finished before the kill point")
