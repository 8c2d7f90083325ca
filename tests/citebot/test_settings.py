"""Bad settings end a command with one sentence naming the setting, its value and what is
allowed, and exit status 2 (in-process: nothing is loaded before the settings are read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from citebot.cli import main


@pytest.mark.parametrize(
    ("variable", "value", "sentence"),
    [
        ("CITEBOT_CHUNK_TOKENS", "5000", "CITEBOT_CHUNK_TOKENS=5000 is not allowed: it must be "
         "less than or equal to 512 (word pieces per chunk at most)."),
        ("CITEBOT_CHUNK_TOKENS", "many", "CITEBOT_CHUNK_TOKENS=many is not allowed: it must be "
         "a valid integer (word pieces per chunk at most)."),
        ("CITEBOT_EMBED_BACKEND", "gpu", "CITEBOT_EMBED_BACKEND=gpu is not allowed: it must be "
         "'torch', 'onnx' or 'onnx-int8' (how the model runs)."),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", [["index"], ["sources"], ["ask", "anything"]])
def test_a_bad_setting_is_one_sentence_and_exit_2(
    variable: str,
    value: str,
    sentence: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv(variable, value)
    assert main(command) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"citebot: {sentence}\n")


def test_a_bad_setting_in_dot_env_is_reported_the_same_way(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CITEBOT_CHUNK_OVERLAP", raising=False)
    (tmp_path / ".env").write_text("CITEBOT_CHUNK_OVERLAP=9\n")
    assert main(["sources"]) == 2
    assert capsys.readouterr().err == (
        "citebot: CITEBOT_CHUNK_OVERLAP=9 is not allowed: it must be less than or equal to 3 "
        "(sentences shared by adjacent chunks).\n"
    )
