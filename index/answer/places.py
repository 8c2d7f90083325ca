"""Which countries, US states and cities a sentence names, for questions that ask for one.

"Which state was hit by the storm?" is answered by a sentence naming a state, and a news
sentence names many other things (people, agencies, storms) that the general rule for places
(any capitalised name) cannot tell apart. The lists come from GeoNames
(data/places/ATTRIBUTION.md); they are read once, on the first question that needs them.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from index.answer.question import PlaceKind
from index.ingest.text import folded_words

_FILES = {
    PlaceKind.COUNTRY: "countries.txt",
    PlaceKind.STATE: "us_states.txt",
    PlaceKind.CITY: "cities.txt",
}
_LONGEST = 4  # words in the longest name looked up ("Bosnia and Herzegovina")
# A run of capitalised words, with the small words that join names ("Isle of Man", "Trinidad
# and Tobago"); a possessive or full stop ends a word ("California’s", "U.S.").
_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|of|and|the|de|la))*")


@cache
def _gazetteer() -> dict[str, frozenset[PlaceKind]]:
    """Every listed name, folded, with the kinds of place it names ("georgia": country and
    state)."""
    kinds: dict[str, set[PlaceKind]] = {}
    folder = resources.files("index.answer") / "data" / "places"
    for kind, file in _FILES.items():
        for line in (folder / file).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                kinds.setdefault(folded_words(line), set()).add(kind)
    return {name: frozenset(k) for name, k in kinds.items()}


def places_in(sentence: str, kind: PlaceKind) -> list[str]:
    """The (folded) names of places of `kind` in `sentence`.

    The longest listed name wins where names overlap, so "New Jersey" is a state and not the
    island of Jersey, and "New York City" a city.
    """
    gazetteer = _gazetteer()
    found = []
    for run in _RUN.finditer(sentence):
        words = [re.sub(r"['’]s$", "", w) for w in run.group().split()]
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + _LONGEST), i, -1):
                name = folded_words(" ".join(words[i:j]))
                if name in gazetteer:
                    if kind in gazetteer[name]:
                        found.append(name)
                    i = j
                    break
            else:
                i += 1
    return found
