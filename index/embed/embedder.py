"""Text embedding: the bundled all-MiniLM-L6-v2 (or a local model folder), loaded offline.

The `Embedder` protocol, the torch backend (sentence-transformers) and `make_embedder`, which
picks a backend; the ONNX backend is `onnx_embedder.py`. Both backends are built from
`backend.py` and never import each other.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.embed.backend import (
    DEFAULT_MAX_SEQ,
    SMALL_BATCH,
    CountsWordPieces,
    WordPieceCounter,
    in_length_order,
    model_fingerprint,
    resolve_model_path,
)
from index.settings import DEFAULT_MODEL, EngineSettings

log = logging.getLogger(__name__)

TITLE_TOKENS = 32  # at most this many word pieces of the title are prepended when embedding

_THREADS_LOCK = threading.Lock()


class Embedder(Protocol):
    """What the index needs from an embedding model."""

    model_id: str
    dim: int
    max_tokens: int  # usable word pieces per text, special tokens excluded

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without special tokens."""
        ...

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` that fits in `max_tokens` word pieces."""
        ...

    def embed(
        self, texts: Sequence[str], *, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text; `progress(done, total)` is called
        after each internal batch. (A reindex calls this on a few texts at a time and reports
        its own progress: see index/progress.py.)"""
        ...


class SentenceTransformerEmbedder(CountsWordPieces):
    """sentence-transformers on the CPU, loaded from a local folder with the hub offline."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.path = resolve_model_path(model)
        self.model_id = f"{self._model_name(model)}@{model_fingerprint(self.path)}"
        self.counter = WordPieceCounter(self.path)
        self.batch_size = batch_size
        self._model = None  # loaded on first use: importing torch takes seconds
        self.dim = self._read_dim()
        self.max_tokens = self._read_max_seq() - 2

    @staticmethod
    def _model_name(model: str) -> str:
        return "all-MiniLM-L6-v2" if model == DEFAULT_MODEL else Path(model).name

    def _read_dim(self) -> int:
        import json

        pooling = self.path / "1_Pooling" / "config.json"
        if pooling.is_file():
            return int(json.loads(pooling.read_text())["word_embedding_dimension"])
        return int(json.loads((self.path / "config.json").read_text())["hidden_size"])

    def _read_max_seq(self) -> int:
        import json

        config = self.path / "sentence_bert_config.json"
        if config.is_file():
            return int(json.loads(config.read_text()).get("max_seq_length", DEFAULT_MAX_SEQ))
        return DEFAULT_MAX_SEQ

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            log.info("loading embedding model from %s", self.path)
            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    def embed(
        self, texts: Sequence[str], *, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) <= SMALL_BATCH:
            return self._embed_small(texts)

        def run(idx: np.ndarray) -> np.ndarray:
            return self.model.encode(
                [texts[i] for i in idx],
                batch_size=len(idx),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )

        lengths = [len(t) for t in texts]
        return in_length_order(lengths, self.batch_size, self.dim, run, progress)

    def _embed_small(self, texts: Sequence[str]) -> np.ndarray:
        """A question or two: one thread is faster than two, which spin-wait on a busy CPU
        (measured: 134 ms on one thread against 1,280 ms on two, on a loaded 2-core machine)."""
        import torch

        model = self.model
        with _THREADS_LOCK:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                vectors = model.encode(
                    list(texts),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            finally:
                torch.set_num_threads(threads)
        return np.asarray(vectors, dtype=np.float32)


def passage_for_embedding(title: str, text: str, embedder: Embedder) -> str:
    """What is embedded for a chunk: a short title prefix, then the chunk's own text."""
    if not title:
        return text
    return f"{embedder.truncate(title, TITLE_TOKENS)}\n{text}"


def make_embedder(settings: EngineSettings) -> Embedder:
    """The embedder the settings ask for; ONNX backends never import torch once exported."""
    if settings.embed_backend == "torch":
        return SentenceTransformerEmbedder(settings.model)
    from index.embed.onnx_embedder import OnnxEmbedder
    from index.embed.onnx_export import default_cache_dir

    cache = None  # None: $CITEBOT_CACHE_DIR from the process, else ~/.cache/citebot
    if settings.cache_dir is not None:
        fingerprint = model_fingerprint(resolve_model_path(settings.model))
        cache = default_cache_dir(fingerprint, settings.cache_dir)
    return OnnxEmbedder(
        settings.model, quantized=settings.embed_backend == "onnx-int8", cache_dir=cache
    )
