"""Questions read from standard input: a batch of lines, or a person at a terminal.

A line is a question, or a JSON object `{"question": ..., "as_of": ..., "since": ...,
"until": ..., "source": ...}` whose fields replace the command line's for that question. In a
batch, every line gets one JSON line back, an answer or `{"line", "question", "error"}`: one
bad line never stops the others.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from citebot.dates import first_day, last_day
from citebot.writing import answer_json, print_shown
from index.errors import CitebotError

if TYPE_CHECKING:
    from index.answer.compose import Answer
    from index.answer.followup import Turn
    from index.answer.retrieval import Filters
    from index.answer.writer import WriteOutcome, Writer
    from index.engine import Engine

log = logging.getLogger(__name__)

PROMPT = "? "
INTERACTIVE_HINT = "Reading questions from standard input, one per line; Ctrl-D to end."
LINE_FIELDS = ("question", "as_of", "since", "until", "source")


class LineError(ValueError):
    """A line that is not a question: the message says why, in one sentence."""


@dataclass(frozen=True)
class Request:
    """One question and what restricts its answer."""

    question: str
    filters: Filters
    as_of: date | None
    k: int = 5
    earlier: tuple[Turn, ...] = ()  # the conversation so far (`ask --after`)
    writer: Writer | None = None  # an LLM writes the answer too (`--write`), quotes checked

    def ask(self, engine: Engine) -> Answer:
        if self.earlier:
            return engine.ask_after(
                self.question, self.earlier, k=self.k, filters=self.filters, as_of=self.as_of
            )[0]
        return engine.ask(self.question, k=self.k, filters=self.filters, as_of=self.as_of)

    def write(self, answer: Answer) -> WriteOutcome | None:
        """The written answer's outcome, or None without a writer."""
        return self.writer.write(answer) if self.writer is not None else None


def read_lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line; invalid UTF-8 becomes U+FFFD, so a bad byte
    spoils one question, not the stream."""
    for number, raw in enumerate(stream, start=1):
        text = raw.decode("utf-8", errors="replace").strip()
        if text:
            yield number, text


def parse_line(text: str, defaults: Request) -> Request:
    """The request a line makes: a plain question, or a JSON object (see the module doc)."""
    if not text.startswith("{"):
        return replace(defaults, question=text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineError(f"The line is not valid JSON ({exc.msg} at column {exc.colno}).") from None
    if not isinstance(data, dict):
        raise LineError("The line is not a JSON object.")
    unknown = sorted(set(data) - set(LINE_FIELDS))
    if unknown:
        raise LineError(f"Unknown field {unknown[0]!r}: a line may have {', '.join(LINE_FIELDS)}.")
    question = data.get("question")
    if not isinstance(question, str):
        raise LineError('The line has no "question" string.')
    filters = defaults.filters
    if "since" in data:
        filters = replace(filters, since=_date(data, "since", first_day))
    if "until" in data:
        filters = replace(filters, until=_date(data, "until", last_day))
    if "source" in data:
        filters = replace(filters, source=_text(data, "source"))
    as_of = _date(data, "as_of", last_day) if "as_of" in data else defaults.as_of
    return replace(defaults, question=question, filters=filters, as_of=as_of)


def _date(data: dict[str, Any], key: str, parse: Any) -> date | None:
    value = data[key]
    if value is None:
        return None
    if not isinstance(value, str):
        raise LineError(f'"{key}" must be a date string like "2024-03-14", or null.')
    try:
        return parse(value)
    except ValueError as exc:
        raise LineError(f'"{key}": {exc}.') from None


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data[key]
    if value is not None and not isinstance(value, str):
        raise LineError(f'"{key}" must be a string, or null.')
    return value


def answer_batch(engine: Engine, stream: BinaryIO, out: TextIO, defaults: Request) -> int:
    """One JSON line on `out` per question line of `stream`; the model and index load once."""
    for number, text in read_lines(stream):
        result: dict[str, Any]
        try:
            request = parse_line(text, defaults)
            answer = request.ask(engine)
            result = answer_json(answer, request.write(answer))
        except Exception as exc:  # one line's failure never stops the others
            result = {"line": number, "question": _question_of(text), "error": _sentence(exc)}
        print(json.dumps(result, ensure_ascii=False), file=out, flush=True)
    return 0


def answer_interactively(
    engine: Engine, stream: BinaryIO, out: TextIO, defaults: Request, *, as_json: bool
) -> int:
    """Prompt on stderr, answer each question as text (or a JSON line), until end of input."""
    print(INTERACTIVE_HINT, file=sys.stderr)
    while True:
        print(PROMPT, end="", file=sys.stderr, flush=True)
        raw = stream.readline()
        if not raw:
            print(file=sys.stderr)
            return 0
        text = raw.decode("utf-8", errors="replace").strip()
        if not text:
            continue
        try:
            request = parse_line(text, defaults)
            answer = request.ask(engine)
        except Exception as exc:
            print(f"citebot: {_sentence(exc)}", file=sys.stderr)
            continue
        outcome = request.write(answer)
        if as_json:
            print(json.dumps(answer_json(answer, outcome), ensure_ascii=False), file=out)
        else:
            print_shown(answer, outcome, out, asked=text)
            print(file=out)
        out.flush()


def _sentence(exc: Exception) -> str:
    """What to tell the asker: our own sentence, or an apology (and the traceback in the log)."""
    if isinstance(exc, LineError | CitebotError):
        return str(exc)
    log.error("Unexpected error while answering", exc_info=exc)
    return f"Sorry, this question could not be answered ({type(exc).__name__})."


def _question_of(text: str) -> str | None:
    """The question a line asks, as far as it can be read."""
    if not text.startswith("{"):
        return text
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    question = data.get("question") if isinstance(data, dict) else None
    return question if isinstance(question, str) else None
