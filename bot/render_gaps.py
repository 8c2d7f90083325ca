"""`/sources gaps`: the questions the articles failed to answer, as one embed for an admin."""

from __future__ import annotations

import discord

from bot.render import (
    ABSTAIN_COLOUR,
    DESCRIPTION_LIMIT,
    ELLIPSIS,
    escape_text,
    link_or_none,
    one_line,
)
from index.gaps import Gap

QUESTION_CHARS = 150
NO_GAPS = "No question went unanswered or was voted 👎 in this period."


def gaps_embed(gaps: list[Gap], days: int, keep_days: int) -> discord.Embed:
    """Gaps most frequent first: the question, how often, why, when last, and a link."""
    title = f"Questions the articles did not answer (last {days} days)"
    if not gaps:
        description = NO_GAPS
    else:
        lines: list[str] = []
        used = 0
        for index, gap in enumerate(gaps, 1):
            line = gap_line(index, gap)
            more = f"{ELLIPSIS} and {len(gaps) - index + 1} more (`citebot gaps --json` lists all)."
            if used + len(line) + 1 + len(more) > DESCRIPTION_LIMIT:
                lines.append(more)
                break
            lines.append(line)
            used += len(line) + 1
        description = "\n".join(lines)
    embed = discord.Embed(title=title, description=description, colour=ABSTAIN_COLOUR)
    note = "Alike questions are grouped. Private questions are never listed."
    if days > keep_days:
        note += f" Questions are kept {keep_days} days."
    embed.set_footer(text=note)
    return embed


def gap_line(index: int, gap: Gap) -> str:
    """**1.** How tall is the bridge? — 3× (2 not answered, 1 👎) · last 2024-03-20 · [jump](…)"""
    question = escape_text(one_line(gap.latest.question, QUESTION_CHARS))
    why = []
    if gap.abstentions:
        why.append(f"{gap.abstentions} not answered")
    if gap.voted_down:
        why.append(f"{gap.voted_down} 👎")
    last = gap.latest.asked_at[:10]
    line = f"**{index}.** {question} — {gap.count}× ({', '.join(why)}) · last {last}"
    link = link_or_none(gap.link)
    return line + (f" · [jump]({link})" if link else "")
