"""Settings shared by the CLI and the bot: flags > environment > `.env` > defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"


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
    approximate_from: int = Field(
        200_000, ge=1, description="From this many chunks, an approximate (HNSW) index is used."
    )
