"""`citebot ask`: answer questions from the indexed articles."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from citebot.dates import DATE_FORMAT, since_arg, until_arg
from citebot.options import Subparsers, add_command, data_option, engine_settings, json_option
from citebot.questions import Request, answer_batch, answer_interactively
from citebot.writing import answer_json, print_shown, write_option, writer_for
from index.errors import CitebotError

if TYPE_CHECKING:
    from index.answer.followup import Turn
    from index.engine import Engine

DESCRIPTION = f"""\
Answer a question with verbatim quotes from the indexed articles, each followed by a numbered
citation, or say that the articles do not cover it. With an LLM configured (CITEBOT_LLM_*), a
short written answer is shown instead when every quote and [n] in it checks out against the
passages (--no-write: never).

With no QUESTION, questions are read from standard input, one per line: at a terminal, each is
answered as it is typed (Ctrl-D ends); otherwise one JSON line is written per question line.
A line may also be a JSON object whose fields replace the options for that question:
  {{"question": "...", "as_of": "2024-05-01", "since": "2023", "until": "2024-03",
   "source": "Port Gazette"}}
A line that cannot be answered gets {{"line": N, "question": ..., "error": "..."}}; the others
are still answered.

Dates are {DATE_FORMAT}: for --since a year or a month means its first day,
for --until and --as-of its last day.

With --after, the question is read as the next turn of a conversation that asked those
questions first (oldest first), as in a Discord thread: a follow-up ("when did it open?") is
retrieved together with them and prefers the articles they cited; a question that stands on
its own is answered on its own.
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
    parser.add_argument("question", nargs="*", help="the question (none: read standard input)")
    data_option(parser)
    _retrieval_options(parser)
    _filter_options(parser)
    _output_options(parser)


def _retrieval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--k", type=_positive, default=5, metavar="N", help="passages to retrieve (default 5)"
    )
    parser.add_argument(
        "--after",
        action="append",
        default=[],
        metavar="QUESTION",
        help="an earlier question of the conversation (repeat for several, oldest first)",
    )


def _filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", type=since_arg, metavar="DATE", help="only articles published on or after DATE"
    )
    parser.add_argument(
        "--until", type=until_arg, metavar="DATE", help="only articles published on or before DATE"
    )
    parser.add_argument(
        "--as-of",
        type=until_arg,
        default=date.today(),
        metavar="DATE",
        help="the date of asking: articles published after it are not used (default today)",
    )
    parser.add_argument("--source", metavar="NAME", help="only articles from this outlet")


def _output_options(parser: argparse.ArgumentParser) -> None:
    json_option(parser, "JSON instead of text")
    write_option(parser)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def run(args: argparse.Namespace) -> int:
    """Answer the question given, or every question on standard input."""
    from index.answer.retrieval import Filters
    from index.engine import Engine

    engine = Engine(engine_settings(args))
    filters = Filters(source=args.source, since=args.since, until=args.until)
    request = Request(
        question=" ".join(args.question),
        filters=filters,
        as_of=args.as_of,
        k=args.k,
        writer=writer_for(args),
    )
    if args.after:
        request = replace(request, earlier=conversation(engine, args.after, request))
    if args.question:
        return _answer_one(engine, request, as_json=args.json)
    if sys.stdin.isatty():
        return answer_interactively(
            engine, sys.stdin.buffer, sys.stdout, request, as_json=args.json
        )
    return answer_batch(engine, sys.stdin.buffer, sys.stdout, request)


def conversation(engine: Engine, questions: list[str], request: Request) -> tuple[Turn, ...]:
    """The turns of a conversation that asked `questions` in order (each one is answered, so
    that a follow-up knows what the last answer cited)."""
    turns: list[Turn] = []
    for question in questions:
        answer, reading = engine.ask_after(
            question, turns, k=request.k, filters=request.filters, as_of=request.as_of
        )
        turns.append(reading.turn([s.article_id for s in answer.sources]))
    return tuple(turns)


def _answer_one(engine: Engine, request: Request, *, as_json: bool) -> int:
    """Answer one question from the command line; with --json, an error is a JSON object too."""
    if request.earlier:
        return _answer_after(engine, request, as_json=as_json)
    try:
        answer = request.ask(engine)
    except CitebotError as exc:
        if not as_json:
            raise
        print(json.dumps({"question": request.question, "error": str(exc)}, ensure_ascii=False))
        return 2
    outcome = request.write(answer)
    if as_json:
        print(json.dumps(answer_json(answer, outcome), ensure_ascii=False))
    else:
        print_shown(answer, outcome, sys.stdout, asked=request.question)
    return 0


def _answer_after(engine: Engine, request: Request, *, as_json: bool) -> int:
    """Answer one question as the next turn after `request.earlier`, saying what it followed."""
    answer, reading = engine.ask_after(
        request.question,
        request.earlier,
        k=request.k,
        filters=request.filters,
        as_of=request.as_of,
    )
    after = reading.after.question if reading.after is not None else None
    outcome = request.write(answer)
    if as_json:
        result = {
            **answer_json(answer, outcome),
            "follow_up_of": after,
            "read_with": list(reading.context),
        }
        print(json.dumps(result, ensure_ascii=False))
        return 0
    if after is not None:
        print(f"(Follow-up to: {after})")
    print_shown(answer, outcome, sys.stdout)
    return 0
