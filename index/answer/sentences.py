"""Which sentences may be quoted, and which carry the kind of answer a question expects.

A quote is a sentence of running prose: never a heading, a byline, a photo credit, a bare
title, a list item or a line of Markdown. A sentence "carries" an expected answer when it holds
a date, a number, a name or a place that the question itself does not already state; when
the question asks for a country, a US state or a city, a place of that kind (places.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.answer.places import places_in
from index.answer.question import Expects, Question
from index.answer.retrieval import Passage
from index.ingest.chunking import Span, split_sentences
from index.ingest.text import folded_words

MIN_WORDS = 4
# Without terminal punctuation a line is a heading or a caption unless it is this long.
UNPUNCTUATED_MIN_WORDS = 15
CREDIT_MAX_WORDS = 25
WRAPPED_LINE_CHARS = 60  # a line this long ending mid-sentence is hard-wrapped prose

_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’»)\]]*\s*$|[:;]\s*$")
_ASKS = re.compile(r"\?[\"'”’»)\]]*\s*$")
_MARKDOWN_LINE = re.compile(r"^\s*(?:#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>|\||```|={3,}|-{3,})")
_MARKDOWN_INLINE = re.compile(r"\*\*|__|\[[^\]]*\]\([^)]*\)|!\[|`|<[a-z/][^>]*>")
_BYLINE = re.compile(
    r"^(?:by|written by|reporting by|words by|from)\s+[A-Z][\w.'’-]*"
    r"(?:\s+(?:[A-Z][\w.'’-]*|and|&|,|de|van|von))*[\s,|—–-]*(?:[A-Z][\w ]*)?$",
)
_CREDIT = re.compile(
    r"©|\(c\)\s|\bphoto(?:graph)?s?(?: by| credit)?\s*:|\bphoto by\b|\(AP Photo|\bAP Photo/"
    r"|\bGetty Images\b|\bimage(?: credit)?\s*:|\bcredit\s*:|/AFP\b|\bAFP via\b|/Reuters\b"
    r"|\bShutterstock\b|\bfile photo\b",
    re.IGNORECASE,
)


def is_quotable(sentence: str, title: str) -> bool:
    """Whether `sentence` is running prose that may be quoted as a sentence of the article."""
    words = sentence.split()
    if len(words) < MIN_WORDS:
        return False
    if _MARKDOWN_LINE.search(sentence) or _MARKDOWN_INLINE.search(sentence):
        return False
    # A "sentence" running over a line break that is not a soft wrap is a heading or caption
    # glued to what follows it.
    newline = sentence.find("\n")
    while newline >= 0:
        if not soft_wrap(sentence[:newline], sentence[newline + 1 :]):
            return False
        newline = sentence.find("\n", newline + 1)
    if not _ENDS_SENTENCE.search(sentence) and len(words) < UNPUNCTUATED_MIN_WORDS:
        return False
    if folded_words(sentence) == folded_words(title):
        return False
    if _BYLINE.match(sentence.strip()):
        return False
    return not (_CREDIT.search(sentence) and len(words) <= CREDIT_MAX_WORDS)


def asks(sentence: str) -> bool:
    """Whether `sentence` is itself a question ("Has the inner core stopped spinning?")."""
    return bool(_ASKS.search(sentence))


_MONTHS_AND_DAYS = frozenset(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """.split()
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b{_MONTHS}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}"
    r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\b(?:1[5-9]\d\d|20\d\d)s?\b|\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
    r"|\b\d{1,2}(?::\d\d)?\s?(?:a\.m\.|p\.m\.|am\b|pm\b)"
    r"|\b(?:today|tonight|yesterday|tomorrow|noon|midnight)\b"
    r"|\b(?:last|next|this|early|late|mid)[- ](?:year|month|week|century|decade|spring|summer"
    r"|autumn|fall|winter)\b|\b(?:\d+(?:st|nd|rd|th)|[a-z]+(?:-[a-z]+)?) century\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
    r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty"
    r"|ninety|hundred|thousand|million|billion|trillion|dozen|dozens|hundreds|thousands"
    r"|millions|half|twice|once|single|double|triple"
)
_NUMERAL = re.compile(r"\d[\d,.]*")
_QUANTITY_WORD = re.compile(rf"\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’.&-]*\w(?:\s+[A-Z][\w'’.&-]*\w)*")
# Capitalised for grammar, not because they name something.
_COMMON_CAPITALISED = frozenset(
    """
    a an the this that these those he she it they we i you his her its their our my your
    in on at of for from by to and or but not no yes if as so then there here when where what
    which who whom whose why how after before while during since until also still yet
    mr mrs ms dr prof st sen rep gov president
    """.split()
)


def carries(expects: Expects | None, sentence: str, question: Question) -> bool:
    """Whether `sentence` holds something of the expected kind that the question does not."""
    if expects is None:
        return False
    if expects is Expects.PLACE and question.place_kind is not None:
        asked_text = f" {folded_words(question.text)} "
        return any(f" {p} " not in asked_text for p in places_in(sentence, question.place_kind))
    asked = set(re.findall(r"\w+", question.text.casefold()))
    if expects is Expects.DATE:
        found = (m.group() for m in _DATE.finditer(sentence))
    elif expects is Expects.NUMBER:
        asked_numerals = {n.strip(",.") for n in _NUMERAL.findall(question.text)}
        if any(n.strip(",.") not in asked_numerals for n in _NUMERAL.findall(sentence)):
            return True
        found = (m.group() for m in _QUANTITY_WORD.finditer(sentence))
    else:  # a person, a place or another named thing: a capitalised name the question lacks
        found = _names(sentence)
    return any(_new_words(item, asked) for item in found)


def _names(sentence: str) -> list[str]:
    """Capitalised words that name something: not grammar words, months or weekdays, and not
    a lone capitalised first word ("Under the plan…"), which is capitalised as a first word."""
    first = re.search(r"\w", sentence)
    names = []
    for run in _CAPITALISED_RUN.finditer(sentence):
        words = [
            w
            for w in run.group().split()
            if w.casefold() not in _COMMON_CAPITALISED
            and w.rstrip(".").casefold() not in _MONTHS_AND_DAYS
        ]
        if first is not None and run.start() == first.start() and len(run.group().split()) == 1:
            continue
        names.extend(words)
    return names


def _new_words(item: str, asked: set[str]) -> bool:
    words = re.findall(r"\w+", item.casefold())
    return any(w not in asked for w in words)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage, located in its article."""

    passage: Passage
    start: int  # article offsets
    end: int
    text: str
    quotable: bool  # running prose (see sentences.is_quotable); others are never quoted


def candidate_sentences(passages: list[Passage]) -> list[Candidate]:
    """Every sentence (or line) of the passages, once each, marked quotable or not."""
    seen: set[tuple[str, int]] = set()
    out = []
    for passage in passages:
        chunk = passage.chunk
        for span in _lines(split_sentences(chunk.text), chunk.text):
            start = chunk.start + span.start
            key = (chunk.article_id, start)
            if key in seen:  # overlapping chunks repeat a sentence
                continue
            seen.add(key)
            text = chunk.text[span.start : span.end]
            out.append(
                Candidate(
                    passage, start, chunk.start + span.end, text, is_quotable(text, chunk.title)
                )
            )
    return out


def soft_wrap(before: str, after: str) -> bool:
    """Whether the line break between `before` and `after` wraps a sentence of hard-wrapped
    text (as Markdown and plain text often are) rather than ending a heading, a caption or a
    line of its own: the line before does not end a sentence, and what follows continues in
    lower case, or the line before ends in a comma or is a long line ending in a lower-case
    word (headings rarely are)."""
    line = before[before.rfind("\n") + 1 :].strip()
    following = after.lstrip(" \t")[:1]
    if not line or not following or following == "\n" or _ENDS_SENTENCE.search(line):
        return False
    if _MARKDOWN_LINE.search(line) or _MARKDOWN_LINE.search(after):
        return False
    if following.islower() or following.isdigit() or line[-1] in ",(":
        return True
    return len(line) >= WRAPPED_LINE_CHARS and line.split()[-1][:1].islower()


def _lines(spans: list[Span], text: str) -> list[Span]:
    """Sentence spans cut at line breaks, except where a break only wraps a sentence: a line
    break inside a paragraph otherwise ends a heading, a caption or a paragraph of a text
    whose paragraphs are single lines."""
    out: list[Span] = []
    for span in spans:
        start = search = span.start
        while (newline := text.find("\n", search, span.end)) >= 0:
            search = newline + 1
            if soft_wrap(text[:newline], text[newline + 1 : span.end]):
                continue
            if text[start:newline].strip():
                out.append(Span(start, newline))
            start = newline + 1
        out.append(Span(start, span.end))
    return out
