"""BM25 side: terms, ranking, and chunk-id lookups on ids that are not in row order."""

from __future__ import annotations

import re

import numpy as np
import Stemmer

from index.store.lexical import _STOPWORDS, LexicalIndex, terms

TEXTS = {
    42: "The harbour bridge reopened after repairs costing 48 million euros.",
    7: "A comet was seen over the northern hills by an amateur astronomer.",
    19: "Drought cut the wheat harvest by a third this summer.",
    3: "Robots now shelve books in the city library at night.",
}


def make_index() -> LexicalIndex:
    return LexicalIndex.build(list(TEXTS), list(TEXTS.values()))


def test_terms_are_stemmed_content_words() -> None:
    assert terms("Who discovered the comets?") == ["discov", "comet"]


def test_search_ranks_the_matching_chunk_first() -> None:
    index = make_index()
    assert index.search(terms("wheat harvest drought"), k=2)[0][0] == 19
    assert index.search(terms("zeppelin"), k=2) == []


def test_allowed_restricts_results_by_chunk_id() -> None:
    index = make_index()
    query = terms("bridge comet wheat robots")
    assert {cid for cid, _ in index.search(query, k=4)} == {42, 7, 19, 3}
    assert {cid for cid, _ in index.search(query, k=4, allowed=np.array([7, 3, 999]))} == {7, 3}


def test_scores_of_maps_chunk_ids_to_their_rows() -> None:
    index = make_index()
    scores = index.scores(terms("comet astronomer"))
    assert scores is not None
    found = index.scores_of(scores, [7, 42, 1000])
    assert found[7] > 0 and found[42] == 0.0 and found[1000] == 0.0
    assert found[7] == float(scores[list(TEXTS).index(7)])
    assert index.scores_of(None, [7]) == {7: 0.0}


def test_cached_stems_equal_the_stemmer_word_for_word() -> None:
    text = "Running runners ran; the RUNNER's runs were running. Études, naïve cafés, 1973!"
    words = [w for w in re.findall(r"\w+", text.casefold()) if w not in _STOPWORDS]
    expected = Stemmer.Stemmer("english").stemWords(words)
    assert terms(text) == expected
    assert terms(text) == expected  # second time from the cache
