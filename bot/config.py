"""The bot's settings: environment > `.env` > defaults (every one documented in `.env.example`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IdList = Annotated[list[int], NoDecode]

# Field name -> the environment variable a user sets, for error messages.
ENV_NAMES = {
    "discord_token": "DISCORD_TOKEN",
    "guild_ids": "CITEBOT_GUILD_IDS",
    "admin_role_ids": "CITEBOT_ADMIN_ROLE_IDS",
    "answer_channel_ids": "CITEBOT_ANSWER_CHANNEL_IDS",
    "discord_api_base": "CITEBOT_DISCORD_API_BASE",
    "discord_gateway_url": "CITEBOT_DISCORD_GATEWAY_URL",
    "rate_limit_questions": "CITEBOT_RATE_LIMIT_QUESTIONS",
    "rate_limit_seconds": "CITEBOT_RATE_LIMIT_SECONDS",
    "refresh_minutes": "CITEBOT_REFRESH_MINUTES",
    "answer_in_thread": "CITEBOT_ANSWER_IN_THREAD",
}


class BotSettings(BaseSettings):
    """How the bot reaches Discord and whom it listens to."""

    model_config = SettingsConfigDict(
        env_prefix="CITEBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    discord_token: SecretStr = Field(
        validation_alias=AliasChoices("DISCORD_TOKEN", "discord_token"),
        min_length=1,
        description="The bot token from the Discord Developer Portal.",
    )
    guild_ids: IdList = Field(
        default_factory=list,
        description="Servers to register commands in at start-up (instant); empty: globally.",
    )
    admin_role_ids: IdList = Field(
        default_factory=list, description="Roles whose members may run /reindex."
    )
    answer_channel_ids: IdList = Field(
        default_factory=list, description="Channels where every message is taken as a question."
    )
    answer_in_thread: bool = Field(
        True, description="In answer channels, answer each new question in a thread of its own."
    )
    discord_api_base: str | None = Field(
        None, description="Another Discord-compatible REST API, e.g. http://127.0.0.1:8080/api/v10."
    )
    discord_gateway_url: str | None = Field(
        None, description="Another Discord-compatible gateway, e.g. ws://127.0.0.1:8080/gateway/."
    )
    rate_limit_questions: int = Field(5, ge=1, description="Questions per user per window.")
    rate_limit_seconds: float = Field(60.0, gt=0, description="The rate-limit window in seconds.")
    refresh_minutes: float | None = Field(
        None, gt=0, description="Refresh the feeds every this many minutes; empty: never."
    )

    @field_validator("refresh_minutes", mode="before")
    @classmethod
    def _off_when_empty(cls, value: Any) -> Any:
        """Empty or 0 turns the scheduled refresh off."""
        if isinstance(value, str) and value.strip() in ("", "0"):
            return None
        return None if value == 0 else value

    @field_validator("discord_token", mode="before")
    @classmethod
    def _strip_token(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("guild_ids", "admin_role_ids", "answer_channel_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        """Accept `123, 456` (as written in the environment) as well as a list."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            if not all(part.isdigit() for part in parts):
                raise ValueError("must be Discord ids (numbers) separated by commas")
            return [int(part) for part in parts]
        return value

    @field_validator("discord_api_base", mode="after")
    @classmethod
    def _check_api_base(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("discord_gateway_url", mode="after")
    @classmethod
    def _check_gateway_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return value


def settings_error(exc: ValidationError) -> str:
    """One sentence naming the first setting that is missing or wrong (never its value)."""
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    name = ENV_NAMES.get(field, field.upper())
    if name == "DISCORD_TOKEN":
        return (
            "DISCORD_TOKEN is not set: put the bot token in the environment or in .env "
            "(see .env.example)."
        )
    reason = str(error["msg"]).removeprefix("Value error, ")
    return f"{name} is not valid: {reason[0].lower()}{reason[1:]}."
