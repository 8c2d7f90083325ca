"""A written answer: prose from an LLM whose every quote and citation survived verification.

The extractive answer (`compose.Answer`) is always made first; a `WrittenAnswer` exists only
when the writer's text passed `verify.verify_written`, and then it is shown instead. Both kinds
are stored with the bot's answers so its buttons work for whichever one a reader saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from index.answer.compose import Quote, Source


class AnswerKind(StrEnum):
    """Which kind of answer a reader was shown."""

    EXTRACTIVE = "extractive"
    WRITTEN = "written"


@dataclass(frozen=True)
class Removal:
    """A sentence of the writer's text that failed verification, and why."""

    sentence: str
    reason: str


@dataclass
class WrittenAnswer:
    """Sentences with `[n]` markers numbered like `sources`; every “quote” in them is verbatim.

    `quotes` are the quoted spans, with the offsets of the article text they were found in
    (`article_text[start:end] == text`); `removed` lists what verification took out.
    """

    text: str
    model: str
    quotes: list[Quote] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)

    @property
    def footer(self) -> str:
        """The note saying what kind of answer this is."""
        return f"written by {self.model}, quotes checked"

    def source(self, n: int) -> Source:
        return next(s for s in self.sources if s.n == n)


def written_as_json(written: WrittenAnswer) -> dict[str, Any]:
    """The `"written"` member of `citebot ask --json`."""
    return {
        "text": written.text,
        "model": written.model,
        "quotes": [
            {
                "n": q.n,
                "text": q.text,
                "article_id": q.article_id,
                "title": written.source(q.n).title,
                "url": written.source(q.n).url,
                "start": q.start,
                "end": q.end,
            }
            for q in written.quotes
        ],
        "sources": [
            {
                "n": s.n,
                "article_id": s.article_id,
                "title": s.title,
                "url": s.url,
                "source": s.source,
                "published": s.published,
            }
            for s in written.sources
        ],
        "removed": [{"sentence": r.sentence, "reason": r.reason} for r in written.removed],
    }


def written_from_dict(data: dict[str, Any]) -> WrittenAnswer:
    """The inverse of `dataclasses.asdict` on a `WrittenAnswer` (for the feedback store)."""
    return WrittenAnswer(
        text=data["text"],
        model=data["model"],
        quotes=[Quote(**q) for q in data["quotes"]],
        sources=[Source.from_dict(s) for s in data["sources"]],
        removed=[Removal(**r) for r in data["removed"]],
    )
