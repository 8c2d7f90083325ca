"""ONNX Runtime embedding backend: the bundled model exported once to ONNX (fp32 or int8).

The export (`index/embed/onnx_export.py`) needs torch and transformers and runs once per
model; the result is cached on disk.
Embedding itself uses only onnxruntime, tokenizers and numpy, so a start that finds the cache
never imports torch or sentence-transformers (several seconds saved per start).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from index.embed.onnx_export import default_cache_dir, ensure_exported
from index.errors import CitebotError
from index.settings import DEFAULT_MODEL

log = logging.getLogger(__name__)

_POOLING_MODES = ("mean_tokens", "cls_token", "max_tokens", "mean_sqrt_len_tokens")
# Modules the numpy post-processing reproduces; anything else (Dense, ...) would be skipped.
_SUPPORTED_MODULES = frozenset({"Transformer", "Pooling", "Normalize"})


@dataclass(frozen=True)
class ModelLayout:
    """What a sentence-transformers folder says about its pipeline after the transformer."""

    dim: int
    max_seq: int  # word pieces including [CLS] and [SEP]
    pooling: str  # one of _POOLING_MODES


def read_model_layout(path: Path) -> ModelLayout:
    """Read dimension, window and pooling; refuse pipelines this backend cannot reproduce."""
    pooling_dir = path / "1_Pooling"
    modules_file = path / "modules.json"
    if modules_file.is_file():
        for module in json.loads(modules_file.read_text()):
            kind = module.get("type", "").rsplit(".", 1)[-1]
            if kind not in _SUPPORTED_MODULES:
                raise CitebotError(
                    f"The model in {path} has a {kind} module that the ONNX backend cannot "
                    "run: set CITEBOT_EMBED_BACKEND=torch for this model."
                )
            if kind == "Pooling":
                pooling_dir = path / module.get("path", "1_Pooling")
    config = json.loads((path / "config.json").read_text())
    dim, pooling = int(config["hidden_size"]), "mean_tokens"
    if (pooling_dir / "config.json").is_file():
        pooling_config = json.loads((pooling_dir / "config.json").read_text())
        dim = int(pooling_config.get("word_embedding_dimension", dim))
        modes = [m for m in _POOLING_MODES if pooling_config.get(f"pooling_mode_{m}")]
        if len(modes) != 1:
            raise CitebotError(
                f"The model in {path} pools with {modes or 'no mode'}; the ONNX backend supports "
                "exactly one of mean, CLS, max or mean-sqrt-len pooling: use "
                "CITEBOT_EMBED_BACKEND=torch for this model."
            )
        pooling = modes[0]
    max_seq = DEFAULT_MAX_SEQ
    st_config = path / "sentence_bert_config.json"
    if st_config.is_file():
        max_seq = int(json.loads(st_config.read_text()).get("max_seq_length", DEFAULT_MAX_SEQ))
    return ModelLayout(dim=dim, max_seq=max_seq, pooling=pooling)


class OnnxEmbedder(CountsWordPieces):
    """The embedding model on ONNX Runtime (CPU), fp32 or dynamically quantised to int8."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        quantized: bool = True,
        cache_dir: Path | None = None,
        batch_size: int | None = None,
        threads: int | None = None,
    ) -> None:
        """Describe the model; the session opens (and the first ever export runs) on first use.

        `batch_size` defaults to 1 for int8: its activations are quantised with one scale per
        batch, so batching would make a text's vector depend on its batch-mates (cosine down to
        0.976 against the same text alone), and one text at a time measured no slower.
        """
        self.path = resolve_model_path(model)
        fingerprint = model_fingerprint(self.path)
        self.backend = "onnx-int8" if quantized else "onnx"
        name = "all-MiniLM-L6-v2" if model == DEFAULT_MODEL else Path(model).name
        # The backend is part of the id, so an index built with another one is refused.
        self.model_id = f"{name}@{fingerprint}+{self.backend}"
        layout = read_model_layout(self.path)
        self.dim = layout.dim
        self.max_tokens = layout.max_seq - 2
        self.pooling = layout.pooling
        self.quantized = quantized
        self.cache_dir = cache_dir or default_cache_dir(fingerprint)
        self.batch_size = batch_size or (1 if quantized else 32)
        self.threads = threads or os.cpu_count() or 1
        self.counter = WordPieceCounter(self.path)
        self._tokenizer = self._window_tokenizer(layout.max_seq)
        # Sessions by thread count, opened on first use (the first ever use exports the model).
        self._sessions: dict[int, Any] = {}
        self._input_names: set[str] = set()
        self._lock = threading.Lock()

    def _window_tokenizer(self, max_seq: int) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_seq)
        tokenizer.no_padding()  # padded per batch in _run_batch
        return tokenizer

    def load(self) -> None:
        """Export the model if it is not cached yet, and open both ONNX Runtime sessions."""
        self._get_session(small=False)
        self._get_session(small=True)

    def _get_session(self, *, small: bool) -> Any:
        """The bulk session (`threads` threads), or a one-thread one for a question or two.

        Small batches gain nothing from a second thread, and on a busy 2-core machine the
        threads' hand-offs cost more than the work (measured: 5 ms on one, 11 ms on two).
        """
        with self._lock:
            threads = 1 if small else self.threads
            if threads not in self._sessions:
                self._sessions[threads] = self._open_session(threads)
            return self._sessions[threads]

    def _open_session(self, threads: int) -> Any:
        import onnxruntime as ort

        onnx_path = ensure_exported(self.path, self.cache_dir, quantized=self.quantized)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: spinning starves other work on a shared CPU.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        log.info("loading %s model (%d threads) from %s", self.backend, threads, onnx_path)
        session = ort.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in session.get_inputs()}
        return session

    def embed(
        self, texts: Sequence[str], *, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text, in input order."""
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        session = self._get_session(small=len(texts) <= SMALL_BATCH)
        encodings = self._tokenizer.encode_batch(list(texts))
        return in_length_order(
            [len(e.ids) for e in encodings],
            self.batch_size,
            self.dim,
            lambda idx: self._run_batch(session, [encodings[i].ids for i in idx]),
            progress,
        )

    def _run_batch(self, session: Any, token_ids: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in token_ids)
        input_ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        states = session.run(None, feeds)[0]
        return l2_normalise(pool(states, mask, self.pooling))


def pool(states: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """sentence-transformers' Pooling over token states `(batch, seq, dim)`, padding ignored."""
    if mode == "cls_token":
        return states[:, 0]
    weights = mask[:, :, None].astype(states.dtype)
    if mode == "max_tokens":
        return np.where(weights > 0, states, np.finfo(states.dtype).min).max(axis=1)
    summed = (states * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    if mode == "mean_sqrt_len_tokens":
        return summed / np.sqrt(counts)
    return summed / counts


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (the Normalize module; the index always needs it)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
