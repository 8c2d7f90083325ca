"""A real engine (bundled model, FAISS, BM25, SQLite) over the fixture articles, built once."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from index.settings import EngineSettings
from tests.conftest import FIXTURES


@pytest.fixture(scope="session")
def fixture_engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    """The four fixture articles, indexed once for the answer tests that only read."""
    root = tmp_path_factory.mktemp("fixture-engine")
    shutil.copytree(FIXTURES / "articles", root / "articles")
    engine = Engine(
        EngineSettings(_env_file=None, articles_dir=root / "articles", data_dir=root / "data"),
        embedder=real_embedder,
    )
    assert engine.reindex().added == 4
    return engine


def markdown_engine(
    root: Path,
    articles: Mapping[str, tuple[Mapping[str, str], str]],
    embedder: SentenceTransformerEmbedder,
) -> Engine:
    """A real engine over Markdown articles written under `root` (file name -> front matter,
    body), indexed."""
    (root / "articles").mkdir()
    for name, (front, body) in articles.items():
        meta = "".join(f"{key}: {value}\n" for key, value in front.items())
        (root / "articles" / name).write_text(f"---\n{meta}---\n{body}\n", "utf-8")
    engine = Engine(
        EngineSettings(_env_file=None, articles_dir=root / "articles", data_dir=root / "data"),
        embedder=embedder,
    )
    assert engine.reindex().added == len(articles)
    return engine
