"""The ONNX backend: same vectors as sentence-transformers, exported once and cached.

The export (torch, a few seconds) runs once per module into a temporary cache.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import index.embed.onnx_export as onnx_export
from index.embed.embedder import SentenceTransformerEmbedder
from index.embed.onnx_embedder import OnnxEmbedder, read_model_layout
from index.embed.onnx_export import FP32_FILE, INT8_FILE
from index.errors import CitebotError, IndexMismatchError
from index.store.generations import check_compatible
from index.store.indexer import index_params

LONG_TEXT = " ".join(
    f"Paragraph {i}: the harbour authority said ferry traffic rose again." for i in range(60)
)
TEXTS = [
    "When did the 1973 oil crisis begin?",
    "The Bern agglomeration had a population of 406,900 in 2014.",
    "Warsaw's Saxon Garden (Ogród Saski) hosted a summer theatre from 1870 to 1939.",
    "ALL CAPS HEADLINE: MARKETS RALLY AS RATES FALL",
    "x",
    "",
    "   leading and trailing spaces   ",
    "Émigrés in Zürich — naïve café owners? ¿Qué pasa? 東京 and 北京 are capitals.",
    "Prices: $3.50, €4, 12% off; see https://example.org/a?b=c#d.",
    LONG_TEXT,
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary cache holding both exports, made once for the module."""
    cache = tmp_path_factory.mktemp("onnx-cache")
    OnnxEmbedder(quantized=True, cache_dir=cache).load()  # exports fp32, then int8
    return cache


@pytest.fixture(scope="module")
def fp32(cache_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(quantized=False, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def int8(cache_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(quantized=True, cache_dir=cache_dir)


@pytest.fixture(scope="module")
def reference(real_embedder: SentenceTransformerEmbedder) -> np.ndarray:
    return real_embedder.embed(TEXTS)


def test_long_text_is_truncated_to_the_window(fp32: OnnxEmbedder) -> None:
    assert fp32.count_tokens([LONG_TEXT])[0] > 2 * 256
    assert (fp32.dim, fp32.max_tokens) == (384, 254)


def test_fp32_matches_sentence_transformers(fp32: OnnxEmbedder, reference: np.ndarray) -> None:
    cosines = (fp32.embed(TEXTS) * reference).sum(axis=1)
    assert cosines.min() > 0.9999, cosines


def test_int8_stays_close_to_fp32(int8: OnnxEmbedder, reference: np.ndarray) -> None:
    cosines = (int8.embed(TEXTS) * reference).sum(axis=1)
    assert cosines.mean() >= 0.98, cosines
    assert cosines.min() >= 0.95, cosines


@pytest.mark.parametrize("quantized", [False, True])
def test_question_finds_the_right_sentence(cache_dir: Path, quantized: bool) -> None:
    embedder = OnnxEmbedder(quantized=quantized, cache_dir=cache_dir)
    sentences = [
        "The wheat harvest was delayed by heavy rain in the north.",
        "Paris is the capital and largest city of France.",
        "The harbour bridge reopened after a two-year repair.",
        "Berlin hosts the German parliament in the Reichstag building.",
        "The library lent robots to schools for a coding course.",
    ]
    scores = embedder.embed(sentences) @ embedder.embed(["capital of France"])[0]
    assert int(np.argmax(scores)) == 1


@pytest.mark.parametrize("quantized", [False, True])
def test_unit_norm_float32_rows_in_input_order(cache_dir: Path, quantized: bool) -> None:
    embedder = OnnxEmbedder(quantized=quantized, cache_dir=cache_dir)
    vectors = embedder.embed(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Row i is text i, whatever the length-sorted batching did in between; and a text gets the
    # same vector alone (as a question is) as among others (as a chunk is).
    one_by_one = np.vstack([embedder.embed([t]) for t in TEXTS])
    assert (vectors * one_by_one).sum(axis=1).min() > 0.9999
    assert embedder.embed([]).shape == (0, 384)


def test_fp32_batches_are_padded_without_changing_vectors(fp32: OnnxEmbedder) -> None:
    batched = OnnxEmbedder(quantized=False, cache_dir=fp32.cache_dir, batch_size=3)
    assert (batched.embed(TEXTS) * fp32.embed(TEXTS)).sum(axis=1).min() > 0.9999


def test_second_start_loads_the_cache(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [cache_dir / FP32_FILE, cache_dir / INT8_FILE]
    mtimes = [f.stat().st_mtime_ns for f in files]

    def no_export(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cached model was exported again")

    monkeypatch.setattr(onnx_export, "export_onnx", no_export)
    monkeypatch.setattr(onnx_export, "quantize_int8", no_export)
    for quantized in (False, True):
        OnnxEmbedder(quantized=quantized, cache_dir=cache_dir).embed(["hello"])
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    assert not list(cache_dir.glob("*.tmp"))


def test_cached_start_imports_neither_torch_nor_sentence_transformers(cache_dir: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from index.embed.onnx_embedder import OnnxEmbedder;"
        f"OnnxEmbedder(cache_dir=Path({str(cache_dir)!r})).embed(['hi']);"
        "print(sorted({'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)))"
    )
    root = Path(__file__).parents[3]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_each_backend_has_its_own_model_id(
    fp32: OnnxEmbedder, int8: OnnxEmbedder, real_embedder: SentenceTransformerEmbedder
) -> None:
    ids = {real_embedder.model_id, fp32.model_id, int8.model_id}
    assert len(ids) == 3
    assert fp32.model_id == f"{real_embedder.model_id}+onnx"
    assert int8.model_id == f"{real_embedder.model_id}+onnx-int8"


def test_index_from_another_backend_is_refused(
    int8: OnnxEmbedder, real_embedder: SentenceTransformerEmbedder
) -> None:
    built_with_torch = index_params(real_embedder, 200, 1)
    with pytest.raises(IndexMismatchError, match=r"onnx-int8.*citebot index --rebuild"):
        check_compatible(built_with_torch, index_params(int8, 200, 1), Path("data"))


def test_concurrent_first_starts_export_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def slow_export(model_path: Path, out_dir: Path) -> Path:
        calls.append(model_path)
        threading.Event().wait(0.3)  # long enough for the other thread to reach the lock
        (out_dir / FP32_FILE).write_bytes(b"model")
        return out_dir / FP32_FILE

    monkeypatch.setattr(onnx_export, "export_onnx", slow_export)
    workers = [
        threading.Thread(
            target=onnx_export.ensure_exported,
            args=(Path("model"), tmp_path),
            kwargs={"quantized": False},
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(calls) == 1


def test_failed_quantisation_leaves_no_model_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnxruntime.quantization

    def crash(model_input: str, model_output: str, **kwargs: object) -> None:
        Path(model_output).write_bytes(b"half a model")
        raise RuntimeError("killed")

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", crash)
    (tmp_path / FP32_FILE).write_bytes(b"fp32")
    with pytest.raises(RuntimeError):
        onnx_export.ensure_exported(Path("model"), tmp_path, quantized=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".export.lock", FP32_FILE]


def test_model_with_a_dense_layer_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 384}))
    modules = [
        {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(CitebotError, match="CITEBOT_EMBED_BACKEND=torch"):
        read_model_layout(tmp_path)


def test_cache_goes_under_citebot_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITEBOT_CACHE_DIR", str(tmp_path))
    assert onnx_export.default_cache_dir("abc123") == tmp_path / "onnx" / "abc123"
    elsewhere = tmp_path / "elsewhere"
    assert onnx_export.default_cache_dir("abc123", elsewhere) == elsewhere / "onnx" / "abc123"


def test_cache_dir_setting_reaches_the_embedder(tmp_path: Path) -> None:
    from index.embed.embedder import make_embedder
    from index.settings import EngineSettings

    embedder = make_embedder(EngineSettings(embed_backend="onnx-int8", cache_dir=tmp_path))
    assert Path(embedder.cache_dir).is_relative_to(tmp_path / "onnx")
