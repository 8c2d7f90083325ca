"""Scoring for bench/eval_qa.py: gold-answer matching, quote checks, running tallies, splits.

Matching folds case, whitespace and typographic quote marks, and strips quote marks and a
final full stop around a gold answer ('“Jaws”' matches "Jaws"); nothing else is forgiven.
"""

from __future__ import annotations

import hashlib
import re
import statistics
from dataclasses import dataclass, field

from index.answer.compose import Answer

_FOLD = str.maketrans({"‘": "'", "’": "'", "‛": "'", "“": '"', "”": '"', "„": '"'})
# What a quote must never be: Markdown syntax, a heading, a list item, a byline, a credit.
_BAD_QUOTE = re.compile(
    r"^\s*(?:#|[-*+•] |>|\d+[.)] )|\*\*|__|\]\(|!\[|^By [A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,3}$"
    r"|©|\bPhoto:|\bGetty Images\b",
    re.MULTILINE,
)


def fold(text: str) -> str:
    """Case, whitespace and quote marks folded."""
    return " ".join(text.translate(_FOLD).casefold().split())


def gold(question: dict) -> list[str]:
    """The question's gold answers, folded, without surrounding quote marks or full stop."""
    folded = (fold(a).strip(" \"'.") for a in question["answers"])
    return [a for a in folded if a]


def holds(text: str, answers: list[str]) -> bool:
    """Whether `text` contains one of the (folded) gold answers."""
    folded = fold(text)
    return any(a in folded for a in answers)


def bad_quote(text: str, title: str) -> bool:
    """A quote that is a heading, a bare title, a byline, a credit or Markdown syntax."""
    return bool(_BAD_QUOTE.search(text)) or fold(text).strip(" .") == fold(title).strip(" .")


def half(question_id: str) -> str:
    """ "calibration" or "report": a fixed split of the questions by a hash of their id."""
    return (
        "calibration"
        if int(hashlib.sha1(question_id.encode()).hexdigest(), 16) % 2 == 0
        else ("report")
    )


@dataclass
class Tally:
    """Running sums for one retrieval mode over some questions."""

    n: int = 0
    r1: int = 0  # the gold article ranks first (squad-dev: one gold article per question)
    r5: int = 0
    rr: float = 0.0
    passage_r5: int = 0  # a top-5 passage of the gold article holds the answer
    in_passage: int = 0  # any top-5 passage holds the answer
    in_quote: int = 0
    in_first: int = 0
    abstained: int = 0
    quotes: int = 0
    verbatim: int = 0
    bad: int = 0
    max_chars: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, answer: Answer, question: dict, texts: dict[str, str], seconds: float) -> None:
        """Score one answer to an answerable question."""
        answers = gold(question)
        target = question.get("article_id")
        ranked = [p.chunk.article_id for p in answer.passages]
        self.n += 1
        self.latencies.append(seconds)
        self.r1 += ranked[:1] == [target]
        self.r5 += target in ranked[:5]
        if target in ranked[:10]:
            self.rr += 1 / (ranked.index(target) + 1)
        top = answer.passages[:5]
        self.passage_r5 += any(
            p.chunk.article_id == target and holds(p.chunk.text, answers) for p in top
        )
        self.in_passage += any(holds(p.chunk.text, answers) for p in top)
        self.abstained += answer.abstained
        self.check_quotes(answer, texts)
        if answer.abstained or not answer.quotes:
            return
        self.in_quote += holds(" ".join(q.text for q in answer.quotes), answers)
        self.in_first += holds(answer.quotes[0].text, answers)

    def check_quotes(self, answer: Answer, texts: dict[str, str]) -> None:
        """Count quotes, verbatim quotes and quotes that should never have been made."""
        self.max_chars = max(self.max_chars, sum(len(q.text) for q in answer.quotes))
        for quote in answer.quotes:
            self.quotes += 1
            self.verbatim += texts[quote.article_id][quote.start : quote.end] == quote.text
            self.bad += bad_quote(quote.text, answer.source(quote.n).title)

    def row(self) -> dict[str, float]:
        n = max(self.n, 1)
        lat = sorted(self.latencies) or [0.0]
        return {
            "questions": self.n,
            "article_R@1": self.r1 / n,
            "article_R@5": self.r5 / n,
            "MRR@10": self.rr / n,
            "passage_R@5": self.passage_r5 / n,
            "answer_in_top5_passage": self.in_passage / n,
            "answer_in_quote": self.in_quote / n,
            "answer_in_first_quote": self.in_first / n,
            "false_abstention": self.abstained / n,
            "quote_integrity": self.verbatim / max(self.quotes, 1),
            "bad_quotes": self.bad,
            "max_quote_chars": self.max_chars,
            "p50_ms": 1000 * statistics.median(lat),
            "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))],
        }
