"""`citebot ask --write`: the written answer, when an LLM is configured and its text passes
verification; otherwise the extractive answer, as without an LLM."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from citebot.text import print_answer
from index.errors import WriterSettingsError
from index.settings import load_writer_settings

if TYPE_CHECKING:
    from index.answer.compose import Answer
    from index.answer.writer import WriteOutcome, Writer

NO_LLM = (
    "--write needs an LLM: set CITEBOT_LLM_BASE_URL and CITEBOT_LLM_MODEL "
    "(see .env.example), or leave --write out."
)


def write_option(parser: argparse.ArgumentParser) -> None:
    """`--write/--no-write` (default: write when an LLM is configured)."""
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also have the LLM (CITEBOT_LLM_*) write the answer, every quote checked; "
        "default: when one is configured",
    )


def writer_for(args: argparse.Namespace) -> Writer | None:
    """The writer `--write/--no-write` and the settings ask for, or None."""
    if args.write is False:
        return None
    settings = load_writer_settings()
    if not settings.enabled:
        if args.write:
            raise WriterSettingsError(NO_LLM)
        return None
    from index.answer.writer import Writer  # imports openai: only when it is used

    return Writer(settings)


def answer_json(answer: Answer, outcome: WriteOutcome | None) -> dict[str, Any]:
    """`ask --json` for one answer. With a writer's outcome, three keys more: which kind is
    shown, the written answer with its verified quotes (article offsets), or why the
    extractive answer is shown instead."""
    from index.answer.compose import answer_as_json

    result = answer_as_json(answer)
    if outcome is None:
        return result
    from index.answer.written import written_as_json

    written = outcome.written
    return {
        **result,
        "kind": str(outcome.kind),
        "written": written_as_json(written) if written is not None else None,
        "fallback": outcome.fallback,
    }


def print_shown(
    answer: Answer, outcome: WriteOutcome | None, out: TextIO, asked: str | None = None
) -> None:
    """The answer a reader is shown, as text: the written one with its sources and a footer
    saying what it is, or else the extractive one."""
    if outcome is None or outcome.written is None:
        print_answer(answer, out, asked=asked)
        return
    from index.answer.compose import format_source

    written = outcome.written
    print(written.text, file=out)
    print("\nSources:", file=out)
    for source in written.sources:
        print(f"[{source.n}] {format_source(source)}", file=out)
    print(f"\n({written.footer})", file=out)
