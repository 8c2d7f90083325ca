"""Follow-up questions: when a question is read together with the conversation before it.

A conversation is a list of `Turn`s (a question and the articles its answer cited). A new
question is a *follow-up* when it cannot stand on its own:

* it refers back: a pronoun or demonstrative ("it", "they", "that bridge", "how much did that
  cost?", "can a child keep one?"), or a pointer into the last answer ("the second one",
  "source 2", "[2]");
* or it is short: fewer than two content words ("why?", "how much?", "and the toll?", "who
  paid?"), which also covers most questions with an elided subject.

A follow-up is retrieved with the earlier question(s) of its conversation prepended (at most
`CONTEXT_QUESTIONS` questions in all), and the articles the last answer cited are preferred
(only the one pointed at, for "the second one"). A question that stands on its own is answered
on its own, whatever came before: a new topic in the same thread starts afresh.

This is plain text work with no model: the same rule serves the bot (threads, replies) and
`citebot ask --after`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from index.answer.retrieval import Passage
from index.store.lexical import terms

CONTEXT_QUESTIONS = 3  # questions read together, the new one included
MAX_CONTEXT_CHARS = 1000  # the engine reads at most this much of a question
PREFER_BONUS = 0.15  # added to the fused score of a passage from a preferred article
SHORT_BELOW = 2  # content words; fewer makes a question a follow-up

_WORD = re.compile(r"[\w'’]+|\[\d+\]")
# Words that point back at something said before.
_PRONOUNS = frozenset(
    "it its itself they them their theirs themselves he him his she her hers "
    "former latter same such".split()
)
_DEMONSTRATIVES = frozenset("this that these those".split())
# After one of these, "that"/"this" opens a clause or names something new ("is it true that
# the comet ..."), not a reference.
_CLAUSE_STARTS = frozenset(
    "the a an it he she they we you i there his her their our my your its some no every "
    "all one".split()
)
_PREPOSITIONS = frozenset("of from in at on with for about to by".split())
# "it" with no antecedent: "is it true that ...", "how long does it take".
_DUMMY_IT = re.compile(
    r"\bit(?:'s| is| was)? (?:true|possible|likely|known|the case|said|reported|raining)\b"
    r"|\b(?:is|was) it (?:true|possible|likely|known|the case)\b|\bdoes it take\b"
)
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5,
}  # fmt: skip
_POINTER = re.compile(
    r"\b(?:the )?(?P<ord>first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|last) "
    r"(?:one|source|article|link|quote|story)\b"
    r"|\b(?:source|article|quote|number) (?P<num>\d)\b|\[(?P<bracket>\d)\]"
)


@dataclass(frozen=True)
class Turn:
    """A question of a conversation as it was read, and what its answer cited.

    `context` is the questions the engine read together (the turn's own question last);
    `cited` the article ids of the answer's sources, in citation order.
    """

    question: str
    context: tuple[str, ...] = ()
    cited: tuple[str, ...] = ()

    @property
    def read_as(self) -> tuple[str, ...]:
        """The questions this turn was read with (its own question alone if unknown)."""
        return self.context or (self.question,)


@dataclass(frozen=True)
class Reading:
    """How a new question is to be read: alone, or as a follow-up of `after`."""

    question: str
    context: tuple[str, ...]
    prefer: tuple[str, ...] = ()
    after: Turn | None = None

    @property
    def is_follow_up(self) -> bool:
        return self.after is not None

    @property
    def retrieval_question(self) -> str:
        """The text the engine retrieves with: earlier questions first, cut to fit."""
        parts = [self.question]
        used = len(self.question)
        for earlier in reversed(self.context[:-1]):
            if used + len(earlier) + 1 > MAX_CONTEXT_CHARS:
                break
            parts.insert(0, earlier)
            used += len(earlier) + 1
        return " ".join(parts)

    def turn(self, cited: Sequence[str]) -> Turn:
        """This question as a turn of the conversation, once answered."""
        return Turn(self.question, self.context, tuple(cited))


def read_question(question: str, earlier: Sequence[Turn]) -> Reading:
    """Decide whether `question` follows up the last of `earlier` turns, and how to read it."""
    question = " ".join(question.split())
    last = earlier[-1] if earlier else None
    if last is None or not needs_context(question):
        return Reading(question, (question,))
    context = (*last.read_as, question)[-CONTEXT_QUESTIONS:]
    return Reading(question, context, prefer=_preferred(question, last), after=last)


def needs_context(question: str) -> bool:
    """Whether a question cannot stand alone: it refers back, or it is very short."""
    return refers_back(question) or len(terms(question)) < SHORT_BELOW


def refers_back(question: str) -> bool:
    """Whether a question points at something said before (see the module docstring)."""
    text = question.casefold().replace("’", "'")
    if _POINTER.search(text):
        return True
    words = _WORD.findall(_DUMMY_IT.sub(" ", text))
    for i, word in enumerate(words):
        if word.removesuffix("'s") in _PRONOUNS:
            return True
        if word in _DEMONSTRATIVES:
            following = words[i + 1] if i + 1 < len(words) else None
            if following is None or following not in _CLAUSE_STARTS:
                return True
        following = words[i + 1] if i + 1 < len(words) else None
        if word == "there" and following is None:  # "what happened there?"
            return True
        if word in ("one", "ones") and (following is None or following in _PREPOSITIONS):
            return True  # "can a child keep one?", "which one of them"
    return False


def pointed_source(question: str, cited: int) -> int | None:
    """The source number (1-based) a question points at ("the second one"), if any."""
    match = _POINTER.search(question.casefold())
    if match is None:
        return None
    if match["ord"]:
        n = cited if match["ord"] == "last" else _ORDINALS[match["ord"]]
    else:
        n = int(match["num"] or match["bracket"])
    return n if 1 <= n <= cited else None


def _preferred(question: str, last: Turn) -> tuple[str, ...]:
    n = pointed_source(question, len(last.cited))
    return (last.cited[n - 1],) if n is not None else last.cited


def prefer_articles(
    passages: Sequence[Passage], prefer: Collection[str], keep: int
) -> list[Passage]:
    """Passages re-ranked with a bonus for the preferred articles; the best `keep` kept.

    Scores stay as retrieval gave them; only the order (and so the ranks) change.
    """
    if not prefer:
        return list(passages[:keep])
    wanted = set(prefer)

    def boosted(passage: Passage) -> float:
        return passage.score + (PREFER_BONUS if passage.chunk.article_id in wanted else 0.0)

    ranked = sorted(passages, key=boosted, reverse=True)[:keep]
    return [replace(p, rank=i) for i, p in enumerate(ranked, 1)]
