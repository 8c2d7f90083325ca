"""Verification of a written answer against the passages the writer was given.

The writer saw passages numbered [1]..[k]. Its text is split into sentences, and a sentence is
kept only if:

- every `[n]` it carries names one of those passages;
- every “quoted span” in it is a verbatim substring of the passage its citation points to (the
  first `[n]` after the quote in the same sentence, else the last one before it), up to
  whitespace and quote-mark folding; an ellipsis inside a quote separates pieces that must
  appear in that order, and punctuation at a quote's edges is left out of it;
- its figures and its capitalised names (outside quotes) all appear in the passages it cites;
- or, when it cites nothing, it is short and carries no figure or name absent from the passages
  cited elsewhere in the answer.

A sentence that fails is removed whole. If the writer abstained, or nothing cited is left, or
less than MIN_KEPT_SHARE of the text survives, there is no written answer and the extractive
one is shown. In the written answer every quote is replaced by the article's own text, and the
citations are renumbered per article like the extractive answer's sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.answer.compose import Quote, Source
from index.answer.retrieval import Passage
from index.answer.written import Removal, WrittenAnswer

MAX_UNCITED_CHARS = 120  # a sentence that cites nothing is kept only up to this long
MIN_KEPT_SHARE = 0.5  # of the writer's characters that must survive verification

# Quote marks (Unicode's Quotation_Mark characters, the ornamental ❛❜❝❞, primes and
# backticks), folded to one double and one single mark: a span in any of them is a quote to
# check. Each replaces exactly one character, so positions in the folded text are positions in
# the original.
_QUOTE_FOLD = str.maketrans(
    {c: '"' for c in "“”„‟⹂«»″〝〞〟＂「」『』｢｣﹁﹂﹃﹄❝❞"} | {c: "'" for c in "‘’‚‛′`´‹›＇❛❜"}
)
_CITATION = re.compile(r"\[([^\[\]]{1,24})\]")
_CITATION_BODY = re.compile(
    r"^\s*(?:passages?\s*|sources?\s*)?\d+(?:\s*(?:,|;|and|&|-|–)\s*(?:passages?\s*)?\d+)*\s*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?]+")
_CITATIONS_AFTER = re.compile(r"(?:\s*\[[^\[\]]{1,24}\])*")
_ELLIPSIS = re.compile(r"\s*(?:…|\.\.\.)\s*")
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<![\w'])[A-Z][\w'’-]*")
_WORD = re.compile(r"[\w'’-]+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_ABSTAIN = re.compile(
    r"\b(?:i\s+(?:do\s+not|don'?t|cannot|can'?t)\s+(?:know|answer|tell|say)|"
    r"(?:cannot|can'?t|unable\s+to)\s+(?:be\s+)?answer|"
    r"(?:no|not\s+enough)\s+information|"
    r"(?:do|does)\s+not\s+(?:say|mention|contain|provide|answer|cover))\b",
    re.IGNORECASE,
)
_SINGLE_QUOTED = re.compile(r"(?<![\w'])'(?=\w)[^'\n]*?(?<=[\w.,!?])'(?![\w'])")
_META = re.compile(r"\b(?:passages?|question|answer)\b\s*(?:is|are|was|:)", re.IGNORECASE)
_EDGE_PUNCTUATION = " ,.;:!?"
_MARKER_RUN = re.compile(r"\[\d+\](?:\s*\[\d+\])+")


@dataclass
class Verification:
    """What survived verification: a written answer, or why there is none."""

    written: WrittenAnswer | None
    fallback: str | None  # why the extractive answer is shown instead
    removed: list[Removal] = field(default_factory=list)
    sentences: int = 0  # in the writer's text


@dataclass(frozen=True)
class _Citation:
    start: int
    end: int
    numbers: tuple[int, ...]  # as written; validity is checked separately


@dataclass(frozen=True)
class _QuotePiece:
    passage: int  # 1-based, as the writer cited it
    start: int  # chunk-text offsets of the verbatim text
    end: int


@dataclass
class _Checked:
    """One sentence that passed: replacements to apply and the passages it cites."""

    text: str
    citations: list[_Citation]
    quotes: list[tuple[int, int, list[_QuotePiece]]]  # sentence span of a quote, its pieces


def verify_written(text: str, passages: list[Passage], model: str) -> Verification:
    """Check the writer's `text` against the `passages` it saw as [1]..[k] (module docstring)."""
    sentences = split_sentences(text)
    if not sentences:
        return Verification(None, "the writer returned no text")
    if _ABSTAIN.search(sentences[0]):
        return Verification(None, "the writer said it does not know", sentences=len(sentences))
    cited_anywhere = {
        n for s in sentences for c in _citations(s) for n in c.numbers if 1 <= n <= len(passages)
    }
    kept: list[_Checked] = []
    removed: list[Removal] = []
    for sentence in sentences:
        checked = _check(sentence, passages, cited_anywhere)
        if isinstance(checked, str):
            removed.append(Removal(sentence, checked))
        else:
            kept.append(checked)
    result = Verification(None, None, removed, len(sentences))
    if not any(c.citations for c in kept):
        result.fallback = "no sentence with a valid citation is left"
    elif sum(len(c.text) for c in kept) < MIN_KEPT_SHARE * sum(len(s) for s in sentences):
        result.fallback = "too little is left after verification"
    else:
        result.written = _assemble(kept, passages, model, removed)
    return result


def split_sentences(text: str) -> list[str]:
    """The writer's sentences (a sentence keeps the citations that follow its full stop)."""
    out: list[str] = []
    for line in _paragraphs(text):
        start = 0
        folded = line.translate(_QUOTE_FOLD)
        for match in _SENTENCE_END.finditer(line):
            if folded[: match.start()].count('"') % 2:  # inside a quotation
                continue
            end = match.end()
            if end < len(line) and line[end] in "\"'”’»)":
                end += 1
            end += len(_CITATIONS_AFTER.match(line, end).group())  # type: ignore[union-attr]
            if end < len(line) and not (line[end] == " " and _starts_sentence(line, end + 1)):
                continue
            if line[start:end].strip():
                out.append(line[start:end].strip())
            start = end
        if line[start:].strip():
            out.append(line[start:].strip())
    return out


def _paragraphs(text: str) -> list[str]:
    """Paragraphs and list items, each on one line (a line break alone is a space)."""
    paragraphs: list[list[str]] = [[]]
    for line in text.splitlines():
        if not line.strip() or _BULLET.match(line):
            paragraphs.append([])
        paragraphs[-1].append(_BULLET.sub("", line))
    return [" ".join(" ".join(p).split()) for p in paragraphs if "".join(p).strip()]


def _starts_sentence(line: str, at: int) -> bool:
    """Whether `line[at:]` begins like a new sentence (not "approx. five", say)."""
    return at >= len(line) or not line[at].islower()


def _citations(sentence: str) -> list[_Citation]:
    found = []
    for match in _CITATION.finditer(sentence):
        body = match.group(1)
        if not any(ch.isdigit() for ch in body):
            continue  # "[sic]" and the like are text
        if not _CITATION_BODY.match(body):
            found.append(_Citation(match.start(), match.end(), (0,)))  # never a valid number
            continue
        numbers: list[int] = []
        for part in re.split(r"\s*(?:,|;|and|&)\s*", re.sub(r"(?i)passages?|sources?", "", body)):
            bounds = [int(x) for x in re.findall(r"\d+", part)]
            if len(bounds) == 2 and 0 < bounds[1] - bounds[0] < 10:  # a range, "1-3"
                numbers.extend(range(bounds[0], bounds[1] + 1))
            else:
                numbers.extend(bounds)
        found.append(_Citation(match.start(), match.end(), tuple(numbers)))
    return found


def _check(sentence: str, passages: list[Passage], cited_anywhere: set[int]) -> _Checked | str:
    """The sentence, checked; or the reason it fails."""
    citations = _citations(sentence)
    for citation in citations:
        bad = [n for n in citation.numbers if not 1 <= n <= len(passages)]
        if bad:
            return f"cites {sentence[citation.start : citation.end]}, which is not a passage"
    if not any(ch.isalpha() for ch in _outside(sentence, [], citations)):
        return "says nothing"
    if _ABSTAIN.search(sentence):
        return "says the passages do not answer"
    spans = quote_spans(sentence)
    if spans is None:
        return "has unbalanced quotation marks"
    quotes: list[tuple[int, int, list[_QuotePiece]]] = []
    for open_at, close_at in spans:
        inner = sentence[open_at + 1 : close_at]
        if not inner.strip(_EDGE_PUNCTUATION):
            continue
        cited_here = _quote_citation(citations, open_at, close_at)
        if not cited_here:
            return f"quotes “{inner}” without citing a passage"
        found = [(m, find_quote(inner, passages[m - 1].chunk.text)) for m in cited_here]
        n, pieces = next(((m, p) for m, p in found if p is not None), (cited_here[0], None))
        if pieces is None:
            elsewhere = [
                i + 1
                for i, p in enumerate(passages)
                if i != n - 1 and find_quote(inner, p.chunk.text) is not None
            ]
            where = f"it is in [{elsewhere[0]}]" if elsewhere else "it is in no passage"
            return f"quotes “{inner}” as [{n}], but {where}"
        quotes.append((open_at, close_at + 1, [_QuotePiece(n, s, e) for s, e in pieces]))
    outside = _outside(sentence, [(s, e) for s, e, _ in quotes], citations)
    if _META.search(outside) or any(p.chunk.title and p.chunk.title in outside for p in passages):
        return "talks about the passages instead of answering"
    if citations:
        cited = {n for c in citations for n in c.numbers}
    else:
        if len(sentence) > MAX_UNCITED_CHARS:
            return "cites no passage"
        cited = cited_anywhere
    unsupported = _unsupported(outside, [passages[n - 1] for n in sorted(cited)])
    if unsupported:
        return f"mentions {unsupported}, which the passages it cites do not"
    return _Checked(sentence, citations, quotes)


def quote_spans(sentence: str) -> list[tuple[int, int]] | None:
    """(open, close) positions of the quotation marks around each quoted span: double marks in
    pairs, then 'single' ones (not apostrophes); None when double marks are unbalanced."""
    folded = sentence.translate(_QUOTE_FOLD)
    marks = [i for i, ch in enumerate(folded) if ch == '"']
    if len(marks) % 2:
        return None
    spans = list(zip(marks[::2], marks[1::2], strict=True))
    for match in _SINGLE_QUOTED.finditer(folded):
        start, end = match.start(), match.end() - 1
        if not any(s <= start <= e for s, e in spans):
            spans.append((start, end))
    return sorted(spans)


def _quote_citation(citations: list[_Citation], open_at: int, close_at: int) -> tuple[int, ...]:
    """The passages a quote is attributed to: the first citation after it, else the last
    before it, in its sentence (empty when there is none)."""
    after = [c for c in citations if c.start > close_at]
    before = [c for c in citations if c.end <= open_at]
    chosen = after[0] if after else (before[-1] if before else None)
    return chosen.numbers if chosen else ()


def fold(text: str) -> tuple[str, list[int]]:
    """`text` with whitespace runs made one space and quote marks folded, and for each folded
    character the index of the original character it came from."""
    out: list[str] = []
    where: list[int] = []
    folded = text.translate(_QUOTE_FOLD)
    for i, ch in enumerate(folded):
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
        where.append(i)
    return "".join(out), where


def find_quote(quote: str, passage: str) -> list[tuple[int, int]] | None:
    """Where the pieces of `quote` (split at ellipses) appear in order in `passage`, as
    `passage` offsets; None if a piece is missing."""
    haystack, where = fold(passage)
    spans: list[tuple[int, int]] = []
    pos = 0
    for piece in _ELLIPSIS.split(quote):
        needle = fold(piece.strip().strip(_EDGE_PUNCTUATION))[0].strip()
        if not needle:
            continue
        found = haystack.find(needle, pos)
        if found < 0:
            return None
        spans.append((where[found], where[found + len(needle) - 1] + 1))
        pos = found + len(needle)
    return spans or None


def _outside(sentence: str, quoted: list[tuple[int, int]], citations: list[_Citation]) -> str:
    """The sentence without its quotes and citations (what the writer said in its own words)."""
    spans = sorted([*quoted, *((c.start, c.end) for c in citations)])
    parts, pos = [], 0
    for start, end in spans:
        parts.append(sentence[pos:start])
        pos = max(pos, end)
    parts.append(sentence[pos:])
    return " ".join(parts)


def _unsupported(text: str, passages: list[Passage]) -> str | None:
    """The first figure or capitalised name in `text` that none of `passages` contains."""
    if not passages:
        return None
    sources = " ".join(
        f"{p.chunk.title} {p.chunk.source or ''} {p.chunk.published or ''} {p.chunk.url or ''} "
        f"{p.chunk.text}"
        for p in passages
    )
    for link in _LINK.findall(text):  # Discord would make it clickable
        if link.rstrip(".,;:!?)") not in sources:
            return link
    figures = {f.replace(",", "") for f in _FIGURE.findall(sources)}
    for figure in _FIGURE.findall(text):
        if figure.replace(",", "").rstrip(".") not in figures:
            return figure
    words = {_bare(w) for w in _WORD.findall(sources.translate(_QUOTE_FOLD))}
    first = _WORD.search(text)
    for match in _NAME.finditer(text):
        if first is not None and match.start() == first.start():
            continue  # the sentence's first word is capitalised anyway
        name = _bare(match.group())
        if name and name != "i" and name not in words:
            return match.group()
    return None


def _bare(word: str) -> str:
    word = word.translate(_QUOTE_FOLD).casefold().strip("'-")
    return word[:-2] if word.endswith("'s") else word


class _Numbering:
    """Sources numbered per article in order of first citation, like the extractive answer's."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.numbers: dict[str, int] = {}
        self.sources: list[Source] = []

    def __call__(self, n: int) -> int:
        """The source number of the writer's passage [n]."""
        chunk = self.passages[n - 1].chunk
        if chunk.article_id not in self.numbers:
            number = self.numbers[chunk.article_id] = len(self.numbers) + 1
            self.sources.append(
                Source(
                    number, chunk.article_id, chunk.title, chunk.url, chunk.source, chunk.published
                )
            )
        return self.numbers[chunk.article_id]


def _assemble(
    kept: list[_Checked], passages: list[Passage], model: str, removed: list[Removal]
) -> WrittenAnswer:
    """The written answer: quotes made verbatim, citations renumbered per article."""
    number = _Numbering(passages)
    quotes: list[Quote] = []
    text = " ".join(_rewrite(checked, number, quotes) for checked in kept)
    return WrittenAnswer(text, model, quotes, number.sources, list(removed))


def _rewrite(checked: _Checked, number: _Numbering, quotes: list[Quote]) -> str:
    """One kept sentence with its citations renumbered and its quotes replaced by the article's
    own text (appended to `quotes`)."""
    edits: list[tuple[int, int, str]] = []
    for citation in checked.citations:
        renumbered = dict.fromkeys(number(n) for n in citation.numbers)
        edits.append((citation.start, citation.end, "".join(f"[{n}]" for n in renumbered)))
    for start, end, pieces in checked.quotes:
        texts = []
        for piece in pieces:
            chunk = number.passages[piece.passage - 1].chunk
            verbatim = chunk.text[piece.start : piece.end]
            texts.append(verbatim)
            quotes.append(
                Quote(
                    n=number(piece.passage),
                    text=verbatim,
                    article_id=chunk.article_id,
                    start=chunk.start + piece.start,
                    end=chunk.start + piece.end,
                    score=0.0,
                )
            )
        edits.append((start, end, "“" + " … ".join(texts) + "”"))
    sentence = checked.text
    for start, end, new in sorted(edits, reverse=True):
        sentence = sentence[:start] + new + sentence[end:]
    sentence = _MARKER_RUN.sub(_merge_markers, " ".join(sentence.split()))
    return re.sub(r"\s+(?=[.,;:!?](?:\s|$))", "", sentence)


def _merge_markers(run: re.Match[str]) -> str:
    """`[1] [1][2]` -> `[1][2]`."""
    return "".join(f"[{n}]" for n in dict.fromkeys(re.findall(r"\d+", run.group())))
