"""Re-derive the abstention weights and threshold (index/answer/confidence.py).

    python bench/calibrate_abstention.py PATH/TO/squad-dev --news PATH/TO/news-dev
        --news-later PATH/TO/news-later [--data DIR] [--false-abstention 0.03]

For every question of both development sets it computes the evidence the confidence weighs
(best passage cosine, best sentence coverage, best sentence cosine among the checked ones,
share of the question's names and phrases that the passages mention), twice: over its own
collection (answerable) and over a collection that cannot answer it (squad-dev's distractor
articles; the later news articles, for the news questions whose answer none of them holds).
It fits a logistic regression, answerable against unanswerable, on the `calibration` half only
(each corpus weighted equally), then takes the highest threshold that keeps false abstention at
or below the target on the calibration half of each set, and prints the constants to paste
into confidence.py with the figures of both halves. Last, the most these signals allow: with
the threshold picked on each report half itself (false abstention exactly at the target there),
how often the unanswerable questions of that half abstain; no threshold chosen honestly does
better, so a target above it needs a better signal, not a better fit. Uses the indexes
bench/eval_qa.py builds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from eval_qa import as_of, indexed, load  # bench/ is on the path when run as a script
from qa_metrics import fold, gold, half

from index.answer.choose import evidence_for
from index.answer.retrieval import prepare_query
from index.engine import Engine, clean_question, with_as_of
from index.settings import EngineSettings

FEATURES = ("passage_cosine", "coverage", "sentence_cosine", "mentions")


def features(engine: Engine, question: dict, dated: bool) -> list[float] | None:
    """The evidence of one question over `engine`'s collection (None: nothing quotable)."""
    retriever = engine.retriever()
    query = prepare_query(clean_question(question["question"]), engine.embedder)
    when = as_of(question) if dated else None
    passages = retriever.search(query, 10, with_as_of(None, when))
    evidence = evidence_for(query, passages, retriever.lexical, engine.embedder)
    if evidence is None:
        return None
    best = max(evidence.sentence_cosines, default=-1.0)
    return [evidence.passage_cosine, evidence.coverage, best, evidence.mentions]


def collect(engine: Engine, questions: list[dict], dated: bool) -> list[tuple[str, list | None]]:
    return [(q["id"], features(engine, q, dated)) for q in questions]


def fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by gradient descent, on standardised features."""
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = (x - mu) / sd
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(3000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = (p - y) * weights
        w -= 0.1 * (z.T @ g / len(g) + 1e-3 * w)
        b -= 0.1 * g.mean()
    return w / sd, float(b - (w / sd) @ mu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--news", type=Path, required=True)
    parser.add_argument("--news-later", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "citebot-eval")
    parser.add_argument("--false-abstention", type=float, default=0.03)
    args = parser.parse_args()
    settings = EngineSettings()
    data = args.data / settings.embed_backend
    squad_q, news_q = load(args.dataset, 0), load(args.news, 0)
    squad = indexed(settings, args.dataset / "articles", data / "all")
    embedder = squad.embedder
    distractors = Engine(
        settings.model_copy(update={"data_dir": data / "distractors"}), embedder=embedder
    )
    news = indexed(settings, args.news / "articles", data / "news", embedder)
    later = indexed(settings, args.news_later / "articles", data / "news-later", embedder)
    texts = [fold(p.read_text(encoding="utf-8")) for p in (args.news_later / "articles").iterdir()]
    unanswered = [q for q in news_q if not any(a in t for a in gold(q) for t in texts)]
    groups = {
        "squad answerable": (collect(squad, squad_q, False), 1),
        "squad unanswerable": (collect(distractors, squad_q, False), 0),
        "news answerable": (collect(news, news_q, True), 1),
        "news unanswerable": (collect(later, unanswered, False), 0),
    }
    train_x, train_y, train_w = [], [], []
    for rows, label in groups.values():
        chosen = [f for i, f in rows if f is not None and half(i) == "calibration"]
        train_x += chosen
        train_y += [label] * len(chosen)
        train_w += [1.0 / len(chosen)] * len(chosen)
    w, b = fit(np.array(train_x), np.array(train_y, float), np.array(train_w) / np.mean(train_w))

    def score(row: list | None) -> float:
        return -np.inf if row is None else float(np.array(row) @ w + b)

    limits = []
    for name in ("squad answerable", "news answerable"):
        s = sorted(score(f) for i, f in groups[name][0] if half(i) == "calibration")
        limits.append(s[int(np.floor(args.false_abstention * len(s)))])
    threshold = min(limits)
    scale = 2 * w[FEATURES.index("sentence_cosine")]  # W_SENTENCE_COS = 0.5, as before
    for name, value in zip(FEATURES, w / scale, strict=True):
        print(f"{name:16s} weight {value:.3f}")
    print(f"ABSTAIN_BELOW = {(threshold - b) / scale:.3f}")
    for name, (rows, _label) in groups.items():
        for split in ("calibration", "report"):
            chosen = [score(f) for i, f in rows if half(i) == split]
            rate = sum(s < threshold for s in chosen) / max(len(chosen), 1)
            print(f"{name:20s} {split:12s} abstains on {rate:.3f} of {len(chosen)}")
    for corpus in ("squad", "news"):
        print(f"{corpus}: {frontier(groups, score, corpus, args.false_abstention)}")
    return 0


def frontier(
    groups: dict, score: Callable[[list | None], float], corpus: str, false_abstention: float
) -> str:
    """The unanswerable report-half abstention at a threshold chosen on that half itself."""
    answerable = sorted(
        score(f) for i, f in groups[f"{corpus} answerable"][0] if half(i) == "report"
    )
    cut = answerable[int(np.floor(false_abstention * len(answerable)))]
    unanswerable = [score(f) for i, f in groups[f"{corpus} unanswerable"][0] if half(i) == "report"]
    rate = sum(s < cut for s in unanswerable) / max(len(unanswerable), 1)
    return (
        f"at most {rate:.3f} of the unanswerable report half abstains at "
        f"{false_abstention:.0%} false abstention on that half (threshold chosen on it)"
    )


if __name__ == "__main__":
    sys.exit(main())
