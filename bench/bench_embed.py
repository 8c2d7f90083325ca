"""Embedding backends side by side on real chunks: throughput, latency, cold start, agreement.

    python bench/bench_embed.py ARTICLES_DIR [--chunks 300] [--repeats 3] [--json]

Chunks the articles as `citebot index` does (sentence-aligned, title prefix), then measures for
torch, onnx and onnx-int8 in one run: bulk chunks/s and word pieces/s (median of the repeats,
the backends interleaved so that a change in machine load hits them alike), the latency of one
short question (median of 50), a cold start in a fresh process (imports, construction and the
first question, with the ONNX export already cached), the one-time export, and the cosine of
each backend's vectors to torch's. Run on demand; it is not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.embed.embedder import Embedder, SentenceTransformerEmbedder, passage_for_embedding
from index.embed.onnx_embedder import OnnxEmbedder
from index.ingest.chunking import chunk_text
from index.ingest.readers import load_articles
from index.settings import DEFAULT_MODEL
from index.store.indexer import effective_chunk_tokens

BACKENDS = ("torch", "onnx", "onnx-int8")
ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "When did the 1973 oil crisis begin?",
    "What is the capital of Switzerland?",
    "Who founded the Gates Foundation?",
    "What is the Saxon Garden in Polish?",
    "How long was the Summer Theatre in operation?",
]
# Run in a fresh interpreter: imports count, as they do when the bot or the CLI starts.
COLD_SCRIPT = """
import json, time
start = time.perf_counter()
from pathlib import Path
{build}
built = time.perf_counter()
embedder.embed(["When did the 1973 oil crisis begin?"])
done = time.perf_counter()
print(json.dumps({{"construct_s": built - start, "first_query_s": done - built}}))
"""
BUILD = {
    "torch": "from index.embed.embedder import SentenceTransformerEmbedder\n"
    "embedder = SentenceTransformerEmbedder({model!r})",
    "onnx": "from index.embed.onnx_embedder import OnnxEmbedder\n"
    "embedder = OnnxEmbedder({model!r}, quantized=False, cache_dir=Path({cache!r}))",
    "onnx-int8": "from index.embed.onnx_embedder import OnnxEmbedder\n"
    "embedder = OnnxEmbedder({model!r}, quantized=True, cache_dir=Path({cache!r}))",
}


@dataclass
class Row:
    """One backend's figures."""

    backend: str
    batch_size: int
    chunks_per_s: float
    tokens_per_s: float
    query_ms: float
    query_p90_ms: float
    cold_start_s: float
    cos_mean: float
    cos_min: float
    export_s: float | None = None


def make_embedder(
    backend: str, model: str, cache_dir: str | None, threads: int | None, batch: int | None
) -> Embedder:
    """The embedder for `backend`, as the settings would build it."""
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    return OnnxEmbedder(
        model,
        quantized=backend == "onnx-int8",
        cache_dir=Path(cache_dir) if cache_dir else None,
        batch_size=batch,
        threads=threads,
    )


def load_chunks(folder: Path, embedder: Embedder, count: int, chunk_tokens: int) -> list[str]:
    """`count` embedded passages spread evenly over all chunks of the folder's articles."""
    loaded = load_articles(folder)
    size = effective_chunk_tokens(embedder, chunk_tokens)
    passages = [
        passage_for_embedding(article.title, chunk.text, embedder)
        for article in loaded.articles
        for chunk in chunk_text(article.text, embedder.count_tokens, size, 1)
    ]
    if not passages:
        sys.exit(f"No text to chunk in {folder}.")
    step = max(1, len(passages) // count)
    return passages[::step][:count]


def _fresh_process(backend: str, model: str, cache_dir: str) -> float:
    build = BUILD[backend].format(model=model, cache=cache_dir)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", COLD_SCRIPT.format(build=build)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def cold_start(backend: str, model: str, cache_dir: str, repeats: int) -> float:
    """Median wall time of a fresh process that builds the embedder and embeds one question."""
    return statistics.median(_fresh_process(backend, model, cache_dir) for _ in range(repeats))


def export_time(model: str) -> float:
    """Seconds for a first start (export, int8 quantisation, one question) with an empty cache."""
    with tempfile.TemporaryDirectory() as tmp:
        return _fresh_process("onnx-int8", model, tmp)


def measure(args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    """Run every measurement; returns the rows and a description of the run."""
    load_at_start = os.getloadavg()
    cache = args.cache_dir or str(Path(tempfile.gettempdir()) / "citebot-bench-onnx")
    variants: list[tuple[str, int | None]] = [(b, None) for b in BACKENDS]
    if args.int8_batch_row:
        variants.append(("onnx-int8", 32))
    embedders = {
        (b, bs): make_embedder(b, args.model, cache, args.threads, bs) for b, bs in variants
    }
    torch_embedder = embedders[("torch", None)]
    chunks = load_chunks(args.articles, torch_embedder, args.chunks, args.chunk_tokens)
    tokens = sum(
        min(n + 2, torch_embedder.max_tokens + 2) for n in torch_embedder.count_tokens(chunks)
    )
    for embedder in embedders.values():  # load, export if need be, warm up
        embedder.embed(chunks[:8])
        embedder.embed(QUESTIONS[:1])

    seconds: dict[tuple[str, int | None], list[float]] = {k: [] for k in embedders}
    vectors: dict[tuple[str, int | None], np.ndarray] = {}
    for _ in range(args.repeats):
        for key, embedder in embedders.items():
            start = time.perf_counter()
            vectors[key] = embedder.embed(chunks)
            seconds[key].append(time.perf_counter() - start)

    latencies: dict[tuple[str, int | None], list[float]] = {k: [] for k in embedders}
    for i in range(args.queries):
        for key, embedder in embedders.items():
            start = time.perf_counter()
            embedder.embed([QUESTIONS[i % len(QUESTIONS)]])
            latencies[key].append(time.perf_counter() - start)

    cold = {b: cold_start(b, args.model, cache, args.cold_repeats) for b in BACKENDS}
    exported = export_time(args.model) if args.export_time else None
    reference = vectors[("torch", None)]
    rows = []
    for key, embedder in embedders.items():
        backend = key[0]
        cosines = (vectors[key] * reference).sum(axis=1)
        lat = sorted(latencies[key])
        median_s = statistics.median(seconds[key])
        rows.append(
            Row(
                backend=backend,
                batch_size=getattr(embedder, "batch_size", 0),
                chunks_per_s=len(chunks) / median_s,
                tokens_per_s=tokens / median_s,
                query_ms=1000 * statistics.median(lat),
                query_p90_ms=1000 * lat[int(0.9 * (len(lat) - 1))],
                cold_start_s=cold[backend],
                cos_mean=float(cosines.mean()),
                cos_min=float(cosines.min()),
                export_s=exported if key == ("onnx-int8", None) else None,
            )
        )
    context = {
        "chunks": len(chunks),
        "tokens_per_chunk": tokens / len(chunks),
        "repeats": args.repeats,
        "queries": args.queries,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "load_average_start": load_at_start,
        "load_average_end": os.getloadavg(),
        "onnx_threads": args.threads or os.cpu_count(),
    }
    return rows, context


def render(rows: list[Row], context: dict[str, Any]) -> str:
    """A Markdown table with ratios against torch."""
    base = rows[0]
    lines = [
        f"{context['chunks']} chunks, {context['tokens_per_chunk']:.0f} word pieces each on "
        f"average; {context['cpus']} CPUs; 1-min load average "
        f"{context['load_average_start'][0]:.1f} at the start, "
        f"{context['load_average_end'][0]:.1f} at the end",
        "",
        "| backend | batch | chunks/s | word pieces/s | × torch | query p50 ms | p90 ms "
        "| × torch | cold start s | × torch | cos to torch mean / min |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.batch_size} | {r.chunks_per_s:.1f} | {r.tokens_per_s:.0f} "
            f"| {r.chunks_per_s / base.chunks_per_s:.2f} | {r.query_ms:.1f} "
            f"| {r.query_p90_ms:.1f} | {base.query_ms / r.query_ms:.2f} "
            f"| {r.cold_start_s:.2f} | {base.cold_start_s / r.cold_start_s:.2f} "
            f"| {r.cos_mean:.4f} / {r.cos_min:.4f} |"
        )
    lines.append("")
    lines.append("× torch: speed-up (higher is better). Cold start: a new process imports, builds")
    lines.append("the embedder and embeds one question, with the ONNX export already cached.")
    export = next((r.export_s for r in rows if r.export_s is not None), None)
    if export is not None:
        lines.append(
            f"First start with an empty cache (export + int8 quantisation): {export:.1f} s."
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path, help="folder of articles to chunk")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--chunks", type=int, default=300)
    parser.add_argument("--chunk-tokens", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads")
    parser.add_argument("--cache-dir", default=None, help="ONNX cache (default: a temp folder)")
    parser.add_argument(
        "--no-int8-batch-row",
        dest="int8_batch_row",
        action="store_false",
        help="skip the extra onnx-int8 row in batches of 32",
    )
    parser.add_argument("--no-export-time", dest="export_time", action="store_false")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    rows, context = measure(args)
    if args.json:
        print(json.dumps({"context": context, "rows": [asdict(r) for r in rows]}, indent=2))
    else:
        print(render(rows, context))
    return 0


if __name__ == "__main__":
    sys.exit(main())
