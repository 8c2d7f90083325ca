"""The writer: a short answer in prose from an OpenAI-compatible server, verified before use.

It is asked only after the extractive answer exists, and only when that answer did not
abstain. It sees the question, the date of asking (when known) and the top passages numbered
[1]..[k]. Whatever goes wrong (the whole exchange, retries included, outlasting
`CITEBOT_LLM_TIMEOUT`; an error status; a body that is not a chat completion; an abstention;
too little surviving `verify.verify_written`) the outcome carries no written answer and says
why, and the caller shows the extractive answer.

Importing this module imports `openai` (a second or more on a busy machine): callers import it
only when an LLM is configured (`index.settings.load_writer_settings`).

The maintained `openai` client does the HTTP; its own retries are off so that ours can honour
`Retry-After` within the one deadline.
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import openai

from index.answer.compose import Answer
from index.answer.retrieval import Passage
from index.answer.verify import verify_written
from index.answer.written import AnswerKind, Removal, WrittenAnswer
from index.settings import WriterSettings

log = logging.getLogger(__name__)

PASSAGES_SHOWN = 5  # the writer sees this many top passages
MAX_ATTEMPTS = 3
FIRST_BACKOFF = 0.5  # seconds before retrying a 429/5xx that gave no Retry-After
MAX_TEXT_CHARS = 4000  # longer replies are garbage (max_tokens was ignored)
NO_KEY = "unused"  # the client needs some key; servers without auth ignore it

SYSTEM_PROMPT = """\
You answer questions about news articles using only the numbered passages you are given.
Write at most three short sentences.
End every sentence with the number of the passage it comes from, like [1] or [2].
You may quote a passage: put its exact words in "double quotes" and cite that passage.
Never quote words that are not in the passage you cite. Do not add facts, names or numbers \
that are not in the passages.
If the passages do not answer the question, reply only: I don't know."""

_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)


class WriterFailure(Exception):
    """The server gave no usable text; the message says why, for the log and the evaluation."""


@dataclass
class WriteOutcome:
    """What came of asking the writer: a verified written answer, or why there is none."""

    written: WrittenAnswer | None
    fallback: str | None
    text: str | None = None  # what the writer said, before verification
    removed: list[Removal] = field(default_factory=list)
    sentences: int = 0
    completion_tokens: int | None = None
    seconds: float = 0.0  # the whole exchange, retries included

    @property
    def kind(self) -> AnswerKind:
        """Which answer to show."""
        return AnswerKind.WRITTEN if self.written is not None else AnswerKind.EXTRACTIVE


def build_messages(
    question: str, passages: list[Passage], as_of: date | None = None
) -> list[dict[str, str]]:
    """The chat messages: the rules, then the numbered passages, the date and the question."""
    blocks = []
    for number, passage in enumerate(passages, 1):
        chunk = passage.chunk
        meta = ", ".join(x for x in (chunk.source, (chunk.published or "")[:10]) if x)
        heading = f"[{number}] {chunk.title}" + (f" ({meta})" if meta else "")
        blocks.append(f"{heading}\n{chunk.text}")
    user = "Passages:\n\n" + "\n\n".join(blocks) + "\n\n"
    if as_of is not None:
        user += f"Today's date is {as_of.isoformat()}.\n"
    user += f"Question: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


class Writer:
    """Writes and verifies answers with one OpenAI-compatible server; safe across threads.

    `clock` and `sleep` are the monotonic clock and the wait between retries (tests pass a
    controllable pair).
    """

    def __init__(
        self,
        settings: WriterSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if settings.base_url is None or settings.model is None:
            raise ValueError("the writer needs CITEBOT_LLM_BASE_URL and CITEBOT_LLM_MODEL")
        self.settings = settings
        self.model = settings.model
        self._clock = clock
        self._sleep = sleep
        key = settings.api_key.get_secret_value() if settings.api_key else NO_KEY
        self._client = openai.OpenAI(
            base_url=settings.base_url, api_key=key, max_retries=0, timeout=settings.timeout
        )

    def write(self, answer: Answer) -> WriteOutcome:
        """A verified written answer to `answer`'s question, or the reason to show `answer`."""
        if answer.abstained or not answer.passages:
            return WriteOutcome(None, "the extractive answer abstained, so no writer was asked")
        passages = answer.passages[:PASSAGES_SHOWN]
        messages = build_messages(answer.question, passages, answer.as_of)
        started = self._clock()
        try:
            text, tokens = self._complete(messages)
        except WriterFailure as exc:
            log.info("no written answer: %s", exc)
            return WriteOutcome(None, str(exc), seconds=self._clock() - started)
        seconds = self._clock() - started
        checked = verify_written(text, passages, self.model)
        outcome = WriteOutcome(
            checked.written,
            checked.fallback,
            text=text,
            removed=checked.removed,
            sentences=checked.sentences,
            completion_tokens=tokens,
            seconds=seconds,
        )
        for removal in checked.removed:
            log.debug("removed from the written answer (%s): %r", removal.reason, removal.sentence)
        if checked.fallback:
            log.info("no written answer: %s", checked.fallback)
        return outcome

    def _complete(self, messages: list[dict[str, str]]) -> tuple[str, int | None]:
        """The reply's text and its completion tokens, retrying 429/5xx within the deadline."""
        deadline = self._clock() + self.settings.timeout
        for attempt in range(1, MAX_ATTEMPTS + 1):
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            try:
                response = self._client.with_options(timeout=remaining).chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=self.settings.max_tokens,
                    temperature=0,
                )
            except openai.APITimeoutError:
                break
            except openai.APIStatusError as exc:
                wait = _retry_wait(exc, attempt)
                status = exc.status_code
                if wait is None or attempt == MAX_ATTEMPTS or self._clock() + wait >= deadline:
                    raise WriterFailure(f"the server answered HTTP {status}") from None
                log.info("the writer's server answered HTTP %d; retrying in %.1f s", status, wait)
                self._sleep(wait)
                continue
            except openai.APIConnectionError as exc:
                raise WriterFailure(f"cannot reach the server ({exc.__class__.__name__})") from None
            except (openai.OpenAIError, ValueError) as exc:  # a body that is not JSON, say
                why = f"the server's reply is not a chat completion ({exc.__class__.__name__})"
                raise WriterFailure(why) from None
            return _reply_text(response)
        raise WriterFailure(f"the server did not answer within {self.settings.timeout:g} s")

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()


def _reply_text(response: Any) -> tuple[str, int | None]:
    """The text of a chat completion; anything else is a WriterFailure."""
    try:
        text = response.choices[0].message.content
        usage = getattr(response, "usage", None)
        tokens = getattr(usage, "completion_tokens", None) if usage is not None else None
    except (AttributeError, IndexError, KeyError, TypeError):
        raise WriterFailure("the server's reply is not a chat completion") from None
    if not isinstance(text, str):
        raise WriterFailure("the server's reply has no text")
    text = _THINKING.sub("", text).strip()
    if not any(ch.isalpha() for ch in text) or len(text) > MAX_TEXT_CHARS:
        raise WriterFailure("the server's reply is not an answer")
    return text, tokens if isinstance(tokens, int) else None


def _retry_wait(exc: openai.APIStatusError, attempt: int) -> float | None:
    """Seconds to wait before retrying, or None when the status is not worth a retry."""
    if exc.status_code != 429 and exc.status_code < 500:
        return None
    headers = exc.response.headers
    given = retry_after(headers.get("retry-after-ms"), headers.get("retry-after"))
    return given if given is not None else FIRST_BACKOFF * 2 ** (attempt - 1)


def retry_after(milliseconds: str | None, value: str | None) -> float | None:
    """Seconds from `Retry-After-Ms` or `Retry-After` (seconds or an HTTP date), if valid."""
    try:
        if milliseconds is not None:
            return max(float(milliseconds) / 1000, 0.0)
        if value is None:
            return None
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value or "")
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
