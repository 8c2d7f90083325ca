"""Helpers for the ingest tests: write article files, load a folder by article id."""

from __future__ import annotations

from pathlib import Path

from index.ingest.readers import Article, load_articles
from tests.conftest import FIXTURES as TESTS_FIXTURES

FIXTURES = TESTS_FIXTURES / "ingest"


def write(folder: Path, rel: str, content: str | bytes) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def by_id(folder: Path) -> dict[str, Article]:
    result = load_articles(folder)
    assert result.failures == []
    return {article.id: article for article in result.articles}
