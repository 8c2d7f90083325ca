"""How much of a question a piece of text covers: the idf-weighted share of its terms."""

from __future__ import annotations

from collections.abc import Iterable

from index.ingest.chunking import split_sentences
from index.store.lexical import LexicalIndex, terms


class TermWeights:
    """A question's distinct terms weighted by their inverse document frequency.

    `past_forms` (Question.past_forms) lets a base verb of a "did" question be found in its
    irregular past forms ("began" holds "begin")."""

    def __init__(
        self,
        query_terms: Iterable[str],
        lexical: LexicalIndex,
        past_forms: Iterable[tuple[str, frozenset[str]]] = (),
    ) -> None:
        self.weights = {t: lexical.idf(t) for t in set(query_terms)}
        self.total = sum(self.weights.values()) or 1.0
        self.past_forms = tuple(past_forms)

    def share(self, text_terms: set[str]) -> float:
        """The weighted share of the question's terms found in `text_terms` (0 to 1)."""
        if self.past_forms:
            text_terms = text_terms | {b for b, past in self.past_forms if past & text_terms}
        return sum(w for t, w in self.weights.items() if t in text_terms) / self.total

    def of(self, text: str) -> float:
        """`share` of a text's own terms."""
        return self.share(set(terms(text)))

    def best_sentence(self, text: str) -> float:
        """The share covered by the best single sentence of `text`: a passage that answers
        usually has one sentence holding most of the question, not its words scattered."""
        return max((self.of(text[s.start : s.end]) for s in split_sentences(text)), default=0.0)
