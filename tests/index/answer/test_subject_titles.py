"""An article titled by a short name is about that name, even where a sentence leaves it out."""

from __future__ import annotations

import pytest

from index.answer.choose import subject_terms
from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from tests.index.answer.conftest import markdown_engine

ARTICLES = {
    "harbour-lantern.md": (
        "Harbour Lantern",
        "In March 2011, the keeper Ana Holm said that the Harbour Lantern would be repainted and "
        "that the Harbour Lantern lamp room would stay closed to visitors. Its lens came from "
        "a workshop in Paris. It was built by Ilse Varga and Tomas Reed in 1911, and is kept by "
        "the port authority of Kessby.",
    ),
    "kessby-ferry.md": (
        "Kessby ferry",
        "The ferry to Kessby, built in 1990, runs every hour in summer. Tickets are sold on "
        "board and at the quay office, which opens at seven.",
    ),
    "night-market.md": (
        "Council approves a night market on the quay after a long debate",
        "Stalls will be built along the quay for three nights in August. The council voted by "
        "nine to four.",
    ),
}


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    articles = {name: ({"title": title}, body) for name, (title, body) in ARTICLES.items()}
    return markdown_engine(tmp_path_factory.mktemp("subject"), articles, real_embedder)


def test_the_sentence_saying_it_for_the_title_comes_first(engine: Engine) -> None:
    # "It was built by…" holds the question's commonest word, the keeper's sentence its two
    # rarer ones; the title "Harbour Lantern" says what "It" is. ("It" refers back, so the
    # sentence before it is quoted with it.)
    answer = engine.ask("Who built the Harbour Lantern?")
    assert not answer.abstained
    assert answer.quotes[0].text.startswith("Its lens came from a workshop in Paris. It was built")
    assert "Ana Holm" not in answer.quotes[0].text


def test_only_a_short_title_names_thesubject_terms() -> None:
    assert subject_terms("Wayback Machine") == {"wayback", "machin"}
    assert subject_terms("Council approves a night market on the quay after a long debate") == set()
