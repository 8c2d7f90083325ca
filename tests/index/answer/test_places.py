"""Questions asking which country, US state or city: the sentence naming one comes first."""

from __future__ import annotations

import pytest

from index.answer.places import places_in
from index.answer.question import Expects, PlaceKind, analyse
from index.answer.sentences import carries
from index.embed.embedder import SentenceTransformerEmbedder
from index.engine import Engine
from tests.index.answer.conftest import markdown_engine


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Which state was hit hardest by the ice storm?", PlaceKind.STATE),
        ("In which U.S. state did the rocket land?", PlaceKind.STATE),
        ("Which country’s prime minister resigned?", PlaceKind.COUNTRY),
        ("Which nation won the contest?", PlaceKind.COUNTRY),
        ("Workers brought which major city to a standstill?", PlaceKind.CITY),
        ("The US opened an embassy in which Pacific island nation?", PlaceKind.COUNTRY),
        ("Which party controls the state senate?", None),  # "the state" is not what is asked
        ("Where was the rocket launched?", None),  # a place, but of no listed kind
        ("Which team won the cup?", None),
        ("What is the state of the economy?", None),  # not a PLACE question at all
    ],
)
def test_the_kind_of_place_asked_for(text: str, kind: PlaceKind | None) -> None:
    assert analyse(text).place_kind == kind


@pytest.mark.parametrize(
    ("sentence", "kind", "found"),
    [
        (
            "Heavy rain hit California’s coast and Nevada.",
            PlaceKind.STATE,
            ["california", "nevada"],
        ),
        (
            "Troops from the U.S. and Trinidad and Tobago",
            PlaceKind.COUNTRY,
            ["u s", "trinidad and tobago"],
        ),
        ("Flooding closed roads in New Jersey on Monday.", PlaceKind.COUNTRY, []),  # not Jersey
        ("Flooding closed roads in New Jersey on Monday.", PlaceKind.STATE, ["new jersey"]),
        ("Strikes brought Paris to a halt.", PlaceKind.CITY, ["paris"]),
        ("Georgia voted on Tuesday.", PlaceKind.COUNTRY, ["georgia"]),  # a country and a state
        ("Georgia voted on Tuesday.", PlaceKind.STATE, ["georgia"]),
        ("The storm cut power to thousands of homes.", PlaceKind.STATE, []),
        ("Governor Kathy Hochul of the Empire State said so.", PlaceKind.STATE, []),
    ],
)
def test_places_named_in_a_sentence(sentence: str, kind: PlaceKind, found: list[str]) -> None:
    assert places_in(sentence, kind) == found


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        (
            "Which state was hit by the storm?",
            "Governor Ron DeSantis declared an emergency.",
            False,
        ),
        ("Which state was hit by the storm?", "The storm hit Florida on Tuesday.", True),
        ("Which state besides Texas was hit by the storm?", "The storm hit Texas.", False),
        ("Which city hosts the Democratic convention?", "Chicago was chosen by the party.", True),
        ("Which country sent tanks?", "Chancellor Olaf Scholz said tanks would go.", False),
    ],
)
def test_a_sentence_carries_a_place_of_the_kind_asked(
    question: str, sentence: str, expected: bool
) -> None:
    analysed = analyse(question)
    assert analysed.expects is Expects.PLACE
    assert carries(analysed.expects, sentence, analysed) is expected


# The sentence that shares the most words with the question names a governor, a storm and a
# county (all capitalised names), but no state; the one after the next names the state.
ARTICLE = (
    "An ice storm left thousands of homes without power this week, Governor Dale Brennick "
    "said on Thursday after touring Marlow County. Crews worked through the night to clear "
    "fallen lines from the roads. Most of the outages were in Oklahoma, where the ice was "
    "thickest, the utility said."
)


@pytest.fixture(scope="module")
def engine(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: SentenceTransformerEmbedder
) -> Engine:
    articles = {
        "ice.md": ({"title": "Ice storm cuts power", "published": "2023-02-02"}, ARTICLE),
        "fair.md": (
            {"title": "County fair opens", "published": "2023-02-01"},
            "The county fair opened on Wednesday with a parade of tractors and a brass band.",
        ),
    }
    return markdown_engine(tmp_path_factory.mktemp("places"), articles, real_embedder)


def test_the_sentence_naming_the_state_comes_first(engine: Engine) -> None:
    answer = engine.ask("Which state lost power in an ice storm this week?")
    assert not answer.abstained
    assert answer.quotes[0].text.startswith("Most of the outages were in Oklahoma")
