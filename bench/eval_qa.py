"""Quality evaluation over a dataset in the `shared/eval` layout.

    python bench/eval_qa.py PATH/TO/squad-dev [--data DIR] [--modes hybrid,lexical,dense]

Indexes `articles/` (incrementally, so a second run re-embeds nothing), asks every question in
`questions.jsonl` with each retrieval mode and the same answer composer, and prints retrieval,
answer and abstention figures. Abstention on unanswerable questions is measured by asking the
same questions over an index of the distractor articles alone (those no question is about).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from index.answer.compose import Answer
from index.answer.retrieval import Mode
from index.engine import Engine
from index.settings import EngineSettings


@dataclass
class Tally:
    """Running sums for one retrieval mode."""

    n: int = 0
    r1: int = 0
    r5: int = 0
    rr: float = 0.0
    passage_r5: int = 0
    in_quote: int = 0
    abstained: int = 0
    quotes: int = 0
    verbatim: int = 0
    max_chars: int = 0
    latencies: list[float] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        n = max(self.n, 1)
        lat = sorted(self.latencies) or [0.0]
        return {
            "article_R@1": self.r1 / n,
            "article_R@5": self.r5 / n,
            "MRR@10": self.rr / n,
            "passage_R@5": self.passage_r5 / n,
            "answer_in_quote": self.in_quote / n,
            "false_abstention": self.abstained / n,
            "quote_integrity": self.verbatim / max(self.quotes, 1),
            "max_quote_chars": self.max_chars,
            "p50_ms": 1000 * statistics.median(lat),
            "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))],
        }


def score(answer: Answer, question: dict, texts: dict[str, str], tally: Tally) -> None:
    gold = [a.casefold() for a in question["answers"]]
    ranked = [p.chunk.article_id for p in answer.passages]  # one entry per passage, best first
    target = question["article_id"]
    tally.n += 1
    tally.r1 += ranked[:1] == [target]
    tally.r5 += target in ranked[:5]
    if target in ranked[:10]:
        tally.rr += 1 / (ranked.index(target) + 1)
    tally.passage_r5 += any(
        p.chunk.article_id == target and any(g in p.chunk.text.casefold() for g in gold)
        for p in answer.passages[:5]
    )
    tally.abstained += answer.abstained
    quoted = " ".join(q.text for q in answer.quotes)
    tally.max_chars = max(tally.max_chars, sum(len(q.text) for q in answer.quotes))
    tally.in_quote += not answer.abstained and any(g in quoted.casefold() for g in gold)
    for q in answer.quotes:
        tally.quotes += 1
        tally.verbatim += texts[q.article_id][q.start : q.end] == q.text


def run_mode(engine: Engine, questions: list[dict], mode: Mode) -> Tally:
    texts = {a.id: engine.retriever().snapshot.article_text(a.id) for a in engine.articles()}
    tally = Tally()
    engine.ask(questions[0]["question"], k=10, mode=mode)  # warm up
    for q in questions:
        start = time.perf_counter()
        answer = engine.ask(q["question"], k=10, mode=mode)
        tally.latencies.append(time.perf_counter() - start)
        score(answer, q, texts, tally)
    return tally


def abstention_rate(engine: Engine, questions: list[dict]) -> float:
    return sum(engine.ask(q["question"]).abstained for q in questions) / len(questions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "citebot-eval")
    parser.add_argument("--modes", default="hybrid,lexical,dense")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--backend", default=None, help="torch, onnx or onnx-int8 (default: the setting's)"
    )
    args = parser.parse_args()

    questions = [json.loads(line) for line in (args.dataset / "questions.jsonl").open()]
    if args.limit:
        questions = questions[: args.limit]
    articles = args.dataset / "articles"
    overrides = {"embed_backend": args.backend} if args.backend else {}
    settings = EngineSettings(articles_dir=articles, data_dir=args.data, **overrides)
    data = args.data / settings.embed_backend
    engine = Engine(settings.model_copy(update={"data_dir": data / "all"}))
    report = engine.reindex()
    print(f"indexed {report.articles} articles, {report.chunks} chunks ({report.seconds:.1f} s)")

    results = {}
    for mode in [Mode(m) for m in args.modes.split(",")]:
        results[mode.value] = run_mode(engine, questions, mode).row()

    asked = {q["article_id"] for q in questions}
    with tempfile.TemporaryDirectory() as tmp:
        for path in articles.iterdir():
            if path.stem not in asked:
                os.symlink(path.resolve(), Path(tmp) / path.name)
        distractors = Engine(
            settings.model_copy(
                update={"articles_dir": Path(tmp), "data_dir": data / "distractors"}
            ),
            embedder=engine.embedder,
        )
        distractors.reindex()
        unanswerable = abstention_rate(distractors, questions)

    if args.json:
        print(json.dumps({"modes": results, "unanswerable_abstention": unanswerable}))
        return 0
    names = list(next(iter(results.values())).keys())
    print(
        f"{len(questions)} questions, backend {settings.embed_backend}; "
        "median/p95 latency per question, model warm\n"
    )
    print("| metric | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for name in names:
        cells = [
            f"{r[name]:.3f}" if isinstance(r[name], float) else str(r[name])
            for r in results.values()
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nabstention on unanswerable questions (distractor-only index): {unanswerable:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
