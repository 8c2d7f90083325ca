"""Fetch reports and the followed feeds as Discord messages (pure functions, within limits).

Links are wrapped in <…> so Discord shows no preview of each page.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord.utils import escape_markdown, format_dt

from bot.render import CONTENT_LIMIT, DESCRIPTION_LIMIT, ELLIPSIS, one_line
from index.ingest.web.feeds import ParsedFeed
from index.ingest.web.report import PageOutcome
from index.ingest.web.state import FeedRecord

if TYPE_CHECKING:
    from bot.exts.feeds import FetchRun

URL_CHARS = 300
FEEDS_COLOUR = discord.Colour.teal()
NO_FEEDS = "No feeds are followed yet: an admin can add one with `/sources feed-add`."


def _escape(text: str) -> str:
    return escape_markdown(text).replace("[", "\\[").replace("]", "\\]")


def quiet_url(url: str) -> str:
    """A URL Discord links but does not preview (shortened if very long)."""
    url = one_line(url, URL_CHARS).replace(">", "%3E")
    return f"<{url}>"


def page_line(page: PageOutcome) -> str:
    """One line for one page: what happened to it."""
    title = _escape(one_line(page.title or "", 150))
    where = f" (`{page.path.replace('`', '')}`)" if page.path else ""
    if page.status == "added":
        return f"Added **{title}**{where} from {quiet_url(page.url)}"
    if page.status == "updated":
        return f"Updated **{title}**{where}: the page had changed."
    if page.status == "unchanged":
        return f"Unchanged: {quiet_url(page.url)} is already indexed as it is."
    reason = one_line(page.reason or "", 300).removeprefix(page.url + ": ")
    verb = "Skipped" if page.status == "skipped" else "Could not add"
    return f"{verb} {quiet_url(page.url)}: {_escape(reason)}"


def add_report(run: FetchRun) -> str:
    """What `/sources add` did, and the state of the index after it."""
    lines = [page_line(page) for page in run.fetched.pages]
    if run.index is not None:
        lines.append(
            f"The index now holds {run.index.articles:,} articles in {run.index.chunks:,} chunks."
        )
    elif run.index_error:
        lines.append(f"Saved, but not indexed yet: {run.index_error}")
    return fit_lines(lines, CONTENT_LIMIT)


def followed(url: str, parsed: ParsedFeed | None, minutes: float | None) -> str:
    """The answer to `/sources feed-add`."""
    if parsed is None:
        return f"{quiet_url(url)} is already followed."
    title = f"**{_escape(one_line(parsed.title, 150))}** " if parsed.title else ""
    when = (
        f"at the next refresh (every {minutes:g} minutes)"
        if minutes
        else "when feeds are next refreshed (`citebot refresh`)"
    )
    return (
        f"Now following {title}{quiet_url(url)} ({len(parsed.entries)} entries now); "
        f"its articles are added {when}."
    )


def fit_lines(lines: list[str], limit: int) -> str:
    """`lines` joined, cut at a line (with a count of the rest) to fit `limit`."""
    kept: list[str] = []
    for index, line in enumerate(lines):
        more = f"{ELLIPSIS} and {len(lines) - index} more."
        if sum(len(x) + 1 for x in kept) + len(line) + len(more) + 1 > limit:
            kept.append(more)
            break
        kept.append(line)
    return "\n".join(kept)


def feeds_embed(
    feeds: list[tuple[str, FeedRecord | None]], minutes: float | None, last: FetchRun | None
) -> discord.Embed:
    """The followed feeds with their last refresh and counts, and the schedule."""
    lines = [feed_line(n, url, record) for n, (url, record) in enumerate(feeds, start=1)]
    embed = discord.Embed(
        title="Followed feeds",
        description=fit_lines(lines, DESCRIPTION_LIMIT) if lines else NO_FEEDS,
        colour=FEEDS_COLOUR,
    )
    schedule = (
        f"Refreshed every {minutes:g} minutes"
        if minutes
        else "No scheduled refresh (CITEBOT_REFRESH_MINUTES is not set)"
    )
    if last is not None:
        schedule += f" · last refresh: {last.fetched.summary()}"
    embed.set_footer(text=one_line(schedule, 2000))
    return embed


def feed_line(number: int, url: str, record: FeedRecord | None) -> str:
    """**2.** Title <url> — read 5 minutes ago · 12 entries · 30 added · 1 failed"""
    if record is None:
        return f"**{number}.** {quiet_url(url)} — not read yet"
    title = f"**{_escape(one_line(record.title, 120))}** " if record.title else ""
    parts = [_when(record.checked_at)]
    if record.status == "failed":
        parts.append(f"failed: {_escape(one_line(record.error or '', 200))}")
    else:
        parts.append(f"{record.entries} entries")
    parts += [f"{record.added} articles added", f"{record.failed} pages failed"]
    return f"**{number}.** {title}{quiet_url(url)} — " + " · ".join(parts)


def _when(checked_at: str | None) -> str:
    if not checked_at:
        return "never read"
    try:
        return f"read {format_dt(datetime.fromisoformat(checked_at), 'R')}"
    except ValueError:
        return f"read {checked_at}"
