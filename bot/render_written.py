"""A written answer as a Discord embed: its prose with [n] markers, the sources it cites, and a
footer saying who wrote it and that its quotes were checked.

Pure functions, like bot/render.py, and within the same limits. The text was verified
(index/answer/verify.py); here it is only escaped and, if need be, shortened after a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord
from discord.utils import escape_markdown

from bot.render import (
    ANSWER_COLOUR,
    DESCRIPTION_LIMIT,
    ELLIPSIS,
    FOOTER_LIMIT,
    MESSAGE_EMBED_LIMIT,
    TITLE_LIMIT,
    answer_footer,
    escape_text,
    one_line,
    shorten,
    source_line,
)
from index.answer.compose import Answer, Source
from index.answer.retrieval import Filters
from index.answer.written import WrittenAnswer

MODEL_NAME_CHARS = 100
_MARKER = re.compile(r"(\[\d+\])")
SOURCES_HEADING = "\n\n**Sources**\n"


def written_embed(
    answer: Answer,
    written: WrittenAnswer,
    filters: Filters | None = None,
    *,
    follow_up_of: str | None = None,
) -> discord.Embed:
    """The written answer with its numbered sources; the footer says who wrote it, then what
    the extractive answer's footer says."""
    title = one_line(escape_markdown(answer.question), TITLE_LIMIT)
    model = one_line(written.model, MODEL_NAME_CHARS)
    lines = [f"Written by {model}, quotes checked", answer_footer(answer, filters, follow_up_of)]
    footer = "\n".join(line for line in lines if line)[:FOOTER_LIMIT]
    limit = min(DESCRIPTION_LIMIT, MESSAGE_EMBED_LIMIT - len(title) - len(footer))
    text, cited = written_text(written.text, limit // 2)
    description = text + sources_block(cited, written.sources, limit - len(text))
    embed = discord.Embed(title=title, description=description, colour=ANSWER_COLOUR)
    embed.set_footer(text=footer)
    return embed


def written_text(text: str, limit: int) -> tuple[str, list[int]]:
    """The written answer as markdown (its [n] markers kept, the rest escaped) within `limit`
    characters, and the numbers it cites."""
    room = limit
    while True:
        parts = _MARKER.split(shorten(text, room))
        rendered = "".join(p if _MARKER.fullmatch(p) else escape_text(p) for p in parts)
        if len(rendered) <= limit or room <= 0:
            break
        room -= len(rendered) - limit  # escaping added characters: cut the text further
    cited = list(dict.fromkeys(int(p[1:-1]) for p in parts if _MARKER.fullmatch(p)))
    return rendered, cited


def sources_block(cited: list[int], sources: Sequence[Source], room: int) -> str:
    """The "Sources" heading and the lines of the cited sources, as many as fit in `room`."""
    lines = {s.n: source_line(s) for s in sources}
    wanted = [lines[n] for n in cited if n in lines]
    room -= len(SOURCES_HEADING)
    shown: list[str] = []
    used = 0
    for index, line in enumerate(wanted):
        more = f"{ELLIPSIS} and {len(wanted) - index} more: press Sources."
        if used + len(line) + (len(more) + 1 if index < len(wanted) - 1 else 0) > room:
            shown.append(more)
            break
        shown.append(line)
        used += len(line) + 1
    return SOURCES_HEADING + "\n".join(shown) if shown else ""
