"""What updates cost as the collection grows, and the memory of indexing and answering.

    python bench/bench_update.py PATH/TO/squad-dev [--sizes 100000,1000000]
        [--out /work/benchdata/update] [--count 10] [--repeats 3] [--results bench/RESULTS.md]
    python bench/bench_update.py --render SAVED.json [--results bench/RESULTS.md]

For each size, an articles folder of synthetic .txt articles is written under OUT/SIZE/ (made
like bench_scale.py's: sentences of the dev articles; each chunk's vector is the mean of its
sentences' real embeddings plus noise) and indexed by `update_index`, the code `citebot index`
runs, in a child process that reports its peak RSS. Then, each in a fresh process, `--repeats`
times: a reindex with nothing to do; adding `--count` new articles (embedded by the real
default model, whose time is reported apart); removing `--count` of the original articles.
Last, answering: p50/p95 of 200 dev questions, RSS (own and file pages) and, past
CITEBOT_APPROXIMATE_FROM, recall@10 of the dense index against exact search. Prints one JSON
object, and writes its section of bench/RESULTS.md (between the UPDATE markers; the rest of
that file is run_all.py's). Never run in CI; the 1M-chunk build takes about an hour on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import (
    SENTENCES_PER_ARTICLE,
    SyntheticEmbedder,
    _memory_mib,
    sentence_pool,
)

from index.embed.embedder import make_embedder
from index.ingest.chunking import chunk_text
from index.settings import EngineSettings

FILES_PER_FOLDER = 1000
SUMMARY = ("seconds", "embedding_seconds", "without_embedding_seconds", "embedded",
           "peak_rss_mib", "chunks")  # fmt: skip
PROBE_ARTICLES = 200  # articles chunked to learn how many chunks an article makes
BEGIN, END = "<!-- bench_update.py: begin -->", "<!-- bench_update.py: end -->"


def write_corpus(dataset: Path, folder: Path, size: int) -> int:
    """Write the synthetic articles of a `size`-chunk collection as .txt files; return how many."""
    model = make_embedder(EngineSettings())
    pool = list(sentence_pool(dataset, model, _pool_cache(folder)))
    rng = random.Random(size)

    def body() -> str:
        return " ".join(rng.choices(pool, k=SENTENCES_PER_ARTICLE))

    probe = [len(chunk_text(body(), model.count_tokens, 200, 1)) for _ in range(PROBE_ARTICLES)]
    n_articles = round(size / statistics.mean(probe))
    for i in range(n_articles):
        sub = folder / f"{i // FILES_PER_FOLDER:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"a{i:07d}.txt").write_text(f"Synthetic article {i}\n{body()}\n", "utf-8")
    return n_articles


def _pool_cache(folder: Path) -> Path:
    return folder.parent.parent / "sentences.npz"


def child(dataset: Path, articles: Path, data: Path, real: bool) -> dict[str, Any]:
    """One reindex, in this (fresh) process: seconds, counts, embedding time, peak RSS."""
    from index.store.indexer import update_index

    model = make_embedder(EngineSettings())
    table = {} if real else sentence_pool(dataset, model, _pool_cache(articles))
    embedder = model if real else SyntheticEmbedder(model, table)
    timed = _Timed(embedder)
    model.embed(["warm up"])  # load the model before the clock starts
    started = time.perf_counter()
    report = update_index(articles, data, timed)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "embedding_seconds": round(timed.seconds, 2),
        "without_embedding_seconds": round(seconds - timed.seconds, 2),
        "embedded": report.embedded,
        **{k: v for k, v in report.as_json().items() if k not in ("failed", "seconds")},
        "peak_rss_mib": _memory_mib()["VmHWM"],
    }


class _Timed:
    """An embedder wrapper that adds up the time spent embedding."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id, self.dim, self.max_tokens = inner.model_id, inner.dim, inner.max_tokens
        self.seconds = 0.0

    def count_tokens(self, texts: Any) -> list[int]:
        return self.inner.count_tokens(texts)

    def truncate(self, text: str, max_tokens: int) -> str:
        return self.inner.truncate(text, max_tokens)

    def embed(self, texts: Any, *, progress: Any = None) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


def run_child(dataset: Path, articles: Path, data: Path, real: bool = False) -> dict[str, Any]:
    args = [sys.executable, __file__, str(dataset), "--child", str(articles), str(data)]
    out = subprocess.run(args + (["--real"] if real else []), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"reindex failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(row), file=sys.stderr, flush=True)
    return row


def measure(dataset: Path, root: Path, size: int, count: int, repeats: int) -> dict[str, Any]:
    articles, data = root / "articles", root / "index"
    result: dict[str, Any] = {"target": size}
    if not articles.exists():
        result["articles_written"] = write_corpus(dataset, articles, size)
    if not (data / "CURRENT").exists():
        result["build"] = run_child(dataset, articles, data)
    pool = [f.read_text(encoding="utf-8") for f in sorted(articles.glob("0000/*.txt"))[:50]]
    rng = random.Random(size)
    steps: dict[str, list[dict[str, Any]]] = {"no_change": [], "add": [], "remove": []}
    originals = sorted(articles.glob("*/a*.txt"))
    for repeat in range(repeats):
        steps["no_change"].append(run_child(dataset, articles, data))
        added = articles / "added"
        added.mkdir(exist_ok=True)
        for i in range(count):  # new articles: shuffled sentences of existing ones, new titles
            words = rng.sample(pool, 1)[0].split(". ")
            rng.shuffle(words)
            body = ". ".join(words[:SENTENCES_PER_ARTICLE])
            name = f"new-{repeat}-{i}"
            (added / f"{name}.txt").write_text(f"Added article {name}\n{body}\n", "utf-8")
        steps["add"].append(run_child(dataset, articles, data, real=True))
        for path in originals[repeat * count : (repeat + 1) * count]:
            path.unlink()
        steps["remove"].append(run_child(dataset, articles, data))
    for name, rows in steps.items():
        result[name] = {key: statistics.median(r[key] for r in rows) for key in SUMMARY}
    result["answering"] = _query(dataset, root)
    return result


def _query(dataset: Path, root: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "bench_scale.py"), str(dataset),
         "--query-only", str(root)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def render(run: dict[str, Any]) -> str:
    """The Markdown section of bench/RESULTS.md for one saved run."""
    lines = [
        BEGIN,
        "## Updates and memory at scale (bench_update.py)",
        "",
        f"`python bench/bench_update.py PATH/TO/squad-dev --sizes ...`, run {run['date']} on "
        f"{run['machine']}; {_load(run)}. Synthetic articles (dev-set sentences; vectors from "
        "real sentence embeddings), indexed by the code `citebot index` runs, each step in a "
        f"fresh process; update steps are medians of {run['repeats']}; new articles are "
        "embedded by the real default model (its time is shown apart).",
        "",
        "| chunks | full build s | build peak RSS MiB | no-change reindex s "
        "| add 10 articles s (embedding s) | remove 10 articles s | update peak RSS MiB "
        "| index | p50 / p95 ms | RSS MiB (own + file pages) | recall@10 vs exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in run["rows"]:
        build, ask = row.get("build", {}), row["answering"]
        peak = max(row[step]["peak_rss_mib"] for step in ("no_change", "add", "remove"))
        lines.append(
            f"| {ask['chunks']:,} | {build.get('seconds', '—')} "
            f"| {build.get('peak_rss_mib', '—')} | {row['no_change']['seconds']} "
            f"| {row['add']['seconds']} ({row['add']['embedding_seconds']}) "
            f"| {row['remove']['seconds']} | {peak} | {ask['index_type']} "
            f"| {ask['p50_ms']} / {ask['p95_ms']} "
            f"| {ask['rss_mib']} ({ask['rss_anon_mib']} + {ask['rss_file_mib']}) "
            f"| {ask.get('recall@10_vs_exact', 'exact')} |"
        )
    lines += [f"\n{note}" for note in run.get("notes", [])]  # what a later partial run changed
    lines += ["", END]
    return "\n".join(lines)


def _load(run: dict[str, Any]) -> str:
    if "load" not in run:
        return "load average not recorded (shared machine: times are upper bounds)"
    start, end = run["load"]
    return f"1-minute load average {start:.1f} at the start, {end:.1f} at the end"


def write_section(results: Path, section: str) -> None:
    """Put `section` into `results` in place of the previous one, or at its end."""
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    if BEGIN in text and END in text:
        head, _, rest = text.partition(BEGIN)
        text = head + section + rest.partition(END)[2]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, nargs="?")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--out", type=Path, default=Path("/work/benchdata/update"))
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--real", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "RESULTS.md")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only re-write the section")
    args = parser.parse_args()
    if args.render:
        write_section(args.results, render(json.loads(args.render.read_text())))
        return 0
    if args.dataset is None:
        parser.error("the squad-dev folder is needed")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.child:
        print(json.dumps(child(args.dataset, *args.child, real=args.real)))
        return 0
    load_start = os.getloadavg()[0]
    rows = [
        measure(args.dataset, args.out / str(size), size, args.count, args.repeats)
        for size in (int(s) for s in args.sizes.split(","))
    ]
    run = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "load": (load_start, os.getloadavg()[0]),
        "repeats": args.repeats,
        "rows": rows,
    }
    saved = args.out / "update-results.json"
    saved.write_text(json.dumps(run, indent=1))  # `--render` re-writes the section from it
    write_section(args.results, render(run))
    print(json.dumps(run, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
