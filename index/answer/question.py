"""What a question asks: the sentence that asks it, what kind of answer it expects, whether it is
about the present, and the names, numbers and quoted phrases an answer should mention.

Light, tested rules for English questions; nothing here loads a model.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from index.answer.verbs import past_forms
from index.ingest.chunking import split_sentences


class Expects(StrEnum):
    """The kind of answer a question asks for."""

    DATE = "date"
    NUMBER = "number"
    PERSON = "person"
    PLACE = "place"
    NAME = "name"  # "Which team…", "What company…": a named thing


class PlaceKind(StrEnum):
    """The kind of place a PLACE question names, when it names one that places.py lists."""

    COUNTRY = "country"
    STATE = "state"  # a US state
    CITY = "city"


# Up to two words qualifying what is asked for ("which major U.S. city", "which Pacific island
# nation"), but not a verb or "of the" ("Which party controls the state", "which of the states").
_QUALIFIERS = r"(?:(?!(?:of|the|is|was|are|were|does|did|do|has|have|had)\b)[\w.’'-]+\s+){0,2}?"

# Checked in order on the asking sentence; the first that matches decides.
_EXPECTS_RULES: tuple[tuple[Expects, re.Pattern[str]], ...] = (
    (
        Expects.NUMBER,
        re.compile(
            r"\bhow (?:many|much|long|old|far|big|large|tall|high|fast|often|deep|wide|heavy)\b"
            r"|\b(?:what|which) (?:percentage|percent|number|amount|share|proportion|age|price"
            r"|sum|total|fee|fine|rate|salary)\b"
            r"|\bwhat (?:is|was|will be) the (?:cost|price|number|total|amount|value|age)\b",
            re.IGNORECASE,
        ),
    ),
    (
        Expects.DATE,
        re.compile(
            r"^\W*when\b|[,;:]\s*when\b|\b(?:since|until|by) when\b"
            r"|\b(?:what|which|in what|in which) (?:year|date|day|month|decade|century|time"
            r"|season)\b",
            re.IGNORECASE,
        ),
    ),
    (
        Expects.PERSON,
        re.compile(
            r"\bwho(?:m|se)?\b|\b(?:what|which) (?:person|man|woman|people|actor|actress|singer"
            r"|player|athlete|author|writer|director|president|leader|ceo|founder|politician"
            r"|senator|governor|celebrity|rapper|artist|star|coach|candidate|justice|judge)\b",
            re.IGNORECASE,
        ),
    ),
    (
        Expects.PLACE,
        re.compile(
            rf"\bwhere\b|\b(?:what|which|in what|in which) {_QUALIFIERS}"
            r"(?:city|country|state|town|county|island|region|continent|nation|province|place"
            r"|location|capital|village|neighborhood|neighbourhood|river|ocean|sea|park|stadium"
            r"|venue)\b",
            re.IGNORECASE,
        ),
    ),
    (
        Expects.NAME,
        re.compile(
            r"\bwhich\b(?! (?:of (?:the|these|those)\b|is\b|was\b|are\b|were\b))"
            r"|\bwhat (?!(?:is|was|are|were|did|does|do|will|would|can|could|has|have|had|caused"
            r"|happened|happens|made|makes|led|kind|type|sort)\b)[a-z]+\b",
            re.IGNORECASE,
        ),
    ),
)

# "Which country…", "In which US state…", "what major city…": the kind of place asked for.
_PLACE_KIND = re.compile(
    rf"\b(?:which|what)\s+{_QUALIFIERS}(country|nation|state|city|town|capital)\b", re.IGNORECASE
)
_PLACE_KINDS = {
    "country": PlaceKind.COUNTRY,
    "nation": PlaceKind.COUNTRY,
    "state": PlaceKind.STATE,
    "city": PlaceKind.CITY,
    "town": PlaceKind.CITY,
    "capital": PlaceKind.CITY,
}

_KIND_WORDS = re.compile(r"\b(?:which|what)\s+((?:[\w’'-]+\s+){0,2}[\w’'-]+)", re.IGNORECASE)
_NOT_KIND_WORDS = frozenset(
    "is was are were be been of the a an did does do has have had will would can could "
    "should may might".split()
)

# Questions about the present prefer recent articles (checked on the whole question).
_ABOUT_NOW = re.compile(
    r"\b(?:this (?:week|weekend|month|year|morning|afternoon|evening|season)|today|tonight"
    r"|yesterday|latest|now|new|newly|recent|recently|currently|current|so far|as of"
    r"|last (?:week|weekend|night)|upcoming|next (?:week|month))\b",
    re.IGNORECASE,
)

_ASKING = re.compile(r"\b(?:who|whom|whose|what|which|when|where|why|how)\b|\?\s*$", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“”]([^\"“”]{2,80})[\"“”]")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*\d(?![\w])|(?<![\w.,])\d(?![\w,.]\d)")
# A name: a capitalised word (or run of them) that is not the first word of a sentence.
_CAPITALISED_RUN = re.compile(r"(?:[A-Z][\w'’.-]*[\w])(?:\s+(?:[A-Z][\w'’.-]*[\w]|of|de|van|von))*")
# Abbreviated titles, which no name ends with: "Montana Gov. Greg Gianforte" names Montana.
_TITLE_ABBREVIATIONS = frozenset(
    "Gov Sen Rep Maj Gen Lt Col Sgt Capt Adm Rev Dr Mr Mrs Ms Prof".split()
)
# Capitalised words that are not names on their own.
_NOT_NAMES = _TITLE_ABBREVIATIONS | frozenset(
    """
    I A An The This That These Those What Which Who Whom Whose When Where Why How Is Are Was
    Were Do Does Did Can Could Will Would Should Has Have Had In On At Of For From By To And
    Or But Not St Former Late Then President Vice Prime Minister King Queen Prince Princess
    Pope Judge Coach Chancellor Secretary General Governor Senator Mayor Speaker Chief Justice
    Actor Actress Singer Star Captain
    """.split()
)
_MONTHS_AND_DAYS = frozenset(
    """
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """.split()
)
# Plural subjects of "which/what ... were/are" ask for several answers ("Which records were
# broken?").
_SEVERAL = re.compile(
    r"\b(?:which|what) (?:\w+ )?(\w+s) (?:were|are|have|did|do|will)\b", re.IGNORECASE
)
_NOT_PLURALS = frozenset({"news", "series", "species", "always", "is", "was", "has", "this"})


@dataclass(frozen=True)
class Question:
    """A question analysed once, for retrieval, sentence choice, caveats and abstention."""

    text: str
    ask: str  # the sentence that asks (the whole question when it is one sentence)
    expects: Expects | None
    place_kind: PlaceKind | None  # for PLACE questions naming a listed kind of place
    about_now: bool
    names: tuple[str, ...]  # capitalised names the answer should speak of
    numbers: tuple[str, ...]
    phrases: tuple[str, ...]  # "quoted phrases"
    several: bool  # asks for several answers ("Which records were broken?")
    # The words naming what a "which/what" question asks for ("Which film scored…" -> "film"),
    # with which an article may refer back to the answer ("The film scored 11 nominations").
    kind_words: frozenset[str]
    non_english: bool
    # "When did the crisis begin?": begin -> {began, begun}, matched in sentences (verbs.py).
    past_forms: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def has_preamble(self) -> bool:
        """Whether the question tells a story before it asks (the ask is a part of it)."""
        return self.ask != self.text


def analyse(text: str) -> Question:
    """Analyse a (cleaned) question."""
    ask = asking_sentence(text)
    expects = expected_answer(ask)
    phrases = quoted_phrases(text)
    return Question(
        text=text,
        ask=ask,
        expects=expects,
        place_kind=place_kind(ask) if expects is Expects.PLACE else None,
        about_now=bool(_ABOUT_NOW.search(text)),
        names=tuple(n for n in names_in(text) if not any(_within(n, p) for p in phrases)),
        numbers=tuple(dict.fromkeys(n for n in _NUMBER.findall(text) if len(n) > 1)),
        phrases=phrases,
        several=_asks_for_several(ask),
        kind_words=kind_words(ask),
        non_english=looks_non_english(text),
        past_forms=past_forms(ask),
    )


def asking_sentence(text: str) -> str:
    """The last sentence that asks something ("…this week. Where was it?" -> "Where was it?").

    A question that is one sentence, or where no sentence asks, is returned whole.
    """
    spans = split_sentences(text)
    if len(spans) < 2:
        return text
    for span in reversed(spans):
        sentence = text[span.start : span.end]
        if _ASKING.search(sentence):
            return sentence
    return text


def expected_answer(ask: str) -> Expects | None:
    """What kind of answer the asking sentence wants, when the rules can tell."""
    for kind, pattern in _EXPECTS_RULES:
        if pattern.search(ask):
            return kind
    return None


def place_kind(ask: str) -> PlaceKind | None:
    """The kind of place the asking sentence asks for ("Which state…" -> STATE), if listed."""
    match = _PLACE_KIND.search(ask)
    return _PLACE_KINDS[match.group(1).casefold()] if match else None


def kind_words(ask: str) -> frozenset[str]:
    """The (case-folded) words of the three after "which" or "what" that may name what is
    asked for, grammar words left out ("Which sports team was…" -> sports, team)."""
    match = _KIND_WORDS.search(ask)
    words = match.group(1).casefold().split() if match else []
    return frozenset(w for w in words if w not in _NOT_KIND_WORDS)


def quoted_phrases(text: str) -> tuple[str, ...]:
    """The phrases the question puts in quote marks, without the punctuation a closing quote
    mark follows in American usage (“The Star-Spangled Banner?”)."""
    found = (p.strip().rstrip("?!.,;:").strip() for p in _QUOTED.findall(text))
    return tuple(dict.fromkeys(p for p in found if len(p) > 1))


def _within(name: str, phrase: str) -> bool:
    """Whether `name` is part of `phrase` ("Rock" of “The Rock”): the phrase is asked for."""
    return re.search(rf"\b{re.escape(name.casefold())}\b", phrase.casefold()) is not None


def names_in(text: str) -> tuple[str, ...]:
    """Capitalised names in `text` that are not merely a sentence's first word."""
    found: list[str] = []
    for span in split_sentences(text):
        sentence = text[span.start : span.end]
        for match in _CAPITALISED_RUN.finditer(sentence):
            words = [re.sub(r"['’]s$", "", w) for w in match.group().split()]
            capitals = [w for w in words if w[0].isupper()]
            if match.start() == _first_word_start(sentence) and len(capitals) == 1:
                continue  # "Which…", "All of…": a first word is capitalised anyway
            for part in _split_at_acronyms(words):
                while part and (part[0] in _NOT_NAMES or part[0].lower() in ("of", "de")):
                    part = part[1:]
                while part and part[-1] in _TITLE_ABBREVIATIONS:
                    part = part[:-1]
                found.extend(_split_at_dates(part))
    return tuple(dict.fromkeys(found))


def _split_at_acronyms(words: list[str]) -> list[list[str]]:
    """ "WNBA MVP Breanna Stewart" -> "WNBA MVP", "Breanna Stewart": acronyms and names apart."""
    parts: list[list[str]] = []
    for word in words:
        acronym = word.isupper() and len(word) > 1
        if parts and (parts[-1][-1].isupper() and len(parts[-1][-1]) > 1) == acronym:
            parts[-1].append(word)
        else:
            parts.append([word])
    return parts


def _split_at_dates(words: list[str]) -> list[str]:
    """Names in a run of capitalised words, split where a month or weekday stands."""
    names: list[str] = []
    current: list[str] = []
    for word in [*words, "Monday"]:
        if word.rstrip(".'’").casefold() in _MONTHS_AND_DAYS:
            while current and current[-1] in ("of", "de", "van", "von"):
                current.pop()
            name = " ".join(current).rstrip(".'’")
            if len(name) > 1:
                names.append(name)
            current = []
        else:
            current.append(word)
    return names


def _first_word_start(sentence: str) -> int:
    match = re.search(r"\w", sentence)
    return match.start() if match else 0


def _asks_for_several(ask: str) -> bool:
    match = _SEVERAL.search(ask)
    return bool(match) and match.group(1).lower() not in _NOT_PLURALS


# Common function words of languages the model does not handle well, and of English.
_ENGLISH = frozenset(
    "the a an of to in is are was were what which who when where why how did does do and for "
    "on with by at from this that it be has have will".split()
)
_OTHER_LATIN = frozenset(
    """
    el la los las de del que qué y es un una por para con se como cuál cuándo dónde quién
    le les des du et est une pour avec qui quoi quand où dans
    der das und ist ein eine nicht mit wer wie wann wo warum dem im zu von auf
    il gli che è di chi quando sono
    os da dos em uma não com quem onde
    het een van ik je niet wat wie waar wanneer hoe
    """.split()
)


def looks_non_english(text: str) -> bool:
    """Whether `text` is probably not English (another script, or another language's words)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    if latin / len(letters) < 0.5:
        return True
    words = re.findall(r"\w+", text.casefold())
    if len(words) < 3:
        return False
    english = sum(w in _ENGLISH for w in words)
    other = sum(w in _OTHER_LATIN and w not in _ENGLISH for w in words)
    return other >= 2 and other > english
