"""Answers, passages and index reports as Discord messages, always within Discord's limits.

Pure functions: they build `discord.Embed`s and strings but never talk to Discord, so they are
tested without a network. Text that must be shortened is cut after a sentence (or, when that
would lose too much, after a word) and marked with "…"; quotes stay verbatim prefixes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime

import discord
from discord.utils import escape_markdown, escape_mentions, format_dt

from index.answer.compose import NOT_COVERED, Answer, Quote, Source, sources_published
from index.answer.retrieval import Filters, Passage
from index.engine import IndexStatus
from index.store.generations import ArticleRecord
from index.store.indexer import IndexReport

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
FILTERS_NOTE_LIMIT = 400
FOLLOW_UP_NOTE_LIMIT = 300
MESSAGE_EMBED_LIMIT = 6000  # every embed of one message together
MAX_EMBEDS = 10
ELLIPSIS = "…"
MIN_PARTIAL_QUOTE = 80  # a later quote is cut only if this much of it still fits
TITLE_CHARS = 200  # of an article title inside a line
URL_CHARS = 512  # longer links are not linked
ARTICLES_PER_PAGE = 10

ANSWER_COLOUR = discord.Colour.blurple()
ABSTAIN_COLOUR = discord.Colour.light_grey()
ABSTAIN_HINT = "Try asking differently, or see what is indexed with `/sources list`."
WRITING_NOTE = "Quoted from the articles · a written answer is being checked…"

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s|$)")


# -- shortening ------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else a prefix ending a sentence, plus "…"."""
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS) - 1  # for " …" after a whole sentence
    sentence_end = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > room:
            break
        sentence_end = match.end()
    if sentence_end and sentence_end >= room // 3:
        return f"{text[:sentence_end]} {ELLIPSIS}"
    room = limit - len(ELLIPSIS)  # for "…" right after a word
    if room <= 0:
        return ""
    space = text.rfind(" ", 0, room + 1)
    cut = text[:space] if space > room // 2 else text[:room]
    return cut.rstrip(" ,;:") + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """`text` on one line, shortened to `limit` characters."""
    return shorten(" ".join(text.split()), limit)


def escape_text(text: str) -> str:
    """Markdown and [brackets] escaped, so quoted text shows as written."""
    return _escape(text)


def link_or_none(url: str | None) -> str | None:
    """`url` made safe for a markdown link, or None when it should not be linked."""
    return _link(url)


def _escape(text: str) -> str:
    return escape_markdown(text).replace("[", "\\[").replace("]", "\\]")


def _link(url: str | None) -> str | None:
    """`url` made safe for a markdown link, or None when it should not be linked."""
    if not url or len(url) > URL_CHARS or not url.startswith(("http://", "https://")):
        return None
    if any(c.isspace() for c in url):
        return None
    return url.replace("(", "%28").replace(")", "%29")


def _date(published: str | None) -> str | None:
    return published[:10] if published else None


# -- answers ---------------------------------------------------------------------------


def answer_embed(
    answer: Answer,
    filters: Filters | None = None,
    *,
    follow_up_of: str | None = None,
    writing: bool = False,
) -> discord.Embed:
    """The answer: quotes with [n] markers, then the numbered sources; or a plain abstention.

    The footer says which question a follow-up was read with, when its sources were
    published, and what an /ask was restricted to; with `writing`, first that a written answer
    is being checked and will replace this one (bot/written.py).
    """
    title = one_line(escape_markdown(answer.question), TITLE_LIMIT)
    footer = answer_footer(answer, filters, follow_up_of)
    if writing:
        footer = f"{WRITING_NOTE}\n{footer}" if footer else WRITING_NOTE
    if answer.abstained or not answer.quotes:
        said = " ".join([answer.reason or NOT_COVERED, *answer.notes])
        embed = discord.Embed(
            title=title,
            description=shorten(_escape(said), DESCRIPTION_LIMIT - len(ABSTAIN_HINT) - 1)
            + f"\n{ABSTAIN_HINT}",
            colour=ABSTAIN_COLOUR,
        )
    else:
        room = MESSAGE_EMBED_LIMIT - len(title) - len(footer or "")
        description = answer_description(answer, min(DESCRIPTION_LIMIT, room))
        embed = discord.Embed(title=title, description=description, colour=ANSWER_COLOUR)
    if footer:
        embed.set_footer(text=footer)
    return embed


def answer_description(answer: Answer, limit: int = DESCRIPTION_LIMIT) -> str:
    """Quotes, then the sources they cite, cut to fit `limit` characters."""
    heading = "\n\n**Sources**\n"
    lines = {s.n: source_line(s) for s in answer.sources}
    all_lines = sum(len(line) + 1 for line in lines.values())
    notes = "".join(f"\n*{_escape(note)}*" for note in answer.notes)
    quote_room = max(limit - len(heading) - all_lines - len(notes), limit // 2)
    text, cited = quotes_text(answer.quotes, quote_room)
    if len(text) + len(notes) + len(heading) < limit:
        text += notes
    room = limit - len(text) - len(heading)
    wanted = [lines[n] for n in cited if n in lines]
    shown: list[str] = []
    used = 0
    for index, line in enumerate(wanted):
        rest = len(wanted) - index - 1
        reserve = len(_more_sources(rest)) + 1 if rest else 0
        if used + len(line) + reserve > room:
            shown.append(_more_sources(rest + 1))
            break
        shown.append(line)
        used += len(line) + 1
    return f"{text}{heading}" + "\n".join(shown) if shown else text


def _more_sources(count: int) -> str:
    return f"{ELLIPSIS} and {count} more: press Sources."


def quotes_text(quotes: Sequence[Quote], limit: int) -> tuple[str, list[int]]:
    """Quotes as “text” [n], whole while they fit; returns the text and the numbers it cites."""
    parts: list[str] = []
    cited: list[int] = []
    used = 0
    for quote in quotes:
        marker = f" [{quote.n}]"
        body = _escape(" ".join(quote.text.split()))  # a quote wrapped in its file reads as one
        sep = 1 if parts else 0
        piece = f"“{body}”{marker}"
        if used + sep + len(piece) > limit:
            room = limit - used - sep - len(marker) - 2
            if room < MIN_PARTIAL_QUOTE and parts:
                break
            body = shorten(body, room)
            if not body:
                break
            piece = f"“{body}”{marker}"
        parts.append(piece)
        used += sep + len(piece)
        if quote.n not in cited:
            cited.append(quote.n)
        if used >= limit - MIN_PARTIAL_QUOTE:
            break
    return " ".join(parts), cited


def source_line(source: Source) -> str:
    """**[n]** [Title](url) — Outlet · 2024-03-14"""
    title = _escape(one_line(source.title or "Untitled", TITLE_CHARS))
    url = _link(source.url)
    label = f"[{title}]({url})" if url else title
    meta = " · ".join(_escape(x) for x in (source.source, _date(source.published)) if x)
    line = f"**[{source.n}]** {label}" + (f" — {meta}" if meta else "")
    if source.also:
        line += " (also reported by " + _escape(one_line(", ".join(source.also), 200)) + ")"
    return line


def answer_footer(
    answer: Answer, filters: Filters | None = None, follow_up_of: str | None = None
) -> str | None:
    """The footer lines of an answer (None when there is nothing to say)."""
    lines = []
    if follow_up_of:
        lines.append(one_line(f"Follow-up to: {follow_up_of}", FOLLOW_UP_NOTE_LIMIT))
    if not answer.abstained:
        lines.append(sources_published(answer.sources) or "")
    lines.append(filters_note(filters) or "")
    return "\n".join(line for line in lines if line) or None


def filters_note(filters: Filters | None) -> str | None:
    """What an /ask was restricted to, for the answer's footer."""
    if filters is None or not filters.active:
        return None
    parts = []
    if filters.source:
        parts.append(f"from {filters.source.strip()}")
    if filters.since:
        parts.append(f"published on or after {filters.since.isoformat()}")
    if filters.until:
        parts.append(f"published on or before {filters.until.isoformat()}")
    return one_line("Only articles " + ", ".join(parts), FILTERS_NOTE_LIMIT)


# -- passages --------------------------------------------------------------------------


def passages_message(
    passages: Sequence[Passage], quotes: Sequence[Quote] = (), *, heading: str
) -> tuple[str, list[discord.Embed]]:
    """Content and one embed per passage (quoted sentences in bold), all within limits."""
    content = one_line(escape_mentions(heading), CONTENT_LIMIT)
    shown = list(passages[:MAX_EMBEDS])
    embeds = [_passage_frame(p) for p in shown]
    fixed = sum(len(e) for e in embeds)
    texts = [_passage_spans(p, quotes) for p in shown]
    wanted = [min(len(_highlight(t, s)), DESCRIPTION_LIMIT) for t, s in texts]
    budgets = _share(wanted, MESSAGE_EMBED_LIMIT - fixed)
    for embed, (text, spans), budget in zip(embeds, texts, budgets, strict=True):
        embed.description = _fit_highlighted(text, spans, budget) or ELLIPSIS
    return content, embeds


def _passage_frame(passage: Passage) -> discord.Embed:
    chunk = passage.chunk
    title = one_line(f"{passage.rank}. {chunk.title or 'Untitled'}", TITLE_LIMIT)
    embed = discord.Embed(title=title, url=_link(chunk.url), colour=ANSWER_COLOUR)
    meta = [x for x in (chunk.source, _date(chunk.published)) if x]
    scores = f"score {passage.score:.2f} (meaning {passage.dense:.2f}, words {passage.lexical:.2f})"
    embed.set_footer(text=one_line(" · ".join([*meta, scores]), FOOTER_LIMIT))
    return embed


def _passage_spans(passage: Passage, quotes: Sequence[Quote]) -> tuple[str, list[tuple[int, int]]]:
    """The passage text and the spans of it that the answer quoted."""
    chunk = passage.chunk
    spans = [
        (max(q.start, chunk.start) - chunk.start, min(q.end, chunk.end) - chunk.start)
        for q in quotes
        if q.article_id == chunk.article_id and q.start < chunk.end and q.end > chunk.start
    ]
    return chunk.text, sorted(spans)


def _highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in spans:
        start = max(start, pos)
        if end <= start:
            continue
        out.append(_escape(text[pos:start]))
        out.append(f"**{_escape(text[start:end])}**")
        pos = end
    out.append(_escape(text[pos:]))
    return "".join(out)


def _fit_highlighted(text: str, spans: list[tuple[int, int]], limit: int) -> str:
    rendered = _highlight(text, spans)
    while len(rendered) > limit and text:
        excess = len(rendered) - limit
        text = shorten(text, max(len(text) - excess - 1, 0))
        spans = [(s, min(e, len(text))) for s, e in spans if s < len(text)]
        rendered = _highlight(text, spans)
    return rendered


def _share(wanted: Sequence[int], total: int) -> list[int]:
    """Split `total` so small wants are met in full and the rest share what is left equally."""
    shares = [0] * len(wanted)
    left = max(total, 0)
    order = sorted(range(len(wanted)), key=lambda i: wanted[i])
    for done, i in enumerate(order):
        shares[i] = min(wanted[i], left // (len(order) - done))
        left -= shares[i]
    return shares


# -- the index -------------------------------------------------------------------------


def page_count(articles: int) -> int:
    """Pages of `/sources list` (at least one)."""
    return max(1, math.ceil(articles / ARTICLES_PER_PAGE))


def articles_embed(
    articles: Sequence[ArticleRecord], status: IndexStatus, page: int
) -> discord.Embed:
    """One page of the indexed articles (newest first) under a line about the index."""
    pages = page_count(len(articles))
    page = min(max(page, 0), pages - 1)
    first = page * ARTICLES_PER_PAGE
    lines = [status_line(status), ""]
    for number, article in enumerate(articles[first : first + ARTICLES_PER_PAGE], first + 1):
        line = article_line(number, article)
        if sum(len(x) + 1 for x in lines) + len(line) > DESCRIPTION_LIMIT - 2:
            lines.append(ELLIPSIS)
            break
        lines.append(line)
    if not articles:
        lines.append("Nothing is indexed yet: an admin can run `/reindex`.")
    embed = discord.Embed(title="Indexed articles", description="\n".join(lines))
    embed.colour = ANSWER_COLOUR
    embed.set_footer(text=one_line(f"Page {page + 1} of {pages} · model {status.model}", 200))
    return embed


def status_line(status: IndexStatus) -> str:
    """4 articles, 4 chunks · updated <time>"""
    line = f"**{status.articles:,} articles, {status.chunks:,} chunks**"
    try:
        updated = datetime.fromisoformat(status.updated_at)
    except ValueError:
        return f"{line} · index updated {status.updated_at}"
    return f"{line} · index updated {format_dt(updated, 'f')} ({format_dt(updated, 'R')})"


def article_line(number: int, article: ArticleRecord) -> str:
    """**3.** [Title](url) — Outlet · 2024-03-14"""
    title = _escape(one_line(article.title or "Untitled", TITLE_CHARS))
    url = _link(article.url)
    label = f"[{title}]({url})" if url else title
    meta = [_escape(x) for x in (article.source, _date(article.published)) if x]
    if not meta:
        meta = [f"`{one_line(article.path, 120).replace('`', '')}`"]
    return f"**{number}.** {label} — " + " · ".join(meta)


def reindex_progress(stage: str | None, done: int = 0, total: int = 0) -> str:
    """The progress message while a reindex runs."""
    if stage == "embedding" and total:
        return f"Reindexing: embedding {done:,} of {total:,} new chunks ({done * 100 // total}%)…"
    if stage == "writing":
        return "Reindexing: writing the new index…"
    return "Reindexing: reading the articles…"


def reindex_report(report: IndexReport) -> str:
    """What a finished reindex did, with the files it skipped (within one message)."""
    text = (
        f"Reindex finished in {report.seconds:.1f} s: {report.added} added, "
        f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged, "
        f"{len(report.failed)} failed. The index holds {report.articles:,} articles in "
        f"{report.chunks:,} chunks."
    )
    if not report.failed:
        return text
    lines = [text, "Skipped:"]
    for index, failure in enumerate(report.failed):
        line = f"- `{failure.path.replace('`', '')}`: {_escape(one_line(failure.error, 200))}"
        more = f"{ELLIPSIS} and {len(report.failed) - index} more."
        if sum(len(x) + 1 for x in lines) + len(line) + len(more) + 1 > CONTENT_LIMIT:
            lines.append(more)
            break
        lines.append(line)
    return "\n".join(lines)


def rate_limit_notice(limit: int, per: float, retry_after: float) -> str:
    """Why a question was refused, and when to ask again."""
    return (
        f"You have asked {limit} questions in the last {per:g} seconds: "
        f"try again in {max(1, math.ceil(retry_after))} s."
    )
