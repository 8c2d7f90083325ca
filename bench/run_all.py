"""Every benchmark in one run, written to bench/RESULTS.md with the machine described.

    python bench/run_all.py PATH/TO/squad-dev [--sizes 10000,100000,1000000] [--out FILE]

Runs, each in its own process: the embedding backends side by side (bench_embed.py), retrieval
quality and full-pipeline indexing time of torch and the default backend on the dev set
(eval_qa.py, fresh indexes), a cold `citebot ask` on the dev index, and answer latency / RSS /
recall at each size (bench_scale.py; an index missing under bench/out/scale-<backend> is built
first, which takes about 1.5 hours for 1M chunks on 2 cores). Nothing here runs in CI.
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
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DEFAULT_BACKEND = "onnx-int8"
COLD_QUESTION = "When did the 1973 oil crisis begin?"


def run_json(args: list[str], env: dict[str, str] | None = None) -> Any:
    """Run a Python script of this folder and parse the JSON on its last stdout line."""
    print("$ " + " ".join(args), file=sys.stderr, flush=True)
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=False, cwd=ROOT,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    if out.returncode != 0:
        sys.exit(f"{args[0]} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    lines = out.stdout.strip().splitlines()
    try:
        return json.loads(out.stdout), lines  # one (maybe indented) JSON document
    except json.JSONDecodeError:
        return json.loads(lines[-1]), lines  # progress lines, then JSON on the last one


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = "unknown CPU"
    flags: set[str] = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name") and cpu == "unknown CPU":
            cpu = line.split(":", 1)[1].strip()
        if line.startswith("flags") and not flags:
            flags = set(line.split(":", 1)[1].split())
    mem = next(
        int(line.split()[1]) / 2**20
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    versions = {
        p: metadata.version(p)
        for p in ("torch", "onnxruntime", "faiss-cpu", "sentence-transformers", "bm25s")
    }
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "simd": [f for f in ("avx2", "avx512f", "avx512_vnni") if f in flags],
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "versions": versions,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def cold_ask(data: Path, repeats: int = 3) -> float:
    """Median wall time of `citebot ask` in a new process, to the printed answer."""
    citebot = Path(sys.executable).with_name("citebot")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [str(citebot), "ask", "--data", str(data), COLD_QUESTION],
            check=True, capture_output=True, cwd=ROOT,
            env={**os.environ, "CITEBOT_EMBED_BACKEND": DEFAULT_BACKEND},
        )  # fmt: skip
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def quality(dataset: Path, backend: str, work: Path) -> dict[str, Any]:
    """eval_qa.py on a fresh index: recall, answer figures, and the full indexing time."""
    result, lines = run_json(
        ["bench/eval_qa.py", str(dataset), "--backend", backend, "--modes", "hybrid,dense",
         "--data", str(work), "--json"],
    )  # fmt: skip
    indexed = next(line for line in lines if line.startswith("indexed "))
    seconds = float(indexed.rsplit("(", 1)[1].split()[0])
    chunks = int(indexed.split(" articles, ")[1].split()[0])
    return {**result, "index_seconds": seconds, "chunks": chunks}


def render(
    where: dict, embed: dict, qual: dict[str, dict], cold: float, scale: list[dict], load: tuple
) -> str:
    m = where
    torch_q, int8_q = qual["torch"], qual[DEFAULT_BACKEND]
    lines = [
        "# Benchmark results",
        "",
        "Written by `python bench/run_all.py PATH/TO/squad-dev` (see bench/README.md for each",
        "script). Do not edit by hand; re-run instead.",
        "",
        f"Machine: {m['cpu']}, {m['cpus']} CPUs ({', '.join(m['simd'])}), "
        f"{m['memory_gib']} GiB RAM; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f". Run {m['date']}; 1-minute load average {load[0]:.1f} at the start, "
        f"{load[1]:.1f} at the end (other work shares this machine: treat absolute times as "
        "upper bounds and compare ratios measured in the same run).",
        "",
        "## Embedding backends (same run, interleaved, medians)",
        "",
        render_embed(embed),
        "",
        "## Quality and indexing time per backend (squad-dev, fresh index each)",
        "",
        "| | torch (fp32) | " + DEFAULT_BACKEND + " (default) |",
        "|---|---|---|",
    ]
    th, ih = torch_q["modes"]["hybrid"], int8_q["modes"]["hybrid"]
    td, idn = torch_q["modes"]["dense"], int8_q["modes"]["dense"]
    for label, a, b in [
        ("article recall@5, hybrid", th["article_R@5"], ih["article_R@5"]),
        ("article recall@5, dense only", td["article_R@5"], idn["article_R@5"]),
        ("article recall@1, hybrid", th["article_R@1"], ih["article_R@1"]),
        ("passage recall@5, hybrid", th["passage_R@5"], ih["passage_R@5"]),
        ("answer in quote, hybrid", th["answer_in_quote"], ih["answer_in_quote"]),
        ("false abstention", th["false_abstention"], ih["false_abstention"]),
        ("abstention, distractors only", torch_q["unanswerable_abstention"],
         int8_q["unanswerable_abstention"]),
    ]:  # fmt: skip
        lines.append(f"| {label} | {a:.3f} | {b:.3f} |")
    lines += [
        f"| ask p50 / p95 ms (hybrid) | {th['p50_ms']:.0f} / {th['p95_ms']:.0f} "
        f"| {ih['p50_ms']:.0f} / {ih['p95_ms']:.0f} |",
        f"| indexing {torch_q['chunks']:,} chunks, s | {torch_q['index_seconds']:.1f} "
        f"| {int8_q['index_seconds']:.1f} "
        f"({torch_q['index_seconds'] / int8_q['index_seconds']:.2f}× faster) |",
        "",
        f"Cold `citebot ask` on the dev index ({int8_q['chunks']:,} chunks, {DEFAULT_BACKEND}), "
        f"new process to printed answer, median of 3: {cold:.2f} s.",
        "",
        "## Answer latency and memory by collection size",
        "",
        "Synthetic articles made of dev-set sentences, real pipeline (chunking, SQLite, BM25, "
        "FAISS); vectors are means of the real sentence embeddings (see bench_scale.py). "
        "Latency is question → composed answer with the model warm, one question at a time; "
        "RSS is the whole process with the index loaded after the questions.",
        "",
        "| chunks | index | p50 ms | p95 ms | RSS MiB | recall@10 vs exact | "
        "FAISS MiB | SQLite MiB | BM25 MiB | f16 copy MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in scale:
        d = r["disk_mib"]
        lines.append(
            f"| {r['chunks']:,} | {r['index_type']} | {r['p50_ms']} | {r['p95_ms']} "
            f"| {r['rss_mib']} | {r.get('recall@10_vs_exact', 'exact')} "
            f"| {d.get('vectors.faiss', 0):.0f} | {d.get('store.sqlite', 0):.0f} "
            f"| {d.get('bm25', 0):.0f} | {d.get('embeddings.f16.npy', 0):.0f} |"
        )
    return "\n".join(lines) + "\n"


def render_embed(embed: dict) -> str:
    rows, ctx = embed["rows"], embed["context"]
    base = rows[0]
    lines = [
        f"{ctx['chunks']} dev chunks of {ctx['tokens_per_chunk']:.0f} word pieces on average, "
        f"{ctx['repeats']} repeats; question latency over {ctx['queries']} questions.",
        "",
        "| backend | batch | chunks/s | word pieces/s | × torch | question p50 ms "
        "| cold start s | cosine to torch mean / min |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {r['batch_size']} | {r['chunks_per_s']:.1f} "
            f"| {r['tokens_per_s']:.0f} | {r['chunks_per_s'] / base['chunks_per_s']:.2f} "
            f"| {r['query_ms']:.1f} | {r['cold_start_s']:.2f} "
            f"| {r['cos_mean']:.4f} / {r['cos_min']:.4f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="folder with articles/ and questions.jsonl")
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--questions", type=int, default=200, help="per size in bench_scale")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="only re-write the table from a saved run"
    )
    args = parser.parse_args()
    if args.render:
        saved = json.loads(args.render.read_text())
        args.out.write_text(render(**saved))
        return 0
    dataset = args.dataset.resolve()
    load_start = os.getloadavg()[0]
    where = machine()

    embed, _ = run_json(["bench/bench_embed.py", str(dataset / "articles"), "--json",
                         "--no-int8-batch-row"])  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="citebot-bench-") as tmp:
        qual = {b: quality(dataset, b, Path(tmp) / b) for b in ("torch", DEFAULT_BACKEND)}
        cold = cold_ask(Path(tmp) / DEFAULT_BACKEND / DEFAULT_BACKEND / "all")
    scale, _ = run_json(
        ["bench/bench_scale.py", str(dataset), "--sizes", args.sizes, "--questions",
         str(args.questions), "--out", str(BENCH / "out" / f"scale-{DEFAULT_BACKEND}"), "--json"],
        env={"CITEBOT_EMBED_BACKEND": DEFAULT_BACKEND},
    )  # fmt: skip
    measured = {
        "where": where, "embed": embed, "qual": qual, "cold": cold, "scale": scale,
        "load": (load_start, os.getloadavg()[0]),
    }  # fmt: skip
    raw = BENCH / "out" / "results.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(measured, indent=1))  # `--render` re-writes the table from it
    text = render(**measured)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
