"""How counts and answers read in a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from index.answer.compose import Answer


def plural(count: int, noun: str) -> str:
    """`1 chunk`, `2 chunks` (nouns with a regular plural only)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def print_answer(answer: Answer, out: TextIO, asked: str | None = None) -> None:
    """The answer as text: quotes with [n], then the numbered sources (or the closest
    articles, when the articles do not cover the question). Given the question as `asked`,
    say so when only its end was read."""
    from index.answer.compose import format_source, sources_published

    if asked is not None and len(answer.question) < len(" ".join(asked.split())):
        print(f"(Your question was long: only its end was read, “…{answer.question}”.)", file=out)
    if answer.abstained:
        print(answer.text, file=out)
    for quote in answer.quotes:
        print(f"“{quote.display}” [{quote.n}]", file=out)
    if not answer.abstained:
        for note in answer.notes:
            print(note, file=out)
    if answer.sources:
        print("\nSources:", file=out)
        for source in answer.sources:
            print(f"[{source.n}] {format_source(source)}", file=out)
        published = sources_published(answer.sources)
        if published:
            print(published, file=out)
    elif answer.passages:
        print("\nClosest articles:", file=out)
        for title in dict.fromkeys(p.chunk.title for p in answer.passages):
            print(f"- {title}", file=out)
