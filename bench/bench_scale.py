"""Answer latency, memory and approximate-search recall as the collection grows.

    python bench/bench_scale.py PATH/TO/squad-dev [--sizes 10000,100000,1000000] [--out DIR]

Real text where it can be embedded here, synthetic vectors above that: synthetic articles are
made of sentences drawn from the dev articles; each chunk's vector is the mean of the real
embeddings of its sentences plus a little noise (so vectors cluster like real ones). Chunking,
SQLite, BM25 and FAISS are the real pipeline (`index_articles`). Questions are the dev
questions, embedded by the real model. For each size it reports p50/p95 answer latency
(question -> composed answer, model warm), the process RSS with the index loaded, the index
type, and for approximate indexes recall@10 against exact search. Run on demand, never in CI.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embed.embedder import Embedder, make_embedder
from index.ingest.chunking import split_sentences
from index.ingest.readers import Article, load_articles
from index.settings import EngineSettings

SENTENCES_PER_ARTICLE = 40


class SyntheticEmbedder:
    """Looks up real sentence embeddings; behaves like the real model for everything else."""

    def __init__(self, real: Embedder, table: dict[str, np.ndarray]) -> None:
        self.real = real
        self.table = table
        self.model_id, self.dim, self.max_tokens = real.model_id, real.dim, real.max_tokens
        self.rng = np.random.default_rng(0)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.real.count_tokens(texts)

    def truncate(self, text: str, max_tokens: int) -> str:
        return self.real.truncate(text, max_tokens)

    def embed(self, texts: Sequence[str], *, progress: object = None) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            body = text.split("\n", 1)[-1]
            found = [self.table.get(body[s.start : s.end]) for s in split_sentences(body)]
            found = [v for v in found if v is not None] or [self.rng.standard_normal(self.dim)]
            vec = np.mean(found, axis=0) + 0.02 * self.rng.standard_normal(self.dim)
            out[row] = vec / np.linalg.norm(vec)
        return out


def sentence_pool(dataset: Path, real: Embedder, cache: Path) -> dict[str, np.ndarray]:
    """Every sentence of the dev articles with its real embedding (cached in `cache`)."""
    if cache.exists():
        saved = np.load(cache, allow_pickle=False)
        return dict(zip(saved["sentences"].tolist(), saved["vectors"], strict=True))
    articles = load_articles(dataset / "articles").articles
    sentences = sorted({a.text[s.start : s.end] for a in articles for s in split_sentences(a.text)})
    vectors = real.embed(sentences)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, sentences=np.array(sentences), vectors=vectors)
    return dict(zip(sentences, vectors, strict=True))


def synthetic_articles(pool: list[str], n_chunks: int, chunk_sentences: float) -> list[Article]:
    rng = random.Random(n_chunks)
    n_articles = max(1, int(n_chunks * chunk_sentences / SENTENCES_PER_ARTICLE))
    return [
        Article(
            id=f"synthetic/{i:07d}",
            title=f"Synthetic article {i}",
            text=" ".join(rng.choices(pool, k=SENTENCES_PER_ARTICLE)),
            source=rng.choice(["Wire A", "Wire B", "Daily C"]),
            published=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        )
        for i in range(n_articles)
    ]


def build(dataset: Path, data: Path, size: int) -> dict:
    from index.store.indexer import index_articles

    real = make_embedder(EngineSettings())  # the configured backend, as `citebot` uses
    table = sentence_pool(dataset, real, data.parent / "sentences.npz")
    pool = list(table)
    # Calibrate sentences per chunk on a sample, then generate enough articles for `size`.
    probe = index_articles(
        synthetic_articles(pool, 2000, 5.0), data / "probe", SyntheticEmbedder(real, table)
    )
    per_chunk = 5.0 * probe.chunks / 2000 / 5.0
    articles = synthetic_articles(pool, size, 5.0 / max(per_chunk, 0.1))
    started = time.perf_counter()
    report = index_articles(articles, data / "index", SyntheticEmbedder(real, table))
    return {"chunks": report.chunks, "build_seconds": round(time.perf_counter() - started, 1)}


def query(dataset: Path, data: Path, n_questions: int) -> dict:
    """Run in a fresh process so RSS is that of a server holding this index."""
    from index.engine import Engine
    from index.settings import EngineSettings

    questions = [json.loads(line)["question"] for line in (dataset / "questions.jsonl").open()]
    questions = questions[:n_questions]
    engine = Engine(EngineSettings(data_dir=data / "index"))
    engine.ask(questions[0])
    latencies = []
    for q in questions:
        start = time.perf_counter()
        engine.ask(q)
        latencies.append(1000 * (time.perf_counter() - start))
    snapshot = engine.retriever().snapshot
    memory = _memory_mib()  # before the recall check below reads every vector
    result = {
        "index_type": snapshot.manifest["index_type"],
        "chunks": snapshot.chunk_count,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 1),
        "rss_mib": memory["VmRSS"],
        "rss_anon_mib": memory["RssAnon"],
        "rss_file_mib": memory["RssFile"],
        "disk_mib": _disk_mib(snapshot.path),
    }
    if result["index_type"] != "flat":
        result["recall@10_vs_exact"] = recall_vs_exact(engine, snapshot, questions[:100])
    return result


def recall_vs_exact(engine: object, snapshot: object, questions: list[str]) -> float:
    """recall@10 of the dense index against exact search over every live float16 vector."""
    import faiss

    qv = engine.embedder.embed(questions)  # type: ignore[attr-defined]
    rows = snapshot.rows  # type: ignore[attr-defined]
    live = np.flatnonzero(rows.live)
    exact = faiss.IndexFlatIP(qv.shape[1])
    for start in range(0, len(live), 100_000):
        exact.add(rows.vectors(live[start : start + 100_000]).astype(np.float32))
    _, want = exact.search(qv, 10)
    got = [[cid for cid, _ in snapshot.vectors.search(q, 10)] for q in qv]  # type: ignore[attr-defined]
    ids = rows.chunk_ids[live]
    hits = [len(set(ids[w]) & set(g)) / 10 for w, g in zip(want, got, strict=True)]
    return round(float(np.mean(hits)), 3)


def _memory_mib() -> dict[str, float]:
    """VmRSS, RssAnon (the process's own memory) and RssFile (mapped file pages), in MiB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024)
    return fields


def _disk_mib(gen: Path) -> dict[str, float]:
    """Size on disk of each kind of file of an index generation (and of the shared SQLite
    database beside it), in MiB; files of the same name in all segments are added up."""
    sizes: dict[str, float] = {}
    for path in [*gen.rglob("*"), *gen.parent.glob("store.sqlite*")]:
        if path.is_file():
            sizes[path.name] = sizes.get(path.name, 0) + path.stat().st_size / 2**20
    return {name: round(size, 1) for name, size in sorted(sizes.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--out", type=Path, default=Path("bench/out/scale"))
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON list")
    parser.add_argument("--query-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.query_only:
        print(json.dumps(query(args.dataset, args.query_only, args.questions)))
        return 0
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        data = args.out / str(size)
        if not (data / "index" / "CURRENT").exists():
            built = build(args.dataset, data, size)
            print(f"built {size}: {built}", file=sys.stderr)
        out = subprocess.run(
            [sys.executable, __file__, str(args.dataset), "--query-only", str(data),
             "--questions", str(args.questions)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        row = {"target": size, **json.loads(out.stdout.strip().splitlines()[-1])}
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    if args.json:
        print(json.dumps(rows))
        return 0
    print("\n| chunks | index | p50 ms | p95 ms | RSS MiB | recall@10 vs exact |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        recall = r.get("recall@10_vs_exact", "exact")
        print(
            f"| {r['chunks']:,} | {r['index_type']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['rss_mib']} | {recall} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
