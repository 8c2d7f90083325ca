"""Text normalisation shared by every reader (and by questions): no word is ever changed."""

from __future__ import annotations

import re
import unicodedata

_LINE_BREAKS = re.compile(r"[\x85\u2028]")
_SPACES = re.compile(r"[\t\v\f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff]")
_SPACE_RUNS = re.compile(r" {2,}")
_SPACES_AROUND_NEWLINE = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """Normalise whitespace and invisible characters without changing any word.

    NFC; \\r\\n and \\r become \\n; Unicode spaces and tabs become a space; zero-width and
    control characters are dropped; space runs collapse; lines are stripped; three or more
    newlines become one paragraph break (two newlines); the whole is stripped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2029", "\n\n")
    text = _LINE_BREAKS.sub("\n", text)
    text = _SPACES.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    # After dropping invisibles, so that a mark once separated by a zero-width char composes.
    text = unicodedata.normalize("NFC", text)
    text = _SPACE_RUNS.sub(" ", text)
    text = _SPACES_AROUND_NEWLINE.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def folded_words(text: str) -> str:
    """The words of `text`, case-folded, one space apart, punctuation dropped ("U.S." -> "u s"):
    for comparing names and titles however they are written."""
    return " ".join(re.findall(r"\w+", text.casefold()))
