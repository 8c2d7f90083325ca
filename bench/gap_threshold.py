"""Cosines between question pairs, to check the near-duplicate threshold of index/gaps.py.

    python bench/gap_threshold.py

Rewordings of one question should score at or above `SAME_QUESTION`, different questions
(even about the same thing) below it. Prints each pair's cosine and the margin on each side.
"""

from __future__ import annotations

from index.embed.embedder import make_embedder
from index.gaps import SAME_QUESTION
from index.settings import EngineSettings

REWORDINGS = [
    ("How tall is the harbour bridge?", "What is the height of the harbour bridge?"),
    ("How tall is the harbour bridge?", "how high is the bridge in the harbour?"),
    ("Who is the mayor of Greenvale?", "who's Greenvale's mayor?"),
    ("Who is the mayor of Greenvale?", "Who runs the city of Greenvale?"),
    ("When will the ferries stop running?", "when do the ferry services end?"),
    ("What did the library robots cost?", "How much were the robots at the library?"),
]
DIFFERENT = [
    ("What is the weather tomorrow?", "Will it rain tomorrow?"),
    ("How tall is the harbour bridge?", "When did the harbour bridge reopen?"),
    ("How tall is the harbour bridge?", "How much did the harbour bridge cost?"),
    ("When will the ferries stop running?", "How many passengers do the ferries carry?"),
    ("What did the library robots cost?", "How many children are on the waiting list?"),
]


def main() -> None:
    embedder = make_embedder(EngineSettings(_env_file=None))
    results = {}
    for name, pairs in (("rewordings", REWORDINGS), ("different", DIFFERENT)):
        texts = [" ".join(t.casefold().split()) for pair in pairs for t in pair]
        vectors = embedder.embed(texts)
        scores = [float(vectors[2 * i] @ vectors[2 * i + 1]) for i in range(len(pairs))]
        for (a, b), score in zip(pairs, scores, strict=True):
            print(f"{name:10} {score:.3f}  {a} | {b}")
        results[name] = scores
    print(
        f"threshold {SAME_QUESTION}: rewordings {min(results['rewordings']):.3f}-"
        f"{max(results['rewordings']):.3f}, different {min(results['different']):.3f}-"
        f"{max(results['different']):.3f}"
    )


if __name__ == "__main__":
    main()
