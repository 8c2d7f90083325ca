"""The `citebot` command line, run as a user runs it: a subprocess with the real model."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

CLI = [sys.executable, "-m", "citebot"]


def clean_env() -> dict[str, str]:
    """The test process's environment without any citebot settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_")}


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env=clean_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder with articles/ and data/ indexed by `citebot index --json`."""
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(FIXTURES / "articles", root / "articles")
    (root / "articles" / "broken.jsonl").write_text('{"text": "ok"\n')
    result = run("index", "--articles", "articles", "--data", "data", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {
        "added", "updated", "removed", "unchanged", "failed", "articles", "chunks", "seconds"
    }  # fmt: skip
    assert report["added"] == 4 and report["articles"] == 4
    (failure,) = report["failed"]  # the broken line is named, and what is wrong with it
    assert failure["path"] == "broken.jsonl#1"
    assert failure["error"].startswith("invalid JSON at line 1: "), failure["error"]
    return root


def test_sources_json(indexed: Path) -> None:
    result = run("sources", "--data", "data", "--json", cwd=indexed)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows[0]["article_id"] == "library-robots"  # newest first
    assert set(rows[0]) == {
        "article_id", "title", "url", "source", "published", "chunks", "indexed_at"
    }  # fmt: skip


def test_ask_readable_and_json(indexed: Path) -> None:
    result = run("ask", "--data", "data", "How much did the bridge repair cost?", cwd=indexed)
    assert result.returncode == 0, result.stderr
    assert "48 million euros" in result.stdout
    assert "[1] Harbour bridge reopens after two-year repair — Port Gazette, 2024-03-14" in (
        result.stdout
    )
    result = run("ask", "--data", "data", "--json", "--k", "2", "Who found the comet?", cwd=indexed)
    data = json.loads(result.stdout)
    assert len(data["passages"]) == 2
    assert "Rosa Delgado" in data["answer"]


def test_ask_reads_questions_from_stdin(indexed: Path) -> None:
    questions = "How many robots did the library buy?\n\nWho found the comet?\n"
    result = run("ask", "--data", "data", cwd=indexed, stdin=questions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == [
        "How many robots did the library buy?",
        "Who found the comet?",
    ]
    assert "40 robots" in lines[0]["answer"]


def test_a_reader_that_stops_early_is_not_an_error(indexed: Path) -> None:
    """`citebot sources | head`: the pipe closes before citebot has written everything."""
    process = subprocess.Popen(
        [*CLI, "sources", "--data", "data"],
        cwd=indexed,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the first write
    _, err = process.communicate(timeout=120)
    assert err.decode() == ""
    assert process.returncode == 141  # 128 + SIGPIPE, as the shell reports `yes | head`


def test_env_and_flags(indexed: Path) -> None:
    env_file = indexed / ".env"
    env_file.write_text("CITEBOT_DATA_DIR=data\n")
    try:
        result = run("sources", "--json", cwd=indexed)  # from .env
        assert result.returncode == 0 and len(json.loads(result.stdout)) == 4
        result = run("sources", "--json", "--data", "elsewhere", cwd=indexed)  # flag wins
        assert result.returncode == 2 and "No index in elsewhere" in result.stderr
    finally:
        env_file.unlink()


def test_missing_articles_folder_exits_2_with_one_sentence(tmp_path: Path) -> None:
    result = run("index", "--articles", "nowhere", "--data", "data", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "nowhere" in result.stderr


def test_unwritable_data_dir_exits_2(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "articles", tmp_path / "articles")
    (tmp_path / "file").write_text("")
    result = run("index", "--articles", "articles", "--data", "file/data", cwd=tmp_path)
    assert result.returncode == 2
    assert "Cannot write to the data directory" in result.stderr
    assert "Traceback" not in result.stderr


def run_bytes(*args: str | bytes, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """`run` with bytes in and out: invalid UTF-8 on the command line or standard input."""
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=clean_env(), input=stdin, capture_output=True, timeout=240
    )


def test_batch_answers_every_line_and_reports_each_bad_one(indexed: Path) -> None:
    lines = [
        b"Who found the comet?",
        b"How much did the bridge \xff\xfe repair cost?",  # invalid UTF-8
        b'{"question": "Which library lends robots to children?", "as_of": "2024-04-01"}',
        b'{"question": "Who found the comet?", "since": "2023-13"}',
        b"{not json",
        b'{"question": "Who found the comet?", "sinse": "2023"}',
        b'{"question": "How much did the bridge repair cost?", "until": "2024-03"}',
        b'{"question": "How much did the bridge repair cost?", "until": "2024-02"}',
        b'{"question": ""}',
        b"How many robots did the library buy?",
    ]
    result = run_bytes("ask", "--data", "data", cwd=indexed, stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 0, result.stderr.decode()
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(out) == len(lines)
    errors = {o["line"]: o for o in out if "error" in o}
    assert set(errors) == {4, 5, 6, 9}
    assert "'2023-13' is not a date" in errors[4]["error"]
    assert errors[4]["question"] == "Who found the comet?"
    assert "not valid JSON" in errors[5]["error"] and errors[5]["question"] is None
    assert "'sinse'" in errors[6]["error"]
    assert "empty" in errors[9]["error"]
    assert "Rosa Delgado" in out[0]["answer"]
    assert "48 million euros" in out[1]["answer"] and "\ufffd" in out[1]["question"]
    assert "library-robots" not in {p["article_id"] for p in out[2]["passages"]}  # as of April
    assert "48 million euros" in out[6]["answer"]  # published 2024-03-14, until end of March
    assert "harbour-bridge" not in {p["article_id"] for p in out[7]["passages"]}
    assert "40 robots" in out[9]["answer"]


def test_a_question_with_invalid_text_is_answered(indexed: Path) -> None:
    # Not UTF-8: Python hands the program lone surrogates, which the tokenizer refuses.
    result = run_bytes(
        "ask", "--data", "data", "--json", b"Who found the comet\xed\xa0\x80?", cwd=indexed
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "Rosa Delgado" in json.loads(result.stdout)["answer"]


def test_an_empty_question_with_json_is_a_json_error(indexed: Path) -> None:
    result = run("ask", "--data", "data", "--json", " ", cwd=indexed)
    assert result.returncode == 2
    assert json.loads(result.stdout) == {
        "question": " ",
        "error": "The question is empty: ask something about the articles.",
    }


def test_as_of_leaves_out_later_articles_and_keeps_undated_ones(indexed: Path) -> None:
    question = "Which library lends robots to children?"
    result = run("ask", "--data", "data", "--json", "--k", "10", question, cwd=indexed)
    assert "library-robots" in {p["article_id"] for p in json.loads(result.stdout)["passages"]}
    result = run(
        "ask", "--data", "data", "--json", "--k", "10", "--as-of", "2024-04-01", question,
        cwd=indexed,
    )  # fmt: skip
    used = {p["article_id"] for p in json.loads(result.stdout)["passages"]}
    assert "library-robots" not in used  # published 2024-05-02
    assert "comet-sighting" in used  # no date: never "published after"


def test_sources_text_counts_in_english(indexed: Path) -> None:
    result = run("sources", "--data", "data", cwd=indexed)
    assert result.stdout.startswith("4 articles, 4 chunks, updated ")
    assert "[comet-sighting, 1 chunk]" in result.stdout


def test_at_a_terminal_ask_prompts_and_answers_in_text(indexed: Path) -> None:
    """`citebot ask` typed at a terminal says what it waits for, then answers as text."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [*CLI, "ask", "--data", "data"],
            cwd=indexed,
            env=clean_env(),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, b"Who found the comet?\n\x04")  # a question, then Ctrl-D
        out, err = process.communicate(timeout=240)
    finally:
        os.close(controller)
        os.close(terminal)
    assert process.returncode == 0, err
    assert err.startswith("Reading questions from standard input, one per line; Ctrl-D to end.")
    assert out.startswith("“") and "Rosa Delgado" in out
    assert "[1] Amateur astronomer spots new comet" in out


def test_a_long_question_is_answered_and_the_reader_told_it_was_cut(indexed: Path) -> None:
    question = "I read a lot about bridges and tolls and ferries lately. " * 40
    question += "How much did the harbour bridge repair cost?"
    result = run("ask", "--data", "data", question, cwd=indexed)
    assert result.returncode == 0, result.stderr
    first, *rest = result.stdout.splitlines()
    assert first.startswith("(Your question was long: only its end was read, “…")
    assert first.endswith("How much did the harbour bridge repair cost?”.)")
    assert "48 million euros" in "\n".join(rest)


def test_ask_after_an_earlier_question_follows_it_up(indexed: Path) -> None:
    after = ["--after", "When did the harbour bridge reopen?"]
    result = run("ask", "--data", "data", *after, "how much did it cost?", cwd=indexed)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("(Follow-up to: When did the harbour bridge reopen?)\n")
    assert "48 million euros" in result.stdout
    assert result.stdout.rstrip().endswith("Sources published 2024-03-14")
    alone = run("ask", "--data", "data", "--json", "how much did it cost?", cwd=indexed)
    assert json.loads(alone.stdout)["abstained"]  # on its own, "it" says nothing
    result = run("ask", "--data", "data", "--json", *after, "Who found the comet?", cwd=indexed)
    data = json.loads(result.stdout)
    assert data["follow_up_of"] is None and data["read_with"] == ["Who found the comet?"]
    assert "Rosa Delgado" in data["answer"]


def test_gaps_lists_grouped_failed_questions_as_json(indexed: Path) -> None:
    from index.answer.compose import Answer
    from index.feedback import FEEDBACK_FILE, FeedbackStore

    assert json.loads(run("gaps", "--data", "data", "--json", cwd=indexed).stdout) == []
    store = FeedbackStore(indexed / "data" / FEEDBACK_FILE)
    for question in [
        "Who won the football match last night?",
        "who won yesterday's football match?",
    ]:
        answer_id = store.save_answer(Answer(question, abstained=True), channel_id=5)
        store.posted(answer_id, message_id=9, link="https://discord.com/channels/1/5/9")
    store.save_answer(Answer("Who is the mayor?", abstained=True), channel_id=5, private=True)
    result = run("gaps", "--data", "data", "--json", cwd=indexed)
    assert result.returncode == 0, result.stderr
    (gap,) = json.loads(result.stdout)
    assert gap["count"] == 2 and gap["abstained"] == 2 and gap["voted_down"] == 0
    assert gap["question"] == "who won yesterday's football match?"
    assert gap["link"] == "https://discord.com/channels/1/5/9"
    text = run("gaps", "--data", "data", cwd=indexed).stdout
    assert text.startswith("2× who won yesterday's football match? (2 not answered; last ")
    bad = run("gaps", "--data", "data", "--days", "0", cwd=indexed)
    assert bad.returncode == 2 and "not a number of days" in bad.stderr


def test_index_lists_every_file_not_indexed_and_counts_truthfully(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "articles", tmp_path / "articles")
    first = run("index", "--articles", "articles", "--data", "data", "--json", cwd=tmp_path)
    assert json.loads(first.stdout)["added"] == 4, first.stderr
    articles = tmp_path / "articles"
    # A new file whose record reuses the id of an indexed article, sorted before that article.
    (articles / "a-feed.jsonl").write_text('{"id": "comet-sighting", "text": "Other text."}\n')
    (articles / "report.docx").write_bytes(b"PK\x03\x04")
    (articles / os.fsdecode(b"caf\xe9.txt")).write_text("Cafe\nBody.\n")
    with open(articles / "huge.txt", "wb") as fh:  # 50 MB, sparse
        fh.truncate(50 * 1024 * 1024)

    result = run("index", "--articles", "articles", "--data", "data", "--json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["added"], report["updated"], report["unchanged"]) == (0, 0, 4)
    failed = {f["path"]: f["error"] for f in report["failed"]}
    assert failed == {
        "a-feed.jsonl#1": "duplicate article id 'comet-sighting' (also in comet-sighting.txt)",
        "caf\ufffd.txt": "the file name is not valid UTF-8: rename it",
        "huge.txt": "50.0 MB, more than CITEBOT_MAX_ARTICLE_MB (5 MB)",
        "report.docx": failed["report.docx"],
    }
    assert failed["report.docx"].startswith("not an article file (citebot reads ")
    text = run("index", "--articles", "articles", "--data", "data", cwd=tmp_path).stdout
    assert "4 unchanged, 4 files not indexed:\n" in text
    assert "\n  a-feed.jsonl#1: duplicate article id 'comet-sighting'" in text
    assert text.count("\n  ") == 4
