"""`citebot ask` with an LLM configured (the scripted server on 127.0.0.1), run as a user runs
it; and without one, exactly as before."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from citebot.writing import NO_LLM
from index.store.generations import open_snapshot
from tests.citebot.test_cli import CLI, clean_env
from tests.conftest import FIXTURES
from tests.llm_server import Scripted, ScriptedLLM, quoting

QUESTION = "How much did the bridge repair cost?"
ARTICLE = "harbour-bridge"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-write")
    shutil.copytree(FIXTURES / "articles", root / "articles")
    result = ask_run("index", "--articles", "articles", "--data", "data", "-q", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM().in_thread() as server:
        yield server


def ask_run(
    *args: str, cwd: Path, llm: ScriptedLLM | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    if llm is not None:
        env |= {
            "CITEBOT_LLM_BASE_URL": llm.base_url,
            "CITEBOT_LLM_MODEL": "scripted-model",
            "CITEBOT_LLM_TIMEOUT": "5",
        }
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=240
    )


def test_json_carries_the_written_answer_and_its_verified_quotes(
    indexed: Path, llm: ScriptedLLM
) -> None:
    llm.responder = quoting("48 million euros", "The repair cost")
    result = ask_run("ask", "--data", "data", "--json", QUESTION, cwd=indexed, llm=llm)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "written" and data["fallback"] is None
    written = data["written"]
    assert written["text"] == "The repair cost “48 million euros” [1]."
    assert written["model"] == "scripted-model" and written["removed"] == []
    (quote,) = written["quotes"]
    text = open_snapshot(indexed / "data").article_text(ARTICLE)
    assert quote["article_id"] == ARTICLE and text is not None
    assert text[quote["start"] : quote["end"]] == quote["text"] == "48 million euros"
    # The extractive answer is still there, as before.
    assert "48 million euros" in data["answer"] and data["quotes"][0]["article_id"] == ARTICLE


def test_the_written_answer_is_printed_with_its_sources_and_a_footer(
    indexed: Path, llm: ScriptedLLM
) -> None:
    llm.responder = quoting("48 million euros", "The repair cost")
    result = ask_run("ask", "--data", "data", QUESTION, cwd=indexed, llm=llm)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "The repair cost “48 million euros” [1].",
        "",
        "Sources:",
        "[1] Harbour bridge reopens after two-year repair — Port Gazette, 2024-03-14 "
        "<https://example.org/news/harbour-bridge-reopens>",
        "",
        "(written by scripted-model, quotes checked)",
    ]


def test_an_invented_quote_gives_the_extractive_answer_unchanged(
    indexed: Path, llm: ScriptedLLM
) -> None:
    llm.responder = None
    llm.script(Scripted("The repair cost “52 million euros” [1]."), Scripted("It cost “52” [1]."))
    plain = ask_run("ask", "--data", "data", "--no-write", QUESTION, cwd=indexed, llm=llm)
    shown = ask_run("ask", "--data", "data", QUESTION, cwd=indexed, llm=llm)
    assert shown.returncode == 0 and shown.stdout == plain.stdout
    assert "52 million" not in shown.stdout and "“The Eastport harbour bridge" in shown.stdout
    data = json.loads(
        ask_run("ask", "--data", "data", "--json", QUESTION, cwd=indexed, llm=llm).stdout
    )
    assert (data["kind"], data["written"]) == ("extractive", None)
    assert data["fallback"] == "no sentence with a valid citation is left"


def test_no_write_asks_no_llm_and_keeps_the_json_as_it_was(indexed: Path, llm: ScriptedLLM) -> None:
    before = len(llm.completions)
    with_llm = ask_run(
        "ask", "--data", "data", "--json", "--no-write", QUESTION, cwd=indexed, llm=llm
    )
    without = ask_run("ask", "--data", "data", "--json", QUESTION, cwd=indexed)
    assert len(llm.completions) == before
    assert json.loads(with_llm.stdout) == json.loads(without.stdout)
    assert set(json.loads(without.stdout)) == {
        "question",
        "answer",
        "abstained",
        "confidence",
        "as_of",
        "notes",
        "reason",
        "quotes",
        "sources",
        "passages",
    }  # the one JSON shape of an answer (answer_as_json), with nothing about writing


def test_questions_from_stdin_each_get_a_kind(indexed: Path, llm: ScriptedLLM) -> None:
    llm.responder = quoting("48 million euros", "The repair cost")
    result = ask_run("ask", "--data", "data", cwd=indexed, llm=llm, stdin=f"{QUESTION}\n")
    (line,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert line["kind"] == "written" and line["written"]["quotes"][0]["text"] == "48 million euros"


def test_write_without_an_llm_exits_2_with_one_sentence(indexed: Path) -> None:
    result = ask_run("ask", "--data", "data", "--write", QUESTION, cwd=indexed)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"citebot: {NO_LLM}\n")


def test_without_an_llm_the_client_library_is_never_loaded(indexed: Path) -> None:
    script = (
        "import sys; from citebot.cli import main; "
        f"code = main(['ask', '--data', 'data', {QUESTION!r}]); "
        "print('openai loaded' if 'openai' in sys.modules else 'openai not loaded'); "
        "sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=indexed,
        env=clean_env() | {"PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("openai not loaded\n") and "48 million euros" in result.stdout
