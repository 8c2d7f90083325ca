"""The `citebot` command line, run as a user runs it: a subprocess with the real model."""

from __future__ import annotations

import json
import os
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
    assert report["failed"] == [{"path": "broken.jsonl#1", "error": report["failed"][0]["error"]}]
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
