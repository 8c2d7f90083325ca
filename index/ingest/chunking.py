"""Sentence splitting and sentence-aligned chunking with exact character offsets."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Words that end in a full stop without ending a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft vs etc no nos vol fig figs al approx dept est inc ltd co corp
    gen gov sen rep col capt lt sgt maj cmdr adm rev hon pres messrs mme mlle jan feb mar apr jun
    jul aug sep sept oct nov dec ca cf op pp ed eds univ assn bros e.g i.e a.m p.m u.s u.k u.n
    """.split()
)

# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)""")
_NEXT_START = re.compile(r"""\s+["'“‘(\[]*[\w¿¡]""")
_PARAGRAPH = re.compile(r"\n\s*\n")

# A word piece of ordinary text spans ~4-5 characters, but the model's tokenizer reads any word
# over 100 characters (a URL, a table row, a 2 MB blob) as one unknown piece. Each piece is
# counted as at least 1/16 of its characters, so no chunk holds more than this many characters
# per word piece of its budget (text at under 16 characters a piece is chunked as before).
MAX_CHARS_PER_TOKEN = 16


@dataclass(frozen=True)
class Span:
    """A half-open character range `[start, end)` of an article's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article, located by character offsets."""

    start: int
    end: int
    text: str
    tokens: int


def _ends_sentence(text: str, stop: int) -> bool:
    """Decide whether the punctuation ending at `stop` closes a sentence."""
    word_start = stop
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:stop].rstrip(".\"'”’)]").lower().lstrip("\"'“‘([")
    if word in _ABBREVIATIONS:
        return False
    # Initials such as "J." or "U.S." (single letters between dots).
    if re.fullmatch(r"(?:[a-z]\.)*[a-z]", word):
        return False
    follow = _NEXT_START.match(text, stop)
    if follow is None:
        return True
    first = text[follow.end() - 1]
    # A lower-case continuation ("approx. five", "e.g. this") is not a new sentence.
    return not first.islower()


def split_sentences(text: str) -> list[Span]:
    """Split `text` into sentence spans; whitespace between sentences belongs to neither."""
    spans: list[Span] = []
    for para in _split_paragraphs(text):
        start = para.start
        for match in _BOUNDARY.finditer(text, para.start, para.end):
            stop = match.end()
            if stop >= para.end or not _ends_sentence(text, stop):
                continue
            spans.append(Span(start, stop))
            start = stop
            while start < para.end and text[start].isspace():
                start += 1
        if start < para.end:
            spans.append(Span(start, para.end))
    return spans


def _split_paragraphs(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for match in _PARAGRAPH.finditer(text):
        spans.append(Span(pos, match.start()))
        pos = match.end()
    spans.append(Span(pos, len(text)))
    out = []
    for span in spans:
        start, end = span.start, span.end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append(Span(start, end))
    return out


def max_chunk_chars(max_tokens: int) -> int:
    """The most characters a chunk of `max_tokens` word pieces may hold."""
    return max_tokens * MAX_CHARS_PER_TOKEN


def _cost(span: Span, tokens: int) -> int:
    """What a span counts against the budget: its word pieces, or its length in characters
    over MAX_CHARS_PER_TOKEN when that is more."""
    return max(tokens, -(-(span.end - span.start) // MAX_CHARS_PER_TOKEN))


def _split_long(text: str, span: Span, tokens: int, max_tokens: int) -> list[tuple[Span, int]]:
    """Cut one over-long sentence at word boundaries into pieces that fit the window."""
    pieces = -(-tokens // max_tokens)  # ceiling division
    words = [m.span() for m in re.finditer(r"\S+", text[span.start : span.end])]
    if len(words) == 1:  # one enormous "word" (a URL, a table row): cut by characters
        size = -(-(span.end - span.start) // pieces)
        words = [
            (k, min(k + size, span.end - span.start)) for k in range(0, span.end - span.start, size)
        ]
    per_piece = max(1, -(-len(words) // pieces))
    out = []
    for i in range(0, len(words), per_piece):
        group = words[i : i + per_piece]
        start, end = span.start + group[0][0], span.start + group[-1][1]
        out.append((Span(start, end), -(-tokens * len(group) // len(words))))
    return out


def chunk_text(
    text: str,
    count_tokens: Callable[[Sequence[str]], list[int]],
    max_tokens: int,
    overlap: int = 1,
) -> list[Chunk]:
    """Group whole sentences into chunks of at most `max_tokens` word pieces and
    `max_chunk_chars(max_tokens)` characters.

    Adjacent chunks share `overlap` sentences. A sentence longer than the window is cut at
    word boundaries, or inside a word longer than the window (re-measured, so no piece exceeds
    it). `text[c.start:c.end] == c.text`.
    """
    sentences = split_sentences(text)
    if not sentences:
        return []
    lengths = count_tokens([text[s.start : s.end] for s in sentences])
    units: list[_Unit] = []
    for span, n in zip(sentences, lengths, strict=True):
        units.extend(_fit(text, span, n, max_tokens, count_tokens))
    max_chars = max_chunk_chars(max_tokens)

    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, cost = i, 0
        while j < len(units) and (
            j == i
            or (
                cost + units[j].cost <= max_tokens
                and units[j].span.end - units[i].span.start <= max_chars
            )
        ):
            cost += units[j].cost
            j += 1
        start, end = units[i].span.start, units[j - 1].span.end
        chunks.append(Chunk(start, end, text[start:end], sum(u.tokens for u in units[i:j])))
        if j >= len(units):
            break
        # Step back `overlap` sentences, but always make progress.
        i = max(i + 1, j - overlap)
    return chunks


@dataclass(frozen=True)
class _Unit:
    """A sentence, or a piece of one, that chunks are made of."""

    span: Span
    tokens: int
    cost: int  # see `_cost`


def _fit(
    text: str,
    span: Span,
    tokens: int,
    max_tokens: int,
    count_tokens: Callable[[Sequence[str]], list[int]],
) -> list[_Unit]:
    cost = _cost(span, tokens)
    if cost <= max_tokens:
        return [_Unit(span, tokens, cost)]
    out: list[_Unit] = []
    for piece, _estimate in _split_long(text, span, cost, max_tokens):
        real = count_tokens([text[piece.start : piece.end]])[0]
        if _cost(piece, real) > max_tokens and piece.end - piece.start < span.end - span.start:
            out.extend(_fit(text, piece, real, max_tokens, count_tokens))
        else:
            out.append(_Unit(piece, real, _cost(piece, real)))
    return out
