"""The writer against a scripted OpenAI-compatible server on 127.0.0.1: what it sends, what it
shows, and how it falls back to the extractive answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from index.answer.writer import Writer, build_messages
from index.answer.written import AnswerKind
from index.errors import WriterSettingsError
from index.settings import WriterSettings, load_writer_settings
from tests.index.answer.written_checks import (
    ARTICLES,
    assert_shown_is_verified,
    extractive,
    passages,
)
from tests.llm_server import Scripted, ScriptedLLM

API_KEY = "sk-test-4f9a2c7e1b"
TIMEOUT = 1.0
pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM().in_thread() as server:
        yield server


def settings(llm: ScriptedLLM, **overrides: Any) -> WriterSettings:
    values: dict[str, Any] = {
        "base_url": llm.base_url,
        "model": "tiny-test-model",
        "api_key": API_KEY,
        "timeout": TIMEOUT,
        "max_tokens": 120,
    }
    return WriterSettings(_env_file=None, **{**values, **overrides})


class FakeClock:
    """A monotonic clock that only moves when the writer sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_good_answer_is_shown_with_its_quotes_and_their_article_offsets(
    llm: ScriptedLLM,
) -> None:
    llm.script(
        Scripted(
            "The repair cost “48 million euros” [1]. Cars will pay “a toll of one euro” [2], "
            "and an amateur in Tasmania found a comet [3]."
        )
    )
    outcome = Writer(settings(llm)).write(extractive())
    written = outcome.written
    assert outcome.kind is AnswerKind.WRITTEN and written is not None and not outcome.removed
    # [1] and [2] are passages of the same article: one source, numbered like the extractive one.
    assert written.text == (
        "The repair cost “48 million euros” [1]. Cars will pay “a toll of one euro” [1], "
        "and an amateur in Tasmania found a comet [2]."
    )
    assert [s.article_id for s in written.sources] == ["harbour-bridge", "comet-sighting"]
    quote = written.quotes[0]
    assert ARTICLES["harbour-bridge"][quote.start : quote.end] == "48 million euros"
    assert written.footer == "written by tiny-test-model, quotes checked"
    assert outcome.completion_tokens == 12
    assert_shown_is_verified(written)


def test_the_request_carries_the_question_numbered_passages_and_the_date(
    llm: ScriptedLLM,
) -> None:
    llm.script(Scripted("It cost “48 million euros” [1]."))
    Writer(settings(llm)).write(extractive())
    (call,) = llm.completions
    assert call.json["model"] == "tiny-test-model" and call.json["max_tokens"] == 120
    user = call.json["messages"][-1]["content"]
    assert "[1] Harbour bridge reopens (Port Gazette, 2024-03-14)" in user
    assert "[3] Amateur astronomer spots new comet" in user
    assert "Today's date is 2024-03-20." in user
    assert user.endswith("Question: How much did the bridge repair cost?")
    assert call.headers["Authorization"] == f"Bearer {API_KEY}"


def test_an_invented_quote_never_reaches_the_reader(llm: ScriptedLLM) -> None:
    llm.script(Scripted("The repair cost “52 million euros” [1]."))
    outcome = Writer(settings(llm)).write(extractive())
    assert outcome.written is None and outcome.kind is AnswerKind.EXTRACTIVE
    assert outcome.removed[0].reason == "quotes “52 million euros” as [1], but it is in no passage"


def test_a_quote_cited_to_the_wrong_source_is_removed_with_its_sentence(
    llm: ScriptedLLM,
) -> None:
    llm.script(
        Scripted(
            "The bridge repair cost “48 million euros” [1] and took two years [1]. "
            "Rosa Delgado said “all 212 steel cables” were replaced [3]. "
            "The bridge reopened to traffic on Thursday [1]."
        )
    )
    outcome = Writer(settings(llm)).write(extractive())
    written = outcome.written
    assert written is not None
    assert "Delgado" not in written.text and "212" not in written.text
    assert [r.reason for r in outcome.removed] == [
        "quotes “all 212 steel cables” as [3], but it is in [1]"
    ]
    assert written.text.endswith("The bridge reopened to traffic on Thursday [1].")
    assert_shown_is_verified(written)


def test_a_citation_of_a_passage_that_does_not_exist_is_removed(llm: ScriptedLLM) -> None:
    llm.script(Scripted("The repair cost “48 million euros” [7]."))
    outcome = Writer(settings(llm)).write(extractive())
    assert outcome.written is None
    assert outcome.removed[0].reason == "cites [7], which is not a passage"


def test_an_answer_without_citations_falls_back(llm: ScriptedLLM) -> None:
    llm.script(Scripted("The repair of the bridge cost a lot of money and took a long time."))
    outcome = Writer(settings(llm)).write(extractive())
    assert outcome.written is None
    assert outcome.fallback == "no sentence with a valid citation is left"


def test_i_dont_know_falls_back_to_the_extractive_answer(llm: ScriptedLLM) -> None:
    llm.script(Scripted("I don't know."))
    outcome = Writer(settings(llm)).write(extractive())
    assert outcome.written is None and outcome.fallback == "the writer said it does not know"


def test_no_writer_is_asked_when_the_extractive_answer_abstains(llm: ScriptedLLM) -> None:
    answer = extractive()
    answer.abstained = True
    outcome = Writer(settings(llm)).write(answer)
    assert outcome.written is None and llm.completions == []


def timed_write(llm: ScriptedLLM, **overrides: Any) -> tuple[Any, float]:
    writer = Writer(settings(llm, **overrides))
    started = time.monotonic()
    outcome = writer.write(extractive())
    return outcome, time.monotonic() - started


def test_a_server_that_does_not_answer_in_time_falls_back_within_the_timeout(
    llm: ScriptedLLM,
) -> None:
    llm.script(Scripted("It cost “48 million euros” [1].", delay=30))
    outcome, seconds = timed_write(llm)
    assert outcome.written is None
    assert outcome.fallback == "the server did not answer within 1 s"
    assert seconds <= TIMEOUT + 1


def test_a_server_error_falls_back_within_the_timeout(llm: ScriptedLLM) -> None:
    llm.script(*[Scripted(status=500)] * 5)
    outcome, seconds = timed_write(llm)
    assert outcome.written is None and outcome.fallback == "the server answered HTTP 500"
    assert 2 <= len(llm.completions) <= 3  # retried with backoff while time allowed
    assert seconds <= TIMEOUT + 1


@pytest.mark.parametrize(
    "body",
    ['{"choices": [{"message": {"content": "It cost', "<html>Bad gateway</html>", '{"id": 3}'],
    ids=["truncated", "html", "no-choices"],
)
def test_malformed_replies_fall_back_within_the_timeout(llm: ScriptedLLM, body: str) -> None:
    llm.script(Scripted(body=body))
    outcome, seconds = timed_write(llm)
    assert outcome.written is None and "not a chat completion" in (outcome.fallback or "")
    assert seconds <= TIMEOUT + 1


def test_429_is_retried_after_the_time_the_server_asks_for(llm: ScriptedLLM) -> None:
    llm.script(
        Scripted(status=429, headers={"Retry-After": "2"}),
        Scripted("It cost “48 million euros” [1]."),
    )
    clock = FakeClock()
    writer = Writer(settings(llm, timeout=5.0), clock=clock, sleep=clock.sleep)
    outcome = writer.write(extractive())
    assert outcome.written is not None and clock.slept == [2.0]
    assert len(llm.completions) == 2


def test_a_retry_after_beyond_the_deadline_falls_back_without_waiting(llm: ScriptedLLM) -> None:
    llm.script(Scripted(status=503, headers={"Retry-After": "60"}), Scripted("unused [1]."))
    clock = FakeClock()
    writer = Writer(settings(llm, timeout=5.0), clock=clock, sleep=clock.sleep)
    outcome = writer.write(extractive())
    assert outcome.fallback == "the server answered HTTP 503" and clock.slept == []


def test_a_client_error_is_not_retried(llm: ScriptedLLM) -> None:
    llm.script(Scripted(status=401), Scripted("It cost “48 million euros” [1]."))
    outcome = Writer(settings(llm)).write(extractive())
    assert outcome.fallback == "the server answered HTTP 401" and len(llm.completions) == 1


def test_the_api_key_is_sent_but_never_logged(
    llm: ScriptedLLM, caplog: pytest.LogCaptureFixture
) -> None:
    llm.script(
        Scripted(status=429, headers={"Retry-After": "0"}),
        Scripted("It cost “52 million euros” [1]."),
        Scripted(status=401),
    )
    with caplog.at_level(logging.DEBUG):  # the openai client and httpx log requests at DEBUG
        writer = Writer(settings(llm))
        writer.write(extractive())
        writer.write(extractive())
        logging.getLogger("test").info("settings: %r %s", writer.settings, writer.settings)
    assert [c.headers["Authorization"] for c in llm.completions] == [f"Bearer {API_KEY}"] * 3
    assert caplog.records, "nothing was logged, so the check below proves nothing"
    assert any("HTTP 429" in r.getMessage() for r in caplog.records)
    assert not [r.getMessage() for r in caplog.records if API_KEY in r.getMessage()]
    assert API_KEY not in caplog.text  # formatted records, tracebacks included


def test_without_an_api_key_no_real_key_is_sent(llm: ScriptedLLM) -> None:
    llm.script(Scripted("It cost “48 million euros” [1]."))
    Writer(settings(llm, api_key=None)).write(extractive())
    assert llm.completions[0].headers["Authorization"] == "Bearer unused"


def test_settings_errors_are_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")  # no .env
    monkeypatch.setenv("CITEBOT_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("CITEBOT_LLM_MODEL", raising=False)
    with pytest.raises(WriterSettingsError, match=r"^CITEBOT_LLM_BASE_URL is set: name the model"):
        load_writer_settings()
    monkeypatch.setenv("CITEBOT_LLM_MODEL", "m")
    monkeypatch.setenv("CITEBOT_LLM_TIMEOUT", "-1")
    with pytest.raises(WriterSettingsError, match=r"^CITEBOT_LLM_TIMEOUT is not valid: "):
        load_writer_settings()


def test_the_prompt_numbers_the_passages_it_shows() -> None:
    messages = build_messages("Who found the comet?", passages())
    user = messages[1]["content"]
    assert user.index("[1] Harbour") < user.index("[2] Harbour") < user.index("[3] Amateur")
    assert "Today's date" not in user and "I don't know" in messages[0]["content"]
