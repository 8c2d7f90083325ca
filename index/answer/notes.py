"""Honest caveats shown with an answer: what the question names that no quote mentions, how old
the evidence is when the question is about the present, and questions in other languages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from index.answer.question import Question
from index.store.lexical import LexicalIndex, terms

# Quoted evidence older than this many days before the date of asking earns an "As of" note;
# a question about the present ("this week", "latest") is stricter.
STALE_DAYS = 60
STALE_DAYS_ABOUT_NOW = 7
NON_ENGLISH = (
    "This question does not look like English: citebot's model reads English, so it may have "
    "missed what you asked."
)


# Countries a question and an article often name differently ("the U.S." and "the United
# States"): naming one form mentions the others. Case-sensitive, so "us" is not the US.
_SAME_COUNTRY = (
    ("U.S.", "US", "U.S.A.", "USA", "United States", "America"),
    ("U.K.", "UK", "Britain", "Great Britain", "United Kingdom"),
)


def mentions(item: str, texts: Sequence[str]) -> bool:
    """Whether some text mentions `item`. A name may appear by its last word ("Hamlin" for
    Denny Hamlin), written as the question writes it: "the award" does not mention the Tony
    Award, nor "a court" the Supreme Court, nor "theatre" the phrase "Polish monumental
    theatre"."""
    plain = [_unquote(t) for t in texts]
    needle = _fold(item)
    if any(needle in t.casefold() for t in plain):
        return True
    item = _unquote(item)
    for names in _SAME_COUNTRY:
        if item.removeprefix("the ") in names:
            return any(_names_word(name, t) for name in names for t in plain)
    words = item.split()
    return (
        len(words) > 1
        and len(words[-1]) >= 4
        and words[-1][0].isupper()  # a name's, not a quoted phrase's ("… monumental theatre")
        and any(re.search(rf"\b{re.escape(words[-1])}\b", t) for t in plain)
    )


def in_collection(item: str, lexical: LexicalIndex) -> bool:
    """Whether every word of `item` occurs somewhere in the indexed articles."""
    stems = terms(item)
    return bool(stems) and all(lexical.idf(s) > 0 for s in stems)


def missing_notes(question: Question, quoted: Sequence[str], lexical: LexicalIndex) -> list[str]:
    """ "No article mentions Stockholm." for the names, numbers and quoted phrases of the
    question that no article holds, and "The quoted passages do not mention …" for those that
    only the quotes lack (not for the numbers of a story told before the question)."""
    nowhere, unquoted = [], []
    story = _story_numbers(question)
    for item in dict.fromkeys([*question.phrases, *question.names, *question.numbers]):
        if mentions(item, quoted):
            continue
        if not in_collection(item, lexical):
            nowhere.append(item)
        elif item not in story:
            unquoted.append(item)
    notes = []
    if nowhere:
        notes.append(f"No article mentions {_listed(nowhere)}.")
    if unquoted:
        notes.append(f"The quoted passages do not mention {_listed(unquoted)}.")
    return notes


def _story_numbers(question: Question) -> set[str]:
    """The numbers of the story a question tells before it asks ("Richard Belzer died this
    week at 78. Which show…?"): a quote that answers need not repeat them. On the news
    development set, every one of the 10 such numbers the quotes lacked stood under an answer
    that held the right one."""
    if not question.has_preamble:
        return set()
    return {
        n
        for n in question.numbers
        if not re.search(rf"(?<![\d.,]){re.escape(n)}(?!\d)", question.ask)
    }


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def as_of_note(
    question: Question, published: Sequence[str | None], as_of: date | None
) -> str | None:
    """ "As of 2021-04-18 …" when the newest quoted article is much older than the date of
    asking."""
    dates = [p[:10] for p in published if p]
    if as_of is None or not dates:
        return None
    newest = max(dates)
    behind = (as_of - date.fromisoformat(newest)).days
    limit = STALE_DAYS_ABOUT_NOW if question.about_now else STALE_DAYS
    if behind <= limit:
        return None
    return (
        f"As of {newest}, the date of the newest article quoted "
        f"({behind} days before {as_of.isoformat()})."
    )


def _names_word(name: str, text: str) -> bool:
    """Whether `text` holds `name` as a word of its own, as written ("US-led" holds "US",
    "USAID" does not)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w|\.\w)", text) is not None


def _fold(text: str) -> str:
    return _unquote(text).casefold()


def _unquote(text: str) -> str:
    return " ".join(text.replace("’", "'").split())
