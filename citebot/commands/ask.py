"""`citebot ask`: answer questions from the indexed articles."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import TYPE_CHECKING

from citebot.options import Subparsers, add_command, data_option, engine_settings, json_option
from index.errors import QuestionError

if TYPE_CHECKING:
    from index.answer.compose import Answer
    from index.answer.retrieval import Filters
    from index.engine import Engine

DESCRIPTION = """\
Answer a question with verbatim quotes from the indexed articles, each followed by a numbered
citation, or say that the articles do not cover it. With no QUESTION, questions are read from
standard input, one per line, and one JSON line is written per question.
"""


def register(subparsers: Subparsers) -> None:
    """Add `citebot ask`."""
    parser = add_command(
        subparsers,
        "ask",
        run,
        summary="answer a question from the indexed articles",
        description=DESCRIPTION,
    )
    parser.add_argument("question", nargs="*", default=None, help="the question (none: read stdin)")
    data_option(parser)
    _retrieval_options(parser)
    _filter_options(parser)
    _output_options(parser)


def _retrieval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")


def _filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_date, help="only articles published on or after DATE")
    parser.add_argument("--until", type=_date, help="only articles published on or before DATE")
    parser.add_argument("--source", help="only articles from this outlet")


def _output_options(parser: argparse.ArgumentParser) -> None:
    json_option(parser, "one JSON object")


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2024-03-14") from None


def run(args: argparse.Namespace) -> int:
    """Answer the question given, or every question on standard input."""
    from index.answer.compose import answer_as_json
    from index.answer.retrieval import Filters
    from index.engine import Engine

    engine = Engine(engine_settings(args))
    filters = Filters(source=args.source, since=args.since, until=args.until)
    if not args.question:
        return _ask_stream(engine, filters, args.k)
    answer = engine.ask(" ".join(args.question), k=args.k, filters=filters)
    if args.json:
        print(json.dumps(answer_as_json(answer), ensure_ascii=False))
    else:
        _print_answer(answer)
    return 0


def _print_answer(answer: Answer) -> None:
    """The answer as text: quotes with [n], then the numbered sources."""
    from index.answer.compose import format_source

    if answer.abstained:
        print(answer.text)
    for quote in answer.quotes:
        print(f"“{quote.text}” [{quote.n}]")
    if answer.sources:
        print("\nSources:")
        for source in answer.sources:
            print(f"[{source.n}] {format_source(source)}")
    elif answer.passages:
        print("\nClosest articles:")
        for title in dict.fromkeys(p.chunk.title for p in answer.passages):
            print(f"- {title}")


def _ask_stream(engine: Engine, filters: Filters, k: int) -> int:
    """One JSON line per question read from stdin; the model and index load once."""
    from index.answer.compose import answer_as_json

    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        try:
            result = answer_as_json(engine.ask(question, k=k, filters=filters))
        except QuestionError as exc:
            result = {"question": question, "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0
