"""Answer quality on the development sets, every retrieval mode in one run.

    python bench/eval_qa.py PATH/TO/squad-dev [--news PATH/TO/news-dev]
        [--news-later PATH/TO/news-later] [--data DIR] [--modes hybrid,lexical,dense]
        [--backend B] [--limit N] [--json]

squad-dev (`shared/eval` layout) is asked over all its articles, then over its distractor
articles alone (no question is about them: every question is unanswerable there). The news set
(`build_news.py` output) is asked with each question's `question_date` as the date of asking;
its unanswerable questions are those whose answer appears in no article of the later
collection (`build_news.py --start 20230701 --end 20231231`), asked over that collection with
no date of asking (every later article is after the question's date, which would leave nothing
to search).

Figures are given for all questions and for the two fixed halves (`calibration`, used to
choose weights and thresholds, and `report`; split by a hash of the question id). Indexes are
kept under --data and updated incrementally, so a second run embeds nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from qa_metrics import Tally, fold, gold, half  # bench/ is on the path when run as a script

from index.answer.retrieval import Mode
from index.embed.embedder import Embedder
from index.engine import Engine
from index.settings import EngineSettings

SPLITS = ("all", "calibration", "report")


def indexed(
    settings: EngineSettings, articles: Path, data: Path, embedder: Embedder | None = None
) -> Engine:
    """An engine over `articles`, indexed (incrementally) into `data`."""
    settings = settings.model_copy(update={"articles_dir": articles, "data_dir": data})
    engine = Engine(settings, embedder=embedder)
    report = engine.reindex()
    print(
        f"indexed {report.articles} articles, {report.chunks} chunks ({report.seconds:.1f} s)",
        flush=True,
    )
    return engine


def as_of(question: dict) -> date | None:
    return date.fromisoformat(question["question_date"]) if "question_date" in question else None


def answerable(engine: Engine, questions: list[dict], mode: Mode) -> dict[str, Tally]:
    """Every question asked over its own collection, scored per split."""
    texts = {a.id: engine.retriever().snapshot.article_text(a.id) or "" for a in engine.articles()}
    tallies = {split: Tally() for split in SPLITS}
    engine.ask(questions[0]["question"], k=10, mode=mode)  # warm up
    for q in questions:
        start = time.perf_counter()
        answer = engine.ask(q["question"], k=10, mode=mode, as_of=as_of(q))
        seconds = time.perf_counter() - start
        for split in ("all", half(q["id"])):
            tallies[split].add(answer, q, texts, seconds)
    return tallies


def unanswerable(engine: Engine, questions: list[dict], mode: Mode) -> dict[str, dict]:
    """Abstention (and quote checks) on questions the collection cannot answer, per split."""
    texts = {a.id: engine.retriever().snapshot.article_text(a.id) or "" for a in engine.articles()}
    counts = {split: [0, 0] for split in SPLITS}
    check = Tally()
    for q in questions:
        answer = engine.ask(q["question"], k=10, mode=mode)
        check.check_quotes(answer, texts)
        for split in ("all", half(q["id"])):
            counts[split][0] += answer.abstained
            counts[split][1] += 1
    out = {s: {"questions": n, "abstention": a / max(n, 1)} for s, (a, n) in counts.items()}
    out["all"].update(quote_integrity=check.verbatim / max(check.quotes, 1), bad_quotes=check.bad)
    return out


def squad_set(
    args: argparse.Namespace, settings: EngineSettings, data: Path
) -> tuple[dict, Embedder]:
    questions = load(args.dataset, args.limit)
    engine = indexed(settings, args.dataset / "articles", data / "all")
    asked = {q["article_id"] for q in questions}
    with tempfile.TemporaryDirectory() as tmp:
        for path in (args.dataset / "articles").iterdir():
            if path.stem not in asked:
                os.symlink(path.resolve(), Path(tmp) / path.name)
        distractors = indexed(settings, Path(tmp), data / "distractors", engine.embedder)
    return run_set(engine, questions, distractors, questions, args.modes), engine.embedder


def news_set(
    args: argparse.Namespace, settings: EngineSettings, data: Path, embedder: Embedder
) -> dict:
    questions = load(args.news, args.limit)
    engine = indexed(settings, args.news / "articles", data / "news", embedder)
    later = indexed(settings, args.news_later / "articles", data / "news-later", embedder)
    texts = [fold(p.read_text(encoding="utf-8")) for p in (args.news_later / "articles").iterdir()]
    unanswered = [q for q in questions if not any(a in t for a in gold(q) for t in texts)]
    return run_set(engine, questions, later, unanswered, args.modes)


def run_set(
    engine: Engine, questions: list[dict], other: Engine, unanswered: list[dict], modes: list[Mode]
) -> dict:
    result: dict = {"modes": {}, "unanswerable": {}}
    for mode in modes:
        tallies = answerable(engine, questions, mode)
        result["modes"][mode.value] = {s: t.row() for s, t in tallies.items()}
        result["unanswerable"][mode.value] = unanswerable(other, unanswered, mode)
    return result


def load(dataset: Path, limit: int) -> list[dict]:
    lines = (dataset / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line) for line in lines if line.strip()]
    return questions[:limit] if limit else questions


def print_set(name: str, result: dict) -> None:
    modes = list(result["modes"])
    rows = next(iter(result["modes"].values()))["all"]
    print(f"\n## {name}: {rows['questions']} questions, all modes (median/p95 ms, model warm)\n")
    print("| metric | " + " | ".join(modes) + " |")
    print("|---|" + "---|" * len(modes))
    for metric in rows:
        cells = [_cell(result["modes"][m]["all"][metric]) for m in modes]
        print(f"| {metric} | " + " | ".join(cells) + " |")
    cells = [_cell(result["unanswerable"][m]["all"]["abstention"]) for m in modes]
    print("| unanswerable abstention | " + " | ".join(cells) + " |")
    n = result["unanswerable"][modes[0]]["all"]["questions"]
    print(f"\n{name}, hybrid, by half ({n} unanswerable questions in all):\n")
    print("| half | in top-5 passage | in quote | in first quote | false abst. | unans. abst. |")
    print("|---|---|---|---|---|---|")
    for split in SPLITS:
        row = result["modes"][modes[0]][split]
        un = result["unanswerable"][modes[0]][split]
        print(
            f"| {split} ({row['questions']}) | {row['answer_in_top5_passage']:.3f} "
            f"| {row['answer_in_quote']:.3f} | {row['answer_in_first_quote']:.3f} "
            f"| {row['false_abstention']:.3f} | {un['abstention']:.3f} ({un['questions']}) |"
        )


def _cell(value: float | int) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="squad-dev (shared/eval layout)")
    parser.add_argument("--news", type=Path, help="the news development set (build_news.py)")
    parser.add_argument("--news-later", type=Path, help="the later news collection")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "citebot-eval")
    parser.add_argument("--modes", default="hybrid,lexical,dense")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--backend", default=None, help="torch, onnx or onnx-int8")
    args = parser.parse_args()
    args.modes = [Mode(m) for m in args.modes.split(",")]
    if args.news and not args.news_later:
        parser.error("--news needs --news-later (the collection for unanswerable questions)")
    overrides = {"embed_backend": args.backend} if args.backend else {}
    settings = EngineSettings(**overrides)
    data = args.data / settings.embed_backend
    squad, embedder = squad_set(args, settings, data)
    results = {
        # The squad-dev figures at the top level, as bench/run_all.py reads them.
        "modes": {m: rows["all"] for m, rows in squad["modes"].items()},
        "unanswerable_abstention": squad["unanswerable"][args.modes[0].value]["all"]["abstention"],
        "squad": squad,
    }
    if args.news:
        results["news"] = news_set(args, settings, data, embedder)
    if args.json:
        print(json.dumps(results))
        return 0
    print_set("squad-dev", squad)
    if args.news:
        print_set("news", results["news"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
