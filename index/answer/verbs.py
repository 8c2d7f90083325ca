"""Irregular past forms for questions with "did": "When did the oil crisis begin?" is answered
by "The oil crisis began in October 1973", and the stemmer does not know that "began" is
"begin" (it does know "beginning").

Only the base verbs of a question that asks with do-support (did, does, do) are matched this
way, and only in the sentence and passage coverage the answer is chosen by, not in the BM25
index. Mapping every past form to its base everywhere ("written" for "wrote", "made" for
"making") was measured too and cost news: bench/README.md.
"""

from __future__ import annotations

import re
from functools import cache

from index.store.lexical import terms

# past form:base form, for common irregular verbs; forms that are also everyday nouns or names
# ("left", "found", "shot", "met", "fed", "rose", "lit", "bit", "born") are left out.
_PAIRS = """
began:begin begun:begin broke:break broken:break brought:bring built:build bought:buy
caught:catch chose:choose chosen:choose came:come drew:draw drawn:draw drank:drink drunk:drink
drove:drive driven:drive ate:eat eaten:eat fell:fall fallen:fall felt:feel fought:fight
flew:fly flown:fly forgot:forget forgotten:forget froze:freeze frozen:freeze got:get
gotten:get gave:give given:give went:go gone:go grew:grow grown:grow hung:hang heard:hear
hid:hide hidden:hide held:hold kept:keep knew:know known:know laid:lay led:lead lost:lose
made:make meant:mean paid:pay rode:ride ridden:ride rang:ring rung:ring ran:run said:say
saw:see seen:see sold:sell sent:send shown:show sang:sing sung:sing sank:sink sunk:sink
sat:sit slept:sleep spoke:speak spoken:speak spent:spend stood:stand stole:steal
stolen:steal struck:strike stricken:strike swam:swim swum:swim took:take taken:take
taught:teach tore:tear torn:tear told:tell thought:think threw:throw thrown:throw
understood:understand woke:wake woken:wake wore:wear worn:wear won:win wrote:write
written:write became:become arose:arise arisen:arise bled:bleed blew:blow blown:blow
bred:breed dealt:deal dug:dig fled:flee forgave:forgive forgiven:forgive mistook:mistake
mistaken:mistake overcame:overcome overtook:overtake overtaken:overtake sought:seek
shook:shake shaken:shake slid:slide spun:spin sprang:spring sprung:spring stuck:stick
strove:strive striven:strive swept:sweep swore:swear sworn:swear withdrew:withdraw
withdrawn:withdraw underwent:undergo undergone:undergo wove:weave woven:weave bitten:bite
bent:bend
"""
_DO_SUPPORT = re.compile(r"\b(?:did|does|do)\b", re.IGNORECASE)


@cache
def _past_forms() -> dict[str, frozenset[str]]:
    """Base verb stem -> the stems of its irregular past forms."""
    forms: dict[str, set[str]] = {}
    for pair in _PAIRS.split():
        past, base = (terms(word) for word in pair.split(":"))
        if past and base and past[0] != base[0]:
            forms.setdefault(base[0], set()).add(past[0])
    return {base: frozenset(past) for base, past in forms.items()}


def past_forms(ask: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """For a question asking with "did", "does" or "do", each of its base verbs that has
    irregular past forms, with those forms (as stems); nothing for other questions."""
    if not _DO_SUPPORT.search(ask):
        return ()
    table = _past_forms()
    return tuple((t, table[t]) for t in dict.fromkeys(terms(ask)) if t in table)
