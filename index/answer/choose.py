"""Choosing what to quote: every sentence of the top passages scored against the question,
the evidence the confidence weighs, and the best sentences picked in order."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.answer.confidence import Evidence, cosine_with, mention_share, weigh
from index.answer.coverage import TermWeights
from index.answer.question import Expects, Question
from index.answer.retrieval import Passage, Query, days_behind_newest
from index.answer.sentences import Candidate, asks, candidate_sentences, carries
from index.embed.embedder import Embedder
from index.store.lexical import LexicalIndex, terms

PASSAGES_READ = 5  # sentences are drawn from this many top passages
MAX_SENTENCES = 4
SCORE_GAP = 0.5  # further sentences must score within this of the best one
MIN_FURTHER_QUOTE_CHARS = 20  # a further quote cut shorter than this is left out
ROOM_TO_GO_ON = 40  # characters of MAX_QUOTE_CHARS that must be left to add another quote
# A sentence's score: the idf-weighted share of the question's terms it contains, plus a prior
# for its passage's rank. Re-scoring sentences with the embedding model was measured on
# squad-dev: it cost ~10x the latency for no gain in answer-in-quote (0.845 vs 0.841).
W_PASSAGE = 0.3
# Added to the score of a sentence holding what the question asks for (a date for "when", a
# number for "how many", a name for "who", a place for "where") that the question lacks.
W_CARRIES = 0.2
# ... and instead this, when the question asks for a country, a US state or a city and the
# sentence names one (places.py): a sentence naming none cannot answer "Which state…?", so
# one naming a place of the kind comes first among the sentences read. News dev (66 such
# questions), hybrid: answer in quote 0.614 -> 0.629, first quote 0.494 -> 0.511 (both halves
# up); squad-dev unchanged (2 such questions). Of 0.2, 0.6, 1.0 and 2.0, the last three tie on
# the calibration halves; 1.0 is the smallest that lets a place-naming sentence outrank one
# that names none but carries every bonus (newest article, lead).
W_PLACE = 1.0
# A question that tells a story before it asks ("Amazon announced layoffs this week. How many
# jobs will go?"): the sentence that answers shares the words of the asking sentence more than
# the story's, so the share of the asking sentence's terms it holds is added to its score with
# this weight. bench/eval_qa.py, hybrid, before -> after (with the passage-size cap of the same
# day): news answer in quote 0.577 -> 0.586, first quote 0.440 -> 0.454; squad-dev 0.826 ->
# 0.826, 0.754 -> 0.756. (0.3 and 0.6 measured alike on the news set in a sweep.)
W_ASK = 0.5
TYPED = (Expects.DATE, Expects.NUMBER, Expects.PERSON, Expects.PLACE)
# When the question clearly asks for a date, a number, a person or a place and the best
# sentence holds none, the best one that does comes first if it scores within this much.
TYPED_GAP = 0.2
# An article titled by a short name ("Wayback Machine", "Super Bowl 50") is about that name,
# and its sentences often leave the name out ("It was set up by Brewster Kahle…"), so when
# weighing sentences they are credited with the terms of a title this short. News headlines
# are longer and unaffected. Both development sets, hybrid, bench/qa_metrics figures: squad-dev
# first quote 0.756 -> 0.765 (both halves up), answer in quote 0.826 -> 0.826; news unchanged
# (0.586, 0.454); abstention unchanged on both sets, answerable and unanswerable. Up to 5
# terms cost news 2 questions.
SUBJECT_TITLE_TERMS = 3
# News: of the sentences read, those from the newest articles are preferred (a question is
# usually about the latest report; an older article often says what was true before). Added to
# a sentence's score when choosing, not to the evidence the confidence weighs: W_NEWEST *
# exp(-days its article is older than the newest article read / NEWEST_DAYS); undated
# articles get nothing. Picked on the calibration halves from 0.2-0.5 x 7 or 30 days; news
# answer in quote 0.586 -> 0.606, first quote 0.454 -> 0.480 (report half 0.618 -> 0.634,
# 0.487 -> 0.503); squad-dev (undated) and abstention unchanged.
W_NEWEST = 0.4
NEWEST_DAYS = 7.0
# A sentence that opens its article (a news story's lead, an encyclopedia article's definition)
# says what the article is about, so it gets W_LEAD when it starts in the first LEAD_CHARS
# characters. Picked on the calibration halves from 0.1-0.3 x 300 or 600 characters (the only
# setting costing squad-dev's calibration half nothing): news answer in quote 0.606 -> 0.614,
# first quote 0.480 -> 0.494; squad-dev 0.826 -> 0.826, 0.765 -> 0.767; every half up or level.
W_LEAD = 0.1
LEAD_CHARS = 300
# The first quote is the best sentence with the one after it, unless the best sentence refers
# back to something the one before it names ("It was set up by…", "The team signed…", and "The
# film scored…" for "Which film…?"): then it is quoted with the one before. Both development
# sets, hybrid, with the rule against quoting a sentence twice (_select): news answer in quote
# 0.629 -> 0.640, first quote 0.511 -> 0.523; squad-dev 0.826 -> 0.832, 0.767 -> 0.769; every
# calibration half up or level. Pronouns alone gave less (news 0.634 / 0.517); any sentence
# opening with "The …" gained more on news (0.646 / 0.537) but cost squad-dev (0.826 / 0.759).
_REFERS_BACK = re.compile(
    r"^\W*(?:It|He|She|They|Its|His|Her|Their|This|These|That|Those"
    r"|The (?:team|film|movie|company|chain|firm|group|show|series|band|singer|player|agency"
    r"|country|state|city|move|plan|bill|law|deal|study|report|network|platform|app|star|actor"
    r"|actress|rapper))\b"
)
_THE_WORD = re.compile(r"^\W*The (\w+)")


@dataclass
class Ranked:
    """The candidate sentences of the passages read, scored for relevance."""

    candidates: list[Candidate]
    coverage: np.ndarray
    relevance: np.ndarray  # -inf for sentences that may not be quoted
    by_relevance: list[int]  # quotable sentences, best first


def rank(query: Query, passages: list[Passage], lexical: LexicalIndex) -> Ranked | None:
    candidates = candidate_sentences(passages[:PASSAGES_READ])
    if not any(c.quotable for c in candidates):
        return None
    subjects = {c.passage.chunk.title: subject_terms(c.passage.chunk.title) for c in candidates}
    sentence_terms = [set(terms(c.text)) | subjects[c.passage.chunk.title] for c in candidates]
    coverage = _coverage(query, candidates, sentence_terms, lexical)
    relevance = coverage + W_PASSAGE * np.array([1.0 / c.passage.rank for c in candidates])
    if query.question.has_preamble:
        ask = TermWeights(terms(query.question.ask), lexical, query.question.past_forms)
        relevance += W_ASK * np.array([ask.share(t) for t in sentence_terms])
    relevance[[not c.quotable for c in candidates]] = -np.inf
    order = [int(i) for i in np.argsort(-relevance, kind="stable") if candidates[i].quotable]
    return Ranked(candidates, coverage, relevance, order)


def _newest(candidates: list[Candidate]) -> np.ndarray:
    """Per sentence, exp(-days its article is older than the newest article read / NEWEST_DAYS);
    0 for undated articles."""
    behind = days_behind_newest([c.passage.chunk.published for c in candidates])
    return np.nan_to_num(np.exp(-behind / NEWEST_DAYS))


def subject_terms(title: str) -> set[str]:
    """The terms of a title short enough to name what its article is about (else none)."""
    found = set(terms(title))
    return found if len(found) <= SUBJECT_TITLE_TERMS else set()


def evidence_for(
    query: Query,
    passages: list[Passage],
    lexical: LexicalIndex,
    embedder: Embedder,
    enough: float | None = None,
    ranked: Ranked | None = None,
) -> Evidence | None:
    """The evidence the confidence weighs (None when no sentence may be quoted); with
    `enough`, sentence checking stops once the confidence reaches it."""
    ranked = ranked or rank(query, passages, lexical)
    if ranked is None:
        return None
    return weigh(
        passage_cosine=max(c.passage.dense for c in ranked.candidates),
        coverage=float(ranked.coverage[ranked.by_relevance].max()),
        mentions_share=mention_share(
            query.question, [p.chunk.text for p in passages[:PASSAGES_READ]]
        ),
        best_sentences=[ranked.candidates[i].text for i in ranked.by_relevance],
        sentence_cosine=cosine_with(query.vector, embedder.embed),
        enough=enough,
    )


def chosen(question: Question, ranked: Ranked, max_chars: int) -> list[tuple[Candidate, float]]:
    """The sentences to quote, in order, with their scores: relevance plus bonuses for holding
    what the question asks for, for coming from the newest articles read and for opening an
    article; the best one holding what is asked for first when it is close enough.

    A sentence that is itself a question (a quiz article repeats the asker's question word for
    word) is not quoted unless nothing else may be; it still counts as evidence (rank)."""
    candidates = ranked.candidates
    bonus = np.array([carries(question.expects, c.text, question) for c in candidates], float)
    w_carries = W_PLACE if question.place_kind else W_CARRIES
    lead = np.array([c.start < LEAD_CHARS for c in candidates], float)
    scores = ranked.relevance + w_carries * bonus + W_NEWEST * _newest(candidates) + W_LEAD * lead
    questions = np.array([asks(c.text) for c in candidates])
    if (np.isfinite(scores) & ~questions).any():
        scores[questions] = -np.inf
    order = np.argsort(-scores, kind="stable")
    if question.expects in TYPED and not bonus[order[0]]:
        order = _typed_first(order, scores, bonus)
    return _select(candidates, scores, order, max_chars, question)


def _select(
    candidates: list[Candidate],
    scores: np.ndarray,
    order: np.ndarray,
    max_chars: int,
    question: Question,
) -> list[tuple[Candidate, float]]:
    """The best sentence with a neighbour (see _first_quote), then further sentences scoring
    within SCORE_GAP of the best, up to `max_chars` in all; a sentence already quoted word for
    word (a copy of the story in another article) is not quoted again.

    For a question that asks for several things ("Which records were broken?") the further
    sentences come from articles not quoted yet, best first, before any second sentence of an
    article already quoted.
    """
    best = scores[order[0]]
    eligible = [int(i) for i in order if np.isfinite(scores[i]) and scores[i] >= best - SCORE_GAP]
    if question.several:
        firsts: dict[str, int] = {}
        for i in eligible:
            firsts.setdefault(candidates[i].passage.chunk.article_id, i)
        eligible = list(firsts.values()) + [i for i in eligible if i not in firsts.values()]
    chosen: list[tuple[Candidate, float]] = []
    quoted: list[str] = []  # folded texts of the quotes so far
    taken: set[int] = set()
    used = 0
    for i in eligible:
        if len(taken) >= MAX_SENTENCES:
            break
        if i in taken or any(_folded(candidates[i].text) in q for q in quoted):
            continue
        cand, taken_now = candidates[i], {i}
        if not chosen:
            cand, taken_now = _first_quote(candidates, i, question)
        text = _cut(cand.text, max_chars - used)
        if len(text) < MIN_FURTHER_QUOTE_CHARS and chosen:
            break
        chosen.append(
            (
                Candidate(cand.passage, cand.start, cand.start + len(text), text, True),
                scores[i],
            )
        )
        quoted.append(_folded(text))
        taken |= taken_now
        used += len(text)
        if used >= max_chars - ROOM_TO_GO_ON:
            break
    return chosen


def _first_quote(
    candidates: list[Candidate], best: int, question: Question
) -> tuple[Candidate, set[int]]:
    """The best sentence joined with the one before it when it refers back to it, else with
    the one after it (which often names what the first implies), when that neighbour is
    quotable prose of the same passage; with the indices it takes."""
    cand = candidates[best]
    the_word = _THE_WORD.match(cand.text)
    refers_back = bool(_REFERS_BACK.match(cand.text)) or (
        the_word is not None and the_word.group(1).casefold() in question.kind_words
    )
    if refers_back and best > 0 and _neighbours(candidates[best - 1], cand):
        return _join(candidates[best - 1], cand), {best - 1, best}
    if best + 1 < len(candidates) and _neighbours(cand, candidates[best + 1]):
        return _join(cand, candidates[best + 1]), {best, best + 1}
    return cand, {best}


def _neighbours(first: Candidate, second: Candidate) -> bool:
    """Whether `second` follows `first` in the same passage and both may be quoted."""
    return (
        first.quotable
        and second.quotable
        and first.passage is second.passage
        and second.start >= first.end
    )


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def _typed_first(order: np.ndarray, scores: np.ndarray, bonus: np.ndarray) -> np.ndarray:
    """`order` with the best sentence holding the expected kind of answer first, when it
    scores within TYPED_GAP of the best sentence."""
    best = scores[order[0]]
    for i in order:
        if not np.isfinite(scores[i]) or scores[i] < best - TYPED_GAP:
            break
        if bonus[i]:
            return np.concatenate([[i], order[order != i]])
    return order


def _join(first: Candidate, second: Candidate) -> Candidate:
    """One quote spanning two sentences of the same chunk (and what lies between them)."""
    chunk = first.passage.chunk
    text = chunk.text[first.start - chunk.start : second.end - chunk.start]
    return Candidate(first.passage, first.start, second.end, text, True)


def _coverage(
    query: Query,
    candidates: list[Candidate],
    sentence_terms: list[set[str]],
    lexical: LexicalIndex,
) -> np.ndarray:
    """The idf-weighted share of the question's terms that each sentence contains."""
    weights = TermWeights(query.terms, lexical, query.question.past_forms)
    return np.array([weights.share(t) for t in sentence_terms])


def _cut(text: str, room: int) -> str:
    """The longest prefix of `text` that ends on a word and fits in `room` characters."""
    if len(text) <= room:
        return text
    if room <= 0:
        return ""
    cut = text[:room]
    space = cut.rfind(" ")
    return cut[:space].rstrip(",;:") if space > room // 2 else cut
