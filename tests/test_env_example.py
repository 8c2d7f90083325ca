"""`.env.example` documents every setting the engine and the bot read."""

from __future__ import annotations

from pathlib import Path

from bot.config import BotSettings
from index.settings import EngineSettings, WriterSettings

ENV_EXAMPLE = Path(__file__).parents[1] / ".env.example"


def test_every_setting_is_in_env_example() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    names = [f"CITEBOT_{name.upper()}" for name in EngineSettings.model_fields]
    names += [
        "DISCORD_TOKEN" if name == "discord_token" else f"CITEBOT_{name.upper()}"
        for name in BotSettings.model_fields
    ]
    names += [f"CITEBOT_LLM_{name.upper()}" for name in WriterSettings.model_fields]
    missing = [name for name in names if f"{name}=" not in text]
    assert missing == []
