"""Bot settings from the environment, and the one sentence shown when one is wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import BotSettings, settings_error
from bot.runner import feedback_store
from index.settings import EngineSettings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CITEBOT_* or DISCORD_TOKEN from the developer's shell, and no .env in the cwd."""
    for name in list(os.environ):
        if name.startswith("CITEBOT_") or name == "DISCORD_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def error_for(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        BotSettings()
    return settings_error(caught.value)


def test_ids_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", " abc.def ")
    monkeypatch.setenv("CITEBOT_GUILD_IDS", "123, 456,789")
    monkeypatch.setenv("CITEBOT_ANSWER_CHANNEL_IDS", "")
    monkeypatch.setenv("CITEBOT_RATE_LIMIT_QUESTIONS", "3")
    settings = BotSettings()
    assert settings.discord_token.get_secret_value() == "abc.def"
    assert settings.guild_ids == [123, 456, 789] and settings.answer_channel_ids == []
    assert (settings.rate_limit_questions, settings.rate_limit_seconds) == (3, 60.0)
    assert settings.discord_api_base is None and settings.discord_gateway_url is None


def test_settings_are_read_from_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=from-file\nCITEBOT_ADMIN_ROLE_IDS=42\n"
        "CITEBOT_DISCORD_API_BASE=http://127.0.0.1:9/api/v10/\n",
        encoding="utf-8",
    )
    settings = BotSettings()
    assert settings.discord_token.get_secret_value() == "from-file"
    assert settings.admin_role_ids == [42]
    assert settings.discord_api_base == "http://127.0.0.1:9/api/v10"


def test_the_token_is_never_shown() -> None:
    settings = BotSettings(_env_file=None, discord_token="very-secret")
    assert "very-secret" not in repr(settings) and "very-secret" not in str(settings)


def test_a_missing_or_empty_token_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = (
        "DISCORD_TOKEN is not set: put the bot token in the environment or in .env "
        "(see .env.example)."
    )
    assert error_for(monkeypatch) == expected
    assert error_for(monkeypatch, DISCORD_TOKEN="  ") == expected


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        ("CITEBOT_GUILD_IDS", "12,general", "must be Discord ids (numbers) separated by commas"),
        ("CITEBOT_DISCORD_API_BASE", "discord.com/api", "must be an http:// or https:// URL"),
        ("CITEBOT_DISCORD_GATEWAY_URL", "http://x/gateway", "must be a ws:// or wss:// URL"),
        ("CITEBOT_RATE_LIMIT_QUESTIONS", "0", "input should be greater than or equal to 1"),
    ],
)
def test_a_bad_setting_is_named_without_its_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, sentence: str
) -> None:
    message = error_for(monkeypatch, DISCORD_TOKEN="t", **{name: value})
    assert message == f"{name} is not valid: {sentence}."


def test_threads_and_retention_are_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "abc")
    assert BotSettings().answer_in_thread is True
    monkeypatch.setenv("CITEBOT_ANSWER_IN_THREAD", "false")
    assert BotSettings().answer_in_thread is False
    assert EngineSettings().keep_questions_days == 30
    monkeypatch.setenv("CITEBOT_KEEP_QUESTIONS_DAYS", "7")
    monkeypatch.setenv("CITEBOT_DATA_DIR", str(tmp_path / "data"))
    store = feedback_store(EngineSettings())
    assert store.keep_days == 7 and store.path == tmp_path / "data" / "feedback.sqlite"
    monkeypatch.setenv("CITEBOT_KEEP_QUESTIONS_DAYS", "0")
    with pytest.raises(ValidationError, match="keep_questions_days"):
        EngineSettings()


def test_the_scheduled_refresh_is_off_unless_minutes_are_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "abc")
    assert BotSettings().refresh_minutes is None
    for off in ("", "0", " 0 "):
        monkeypatch.setenv("CITEBOT_REFRESH_MINUTES", off)
        assert BotSettings().refresh_minutes is None
    monkeypatch.setenv("CITEBOT_REFRESH_MINUTES", "45")
    assert BotSettings().refresh_minutes == 45.0
    message = error_for(monkeypatch, CITEBOT_REFRESH_MINUTES="-5")
    assert message == "CITEBOT_REFRESH_MINUTES is not valid: input should be greater than 0."
