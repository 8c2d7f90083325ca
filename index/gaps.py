"""Coverage gaps: the questions the articles failed to answer, grouped when they are alike.

A question counts when citebot abstained on it, or when its answer got more 👎 than 👍.
Questions whose embeddings are near-duplicates (cosine at least `SAME_QUESTION`) form one gap;
gaps are listed most frequent first, each with its count, its most recent wording, and a link
to its most recent instance that has one. Private questions (`/ask private:true`) never
appear.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from index.embed.embedder import Embedder
from index.feedback import FeedbackStore

log = logging.getLogger(__name__)

# Cosine between two questions' embeddings (all-MiniLM-L6-v2) from which they are one gap.
# Measured with bench/gap_threshold.py: rewordings of a question scored 0.83-0.97, different
# questions about the same thing 0.61-0.76.
SAME_QUESTION = 0.8
DEFAULT_DAYS = 30


@dataclass(frozen=True)
class FailedQuestion:
    """An abstention, or an answer voted down more than up."""

    question: str
    asked_at: str
    link: str | None
    abstained: bool
    up: int
    down: int


@dataclass
class Gap:
    """Near-duplicate questions the articles failed to answer."""

    questions: list[FailedQuestion] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def latest(self) -> FailedQuestion:
        return self.questions[-1]

    @property
    def link(self) -> str | None:
        """A link to the most recent instance that has one."""
        return next((q.link for q in reversed(self.questions) if q.link), None)

    @property
    def abstentions(self) -> int:
        return sum(q.abstained for q in self.questions)

    @property
    def voted_down(self) -> int:
        return sum(not q.abstained for q in self.questions)

    def as_json(self) -> dict:
        """The `citebot gaps --json` shape of a gap."""
        return {
            "question": self.latest.question,
            "count": self.count,
            "abstained": self.abstentions,
            "voted_down": self.voted_down,
            "last_asked": self.latest.asked_at,
            "link": self.link,
            "questions": sorted({q.question for q in self.questions}),
        }


def failed_questions(store: FeedbackStore, days: float) -> list[FailedQuestion]:
    """Public questions of the last `days` days that were abstained on or voted down, oldest
    first."""
    down = "COALESCE(SUM(v.vote = -1), 0)"
    up = "COALESCE(SUM(v.vote = 1), 0)"
    with store.connect() as conn:
        rows = conn.execute(
            f"SELECT a.question, a.created_at, a.link, a.abstained, {up}, {down}"
            " FROM answers a LEFT JOIN votes v ON v.answer_id = a.id"
            " WHERE a.created_at >= ? AND a.private = 0 GROUP BY a.id"
            f" HAVING a.abstained = 1 OR {down} > {up} ORDER BY a.created_at, a.rowid",
            (store.since(timedelta(days=days)),),
        ).fetchall()
    return [FailedQuestion(q, t, link, bool(ab), int(u), int(d)) for q, t, link, ab, u, d in rows]


def group_questions(
    questions: list[FailedQuestion], embedder: Embedder, same: float = SAME_QUESTION
) -> list[Gap]:
    """Near-duplicate questions grouped (each joins the first gap it is close enough to),
    most frequent first, then most recent first."""
    if not questions:
        return []
    vectors = embedder.embed([" ".join(q.question.casefold().split()) for q in questions])
    gaps: list[Gap] = []
    heads: list[np.ndarray] = []
    for question, vector in zip(questions, vectors, strict=True):
        scores = [float(vector @ head) for head in heads]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= same:
            gaps[best].questions.append(question)
        else:
            gaps.append(Gap([question]))
            heads.append(vector)
    gaps.sort(key=lambda g: g.latest.asked_at, reverse=True)
    return sorted(gaps, key=lambda g: g.count, reverse=True)  # stable: recent first on ties


def coverage_gaps(
    store: FeedbackStore, embedder: Embedder, days: float = DEFAULT_DAYS
) -> list[Gap]:
    """The gaps of the last `days` days, most frequent first."""
    store.prune()
    return group_questions(failed_questions(store, days), embedder)
