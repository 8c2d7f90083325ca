"""Exporting the bundled model to ONNX (fp32) and quantising it to int8, once, into a cache.

Needs torch and transformers, which only this module imports (lazily); the result is written
crash-safely (temporary names + os.replace) under a per-model folder, one process at a time.
"""

from __future__ import annotations

import fcntl
import logging
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import CitebotError

log = logging.getLogger(__name__)

FP32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def default_cache_dir(fingerprint: str, root: Path | None = None) -> Path:
    """`<root>/onnx/<fingerprint>`; root defaults to $CITEBOT_CACHE_DIR, else ~/.cache/citebot."""
    if root is None:
        env = os.environ.get("CITEBOT_CACHE_DIR")
        root = Path(env) if env else Path.home() / ".cache" / "citebot"
    return root.expanduser() / "onnx" / fingerprint


@contextmanager
def _export_lock(cache_dir: Path) -> Iterator[None]:
    """Serialise exports into one cache folder across processes (readers need no lock)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".export.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _temp_path(final: Path) -> Path:
    """A unique sibling name to write to before `os.replace`-ing it onto `final`."""
    return final.with_name(f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _not_quantiser_chatter(record: logging.LogRecord) -> bool:
    """Drop the quantiser's notes (a line per tensor, logged on the root logger); errors raise."""
    parts = Path(record.pathname).parts
    from_quantiser = "onnxruntime" in parts and "quantization" in parts
    return record.levelno > logging.WARNING or not from_quantiser


@contextmanager
def _quiet_quantiser() -> Iterator[None]:
    root = logging.getLogger()
    root.addFilter(_not_quantiser_chatter)
    try:
        yield
    finally:
        root.removeFilter(_not_quantiser_chatter)


def export_onnx(model_path: Path, out_dir: Path) -> Path:
    """Export the transformer of `model_path` to `out_dir/model.onnx` (token states out).

    Inputs are input_ids, attention_mask and token_type_ids (int64, dynamic batch and sequence);
    the output is last_hidden_state. Pooling and normalisation happen in numpy afterwards.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # read when transformers is imported
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(
        str(model_path), local_files_only=True, attn_implementation="eager"
    ).eval()

    class TokenStates(torch.nn.Module):
        """Keyword-only call, so the export does not depend on forward()'s argument order."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    wrapped = TokenStates(model).eval()
    # Trace with padding in the batch, so masking is part of the graph.
    sample = _sample_inputs(batch=2, length=16)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / FP32_FILE
    tmp = _temp_path(final)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter is deprecated and warns about traced shape checks; the
            # result is verified against torch below instead.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                tuple(torch.from_numpy(sample[name]) for name in INPUT_NAMES),
                str(tmp),
                input_names=list(INPUT_NAMES),
                output_names=["last_hidden_state"],
                dynamic_axes={
                    name: {0: "batch", 1: "sequence"}
                    for name in (*INPUT_NAMES, "last_hidden_state")
                },
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        _verify_export(wrapped, tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def _sample_inputs(batch: int, length: int) -> dict[str, np.ndarray]:
    """Token ids with the last row padded to half the length."""
    rng = np.random.default_rng(0)
    ids = rng.integers(1000, 20000, size=(batch, length), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102  # [CLS] ... [SEP]
    mask = np.ones_like(ids)
    mask[-1, length // 2 :] = 0
    ids[-1, length // 2 :] = 0
    ids[-1, length // 2 - 1] = 102
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _verify_export(torch_model: Any, onnx_path: Path) -> None:
    """Compare ONNX and torch token states on a shape unlike the traced one."""
    import onnxruntime as ort
    import torch

    sample = _sample_inputs(batch=3, length=23)
    with torch.no_grad():
        expected = torch_model(*(torch.from_numpy(sample[n]) for n in INPUT_NAMES)).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, sample)[0]
    real = sample["attention_mask"].astype(bool)
    error = float(np.abs(got[real] - expected[real]).max())
    if error > 1e-3:
        raise CitebotError(
            f"The ONNX export of the embedding model differs from torch (max error {error:.2g}); "
            "set CITEBOT_EMBED_BACKEND=torch."
        )
    log.debug("ONNX export verified: max abs error %.2g", error)


def quantize_int8(fp32_path: Path, out_path: Path) -> Path:
    """Dynamic int8 quantisation of the weights, written crash-safely.

    Per-channel weights keep a mean cosine of about 0.99 to fp32; per-tensor ones fall to 0.95.
    Quantising the embedding tables (Gather) too shrinks the file from 58 to 23 MB at no cost.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _temp_path(out_path)
    try:
        with _quiet_quantiser(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(fp32_path),
                str(tmp),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Gather"],
            )
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path


def ensure_exported(model_path: Path, cache_dir: Path, *, quantized: bool) -> Path:
    """The cached ONNX file for `model_path`, exporting (and quantising) it the first time."""
    target = cache_dir / (INT8_FILE if quantized else FP32_FILE)
    if target.is_file():
        return target
    try:
        with _export_lock(cache_dir):
            if target.is_file():  # another process finished the export while we waited
                return target
            fp32 = cache_dir / FP32_FILE
            if not fp32.is_file():
                log.info("exporting %s to ONNX in %s (once; a few seconds)", model_path, fp32)
                export_onnx(model_path, cache_dir)
            if quantized:
                log.info("quantising %s to int8", fp32)
                quantize_int8(fp32, target)
    except OSError as exc:
        raise CitebotError(
            f"Could not write the ONNX model cache in {cache_dir} ({exc.strerror or exc}): "
            "set CITEBOT_CACHE_DIR to a writable folder."
        ) from exc
    return target
