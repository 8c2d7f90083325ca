"""Whether the evidence answers the question well enough to quote it, or citebot abstains.

The confidence is a weighted sum of four signals:

- the best passage's dense cosine with the question;
- the best sentence's coverage (idf-weighted share of the question's terms; a sentence of an
  article titled by a short name counts that name, choose.SUBJECT_TITLE_TERMS);
- the best cosine between the question and the CHECKED best sentences (so a passage that mixes
  topics does not hide a sentence that answers);
- the share of the question's names and quoted phrases that the passages read mention (a
  question about Stockholm answered from articles about Malmö is weak evidence). Numbers are
  left out: checking a claim ("the repair cost 58 million") must still find the passage that
  says 48 million.

The weights and ABSTAIN_BELOW come from a logistic fit on the calibration half of both
development sets (answerable questions against the same questions asked over collections that
cannot answer them), the threshold chosen for at most 3% false abstention on each;
`bench/calibrate_abstention.py` re-derives them (see bench/README.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.answer.notes import mentions
from index.answer.question import Question

W_PASSAGE_COS = 0.579
W_COVERAGE = 0.350
W_SENTENCE_COS = 0.5
W_MENTIONS = 0.162
ABSTAIN_BELOW = 0.761
CHECKED = 3  # best sentences whose cosine with the question is checked, one at a time


@dataclass(frozen=True)
class Evidence:
    """The signals the confidence weighs."""

    passage_cosine: float
    coverage: float
    mentions: float
    sentence_cosines: tuple[float, ...]  # of the sentences checked, in the order checked

    @property
    def confidence(self) -> float:
        """The weighted evidence; citebot abstains below ABSTAIN_BELOW."""
        best = max(self.sentence_cosines, default=-1.0)
        return self._base + W_SENTENCE_COS * best

    @property
    def _base(self) -> float:
        return (
            W_PASSAGE_COS * self.passage_cosine
            + W_COVERAGE * self.coverage
            + W_MENTIONS * self.mentions
        )


def mention_share(question: Question, texts: Sequence[str]) -> float:
    """The share of the question's names and quoted phrases the texts mention (1.0 when the
    question has none)."""
    items = list(dict.fromkeys([*question.phrases, *question.names]))
    if not items:
        return 1.0
    return sum(mentions(item, texts) for item in items) / len(items)


def weigh(
    passage_cosine: float,
    coverage: float,
    mentions_share: float,
    best_sentences: Sequence[str],
    sentence_cosine: Callable[[str], float],
    enough: float | None = ABSTAIN_BELOW,
) -> Evidence:
    """The evidence for an answer from the CHECKED `best_sentences`, best first.

    Sentences are embedded one at a time and checking stops as soon as the confidence reaches
    `enough` (None: check them all): the answer-or-abstain decision is the same as checking
    all of them, and most answers cost one sentence embedding instead of three.
    """
    evidence = Evidence(passage_cosine, coverage, mentions_share, ())
    cosines: list[float] = []
    for text in best_sentences[:CHECKED]:
        cosines.append(sentence_cosine(text))
        evidence = Evidence(passage_cosine, coverage, mentions_share, tuple(cosines))
        if enough is not None and evidence.confidence >= enough:
            break
    return evidence


def cosine_with(query_vector: np.ndarray, embed: Callable[[list[str]], np.ndarray]):
    """A function giving one sentence's cosine with the question."""

    def cosine(text: str) -> float:
        return float(embed([text])[0] @ query_vector)

    return cosine
