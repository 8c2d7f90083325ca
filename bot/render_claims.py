"""The "Find sources" reply: each claim of a message with the quotes that speak to it.

Pure functions, like bot/render.py: a claim is shown with its supporting quotes (✅), with a
flag when a quote states another number or date (⚠️ "the article says 2022, the message says
2021"), or with a plain "nothing supports this" (❌). Sources are numbered once across claims.
"""

from __future__ import annotations

import discord

from bot.render import (
    ABSTAIN_COLOUR,
    ANSWER_COLOUR,
    DESCRIPTION_LIMIT,
    ELLIPSIS,
    escape_text,
    one_line,
    shorten,
    source_line,
)
from index.answer.claims import ClaimCheck, MessageCheck, Verdict
from index.answer.compose import Quote, Source, sources_published

TITLE = "Sources for this message"
NOTHING_SUPPORTS = "Nothing in the indexed articles supports this."
NOTHING_AT_ALL = "Nothing in the indexed articles supports what this message says."
CLAIM_CHARS = 200
QUOTE_CHARS = 300
QUOTES_PER_CLAIM = 2
WARNING_COLOUR = discord.Colour.orange()


class SourceNumbers:
    """One number per article across every claim, in order of first appearance."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}

    def number(self, source: Source) -> int:
        if source.article_id not in self.sources:
            n = len(self.sources) + 1
            self.sources[source.article_id] = Source(
                n, source.article_id, source.title, source.url, source.source, source.published
            )
        return self.sources[source.article_id].n


def claims_embed(check: MessageCheck, message_link: str | None) -> discord.Embed:
    """The ephemeral reply to "Find sources" on a message."""
    numbers = SourceNumbers()
    blocks = [
        _claim_block(i, claim, numbers, len(check.claims))
        for i, claim in enumerate(check.claims, 1)
    ]
    if not check.supported:
        blocks = [NOTHING_AT_ALL, *blocks] if len(check.claims) > 1 else [NOTHING_AT_ALL]
    description = _fit(blocks, list(numbers.sources.values()))
    colour = ANSWER_COLOUR
    if any(c.verdict is Verdict.DIFFERS for c in check.claims):
        colour = WARNING_COLOUR
    elif not check.supported:
        colour = ABSTAIN_COLOUR
    embed = discord.Embed(title=TITLE, url=message_link, description=description, colour=colour)
    footer = [sources_published(list(numbers.sources.values())) or ""]
    if check.sentences > len(check.claims):
        footer.append(f"Checked the first {len(check.claims)} of {check.sentences} statements.")
    if any(footer):
        embed.set_footer(text=" · ".join(x for x in footer if x))
    return embed


def _claim_block(index: int, claim: ClaimCheck, numbers: SourceNumbers, count: int) -> str:
    heading = f"“{escape_text(one_line(claim.claim, CLAIM_CHARS))}”"
    if count > 1:
        heading = f"**{index}.** {heading}"
    if claim.verdict is Verdict.UNSUPPORTED:
        return f"{heading}\n❌ {NOTHING_SUPPORTS}"
    lines = [heading]
    flagged = {id(d.quote) for d in claim.differences}
    for difference in claim.differences:
        n = numbers.number(claim.answer.source(difference.quote.n))
        lines.append(
            f"⚠️ The article says **{escape_text(difference.article.text)}**, the message says "
            f"**{escape_text(difference.message.text)}**: {_quote(difference.quote, n)}"
        )
    for quote in claim.answer.quotes[:QUOTES_PER_CLAIM]:
        if id(quote) not in flagged:
            n = numbers.number(claim.answer.source(quote.n))
            lines.append(f"✅ {_quote(quote, n)}")
    return "\n".join(lines)


def _quote(quote: Quote, n: int) -> str:
    text = shorten(" ".join(quote.text.split()), QUOTE_CHARS)
    return f"“{escape_text(text)}” [{n}]"


def _fit(blocks: list[str], sources: list[Source]) -> str:
    """Claims first, then as many source lines as fit in an embed description."""
    text = "\n\n".join(blocks)
    if len(text) > DESCRIPTION_LIMIT:
        return shorten(text, DESCRIPTION_LIMIT)
    if not sources:
        return text
    text += "\n\n**Sources**"
    for index, source in enumerate(sources):
        line = "\n" + source_line(source)
        more = f"\n{ELLIPSIS} and {len(sources) - index} more."
        if len(text) + len(line) + len(more) > DESCRIPTION_LIMIT:
            return text + more
        text += line
    return text
