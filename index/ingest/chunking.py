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
    """Group whole sentences into chunks of at most `max_tokens` word pieces.

    Adjacent chunks share `overlap` sentences. A sentence longer than the window is cut at
    word boundaries (re-measured, so no piece exceeds it). `text[c.start:c.end] == c.text`.
    """
    sentences = split_sentences(text)
    if not sentences:
        return []
    lengths = count_tokens([text[s.start : s.end] for s in sentences])
    units: list[tuple[Span, int]] = []
    for span, n in zip(sentences, lengths, strict=True):
        units.extend(_fit(text, span, n, max_tokens, count_tokens))

    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][1] <= max_tokens):
            total += units[j][1]
            j += 1
        start, end = units[i][0].start, units[j - 1][0].end
        chunks.append(Chunk(start, end, text[start:end], total))
        if j >= len(units):
            break
        # Step back `overlap` sentences, but always make progress.
        i = max(i + 1, j - overlap)
    return chunks


def _fit(
    text: str,
    span: Span,
    tokens: int,
    max_tokens: int,
    count_tokens: Callable[[Sequence[str]], list[int]],
) -> list[tuple[Span, int]]:
    if tokens <= max_tokens:
        return [(span, tokens)]
    out: list[tuple[Span, int]] = []
    for piece, _estimate in _split_long(text, span, tokens, max_tokens):
        real = count_tokens([text[piece.start : piece.end]])[0]
        if real > max_tokens and piece.end - piece.start < span.end - span.start:
            out.extend(_fit(text, piece, real, max_tokens, count_tokens))
        else:
            out.append((piece, real))
    return out
