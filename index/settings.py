"""Settings shared by the CLI and the bot: flags > environment > `.env` > defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.errors import SettingsError, WriterSettingsError

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
DEFAULT_USER_AGENT = "citebot/0.1 (+https://github.com/citebot/citebot; news Q&A bot)"


class EngineSettings(BaseSettings):
    """Where articles and the index live, and which model embeds them."""

    model_config = SettingsConfigDict(
        env_prefix="CITEBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    articles_dir: Path = Field(Path("articles"), description="Folder of articles to index.")
    data_dir: Path = Field(Path("data"), description="Where the index is stored.")
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: the bundled all-MiniLM-L6-v2, or a local model folder.",
    )
    embed_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8",
        description="How the model runs: torch (fp32), onnx (fp32) or onnx-int8 (quantized).",
    )
    cache_dir: Path | None = Field(
        None, description="Where exported ONNX models are kept (default ~/.cache/citebot)."
    )
    chunk_tokens: int = Field(200, ge=32, le=512, description="Word pieces per chunk at most.")
    chunk_overlap: int = Field(1, ge=0, le=3, description="Sentences shared by adjacent chunks.")
    keep_questions_days: int = Field(
        30,
        ge=1,
        description="Days questions, answers and votes are kept; older ones are deleted.",
    )
    approximate_from: int = Field(
        200_000, ge=1, description="From this many chunks, an approximate (HNSW) index is used."
    )
    max_article_mb: float = Field(
        5.0,
        gt=0,
        description="Larger article files are skipped and reported (.json/.jsonl: each article).",
    )

    # -- fetching articles from the web (`citebot add`, `citebot refresh`, /sources add) --
    feeds_file: Path = Field(Path("feeds.txt"), description="The list of RSS/Atom feeds.")
    keep_days: int | None = Field(
        None, ge=1, description="Fetched articles older than this many days are deleted."
    )
    max_page_mb: float = Field(5.0, gt=0, le=1024, description="Larger pages are refused.")
    allow_private_urls: bool = Field(
        False, description="Allow fetching from loopback, private and link-local addresses."
    )
    user_agent: str = Field(DEFAULT_USER_AGENT, min_length=1, description="Sent with requests.")
    fetch_timeout: float = Field(20.0, gt=0, le=600, description="Seconds per request at most.")
    host_delay: float = Field(1.0, ge=0, le=600, description="Seconds between requests to a host.")
    host_connections: int = Field(2, ge=1, le=16, description="Connections per host at most.")

    @field_validator("keep_days", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """`CITEBOT_KEEP_DAYS=` (empty, as in .env.example) means keep everything."""
        return None if isinstance(value, str) and not value.strip() else value


def load_settings(**overrides: Any) -> EngineSettings:
    """The engine settings with `overrides` (from flags) on top; a value that is not allowed
    is a SettingsError naming the variable, the value and what is allowed."""
    try:
        return EngineSettings(**overrides)
    except ValidationError as exc:
        raise SettingsError(settings_error(exc)) from None


def settings_error(exc: ValidationError) -> str:
    """`CITEBOT_CHUNK_TOKENS=5000 is not allowed: it must be ... (what it is).`, for the first
    setting that is wrong."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    reason = str(error["msg"]).removeprefix("Value error, ")
    reason = reason.replace("Input should be", "it must be", 1).split(", unable to parse")[0]
    field = EngineSettings.model_fields.get(name)
    what = (field.description or "").split(":")[0].rstrip(".") if field else ""
    what = f" ({what[:1].lower()}{what[1:]})" if what else ""
    return f"CITEBOT_{name.upper()}={error.get('input')} is not allowed: {reason}{what}."


class WriterSettings(BaseSettings):
    """The optional LLM that writes answers: any OpenAI-compatible server; unset, none is used."""

    model_config = SettingsConfigDict(
        env_prefix="CITEBOT_LLM_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    base_url: str | None = Field(
        None, description="An OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1."
    )
    model: str | None = Field(None, description="The model the server should use.")
    api_key: SecretStr | None = Field(None, description="Sent as a bearer token; never logged.")
    timeout: float = Field(
        8.0, gt=0, le=600, description="Seconds for the whole request, retries included."
    )
    max_tokens: int = Field(300, ge=16, le=8192, description="Tokens the writer may produce.")

    @property
    def enabled(self) -> bool:
        """Whether an LLM is configured."""
        return self.base_url is not None

    @field_validator("base_url", "model", mode="after")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("base_url", mode="after")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _model_named(self) -> WriterSettings:
        if self.base_url is not None and self.model is None:
            raise ValueError("name the model to use in CITEBOT_LLM_MODEL")
        return self


def load_writer_settings() -> WriterSettings:
    """The CITEBOT_LLM_* settings; a wrong one is a WriterSettingsError with one sentence."""
    try:
        return WriterSettings()
    except ValidationError as exc:
        error = exc.errors()[0]
        reason = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:  # the check that spans two settings
            raise WriterSettingsError(f"CITEBOT_LLM_BASE_URL is set: {reason}.") from None
        name = f"CITEBOT_LLM_{error['loc'][0]}".upper()
        raise WriterSettingsError(f"{name} is not valid: {reason}.") from None
