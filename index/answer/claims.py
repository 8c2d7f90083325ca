"""Checking a message against the collection: the claims it makes, and what the articles say.

A message (a chat message, a paragraph) is cut into sentences; those that state something
(enough content words, not a question) are its claims, at most `MAX_CLAIMS` of them, in
order. Each claim is asked of the engine like a question: an abstention means nothing in the
collection supports it; otherwise the answer's quotes are the supporting passages. A quote
whose sentence is about the same thing (shares `SAME_TOPIC_TERMS` content words with the
claim) but states a different number or date is flagged: "the article says 1932, the message
says 1923".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from index.answer.compose import Answer, Quote
from index.answer.figures import Figure, disagreements, figures
from index.errors import QuestionError
from index.ingest.chunking import split_sentences
from index.store.lexical import terms

log = logging.getLogger(__name__)

MAX_CLAIMS = 3
MIN_CLAIM_TERMS = 3  # content words a sentence needs to count as a claim
SAME_TOPIC_TERMS = 2  # content words (besides figures) a quote shares with a claim it contradicts
MAX_MESSAGE_CHARS = 4000

# Discord markup that is not part of what a message claims.
_MARKUP = re.compile(
    r"<a?:\w+:\d+>|<[@#][!&]?\d+>|<t:\d+(?::\w)?>|https?://\S+|```.*?```|`[^`]*`", re.DOTALL
)
_FORMATTING = re.compile(r"[*_~>|]+")

NO_TEXT = "That message has no text to check."


class Verdict(StrEnum):
    """What the collection says about one claim."""

    SUPPORTED = "supported"
    DIFFERS = "differs"  # a supporting quote states another number or date
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Difference:
    """A quote stating `article` where the claim states `message`."""

    quote: Quote
    article: Figure
    message: Figure


@dataclass
class ClaimCheck:
    """One claim of a message and the passages that speak to it."""

    claim: str
    answer: Answer
    differences: list[Difference] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        if self.answer.abstained or not self.answer.quotes:
            return Verdict.UNSUPPORTED
        return Verdict.DIFFERS if self.differences else Verdict.SUPPORTED


@dataclass
class MessageCheck:
    """Every claim checked, and how many claim-like sentences the message had in all."""

    claims: list[ClaimCheck]
    sentences: int

    @property
    def supported(self) -> bool:
        return any(c.verdict is not Verdict.UNSUPPORTED for c in self.claims)


def plain_text(message: str) -> str:
    """A message without mentions, links, custom emoji, code and formatting marks.

    Each line becomes a paragraph of its own: chat lines often end without a full stop.
    """
    text = _FORMATTING.sub(" ", _MARKUP.sub(" ", message[:MAX_MESSAGE_CHARS]))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def split_claims(message: str) -> tuple[list[str], int]:
    """The first `MAX_CLAIMS` claims of a message, and how many it makes in all."""
    text = plain_text(message)
    found = []
    for span in split_sentences(text):
        sentence = text[span.start : span.end].strip()
        if sentence.endswith("?") or len(terms(sentence)) < MIN_CLAIM_TERMS:
            continue
        found.append(sentence)
    return found[:MAX_CLAIMS], len(found)


def check_message(message: str, ask: Callable[[str], Answer]) -> MessageCheck:
    """Check each claim of `message` with `ask` (e.g. `Engine.ask` with the message's date).

    Raises QuestionError when the message states nothing that can be checked.
    """
    claims, total = split_claims(message)
    if not claims:
        if not plain_text(message):
            raise QuestionError(NO_TEXT)
        raise QuestionError(
            "That message makes no statement to check: it needs a sentence with a few "
            "words of substance, not only a question."
        )
    checks = []
    for claim in claims:
        answer = ask(claim)
        check = ClaimCheck(claim, answer)
        if not answer.abstained:
            check.differences = differences(claim, answer.quotes)
        checks.append(check)
    log.debug("checked %d of %d claims", len(checks), total)
    return MessageCheck(checks, total)


def differences(claim: str, quotes: list[Quote]) -> list[Difference]:
    """Numbers and dates of `claim` that the quotes' sentences on the same topic state otherwise."""
    claim_terms = set(terms(_without_figures(claim)))
    found: list[Difference] = []
    for quote in quotes:
        for span in split_sentences(quote.text):
            sentence = quote.text[span.start : span.end]
            shared = claim_terms & set(terms(_without_figures(sentence)))
            if len(shared) < SAME_TOPIC_TERMS:
                continue
            for mine, theirs in disagreements(claim, sentence):
                if not any(d.message == mine for d in found):
                    found.append(Difference(quote, theirs, mine))
    return found


def _without_figures(text: str) -> str:
    """`text` with its numbers and dates blanked (they must not count as shared words)."""
    out = list(text)
    for figure in figures(text):
        out[figure.start : figure.start + len(figure.text)] = " " * len(figure.text)
    return "".join(out)
