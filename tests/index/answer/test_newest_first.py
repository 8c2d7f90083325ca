"""Of the sentences read, those of the newest articles come first: news changes."""

from __future__ import annotations

from datetime import date

import pytest

from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from tests.index.answer.conftest import markdown_engine

# Both articles answer; the older one in the question's own words, the newer one with what is
# true now.
ARTICLES = {
    "fare-2023-03.md": (
        "2023-03-01",
        "Kessby ferry fare set",
        "The Kessby ferry fare is four euros for adults, the ferry board said on Wednesday. "
        "Children under twelve travel free.",
    ),
    "fare-2023-06.md": (
        "2023-06-09",
        "Crossing to the island will cost more from July",
        "From July the ferry fare will be five euros for adults, the council decided on Friday "
        "after a short debate. Children under twelve still travel free.",
    ),
    "market.md": (
        "2023-06-02",
        "Night market returns to the quay",
        "Stalls will be built along the quay for three nights in August. The council voted by "
        "nine to four.",
    ),
}


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    articles = {
        name: ({"title": title, "published": published}, body)
        for name, (published, title, body) in ARTICLES.items()
    }
    return markdown_engine(tmp_path_factory.mktemp("newest"), articles, real_embedder)


def test_the_newest_article_answers_first(engine: Engine) -> None:
    answer = engine.ask("What is the ferry fare for adults?", as_of=date(2023, 6, 12))
    assert not answer.abstained
    assert answer.quotes[0].text.startswith("From July the ferry fare will be five euros")
    assert answer.sources[0].published.startswith("2023-06-09")


def test_without_the_newer_article_the_older_one_answers(engine: Engine) -> None:
    answer = engine.ask("What is the ferry fare for adults?", as_of=date(2023, 6, 1))
    assert answer.quotes[0].text.startswith("The Kessby ferry fare is four euros")
