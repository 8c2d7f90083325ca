"""`citebot refresh`: read the followed feeds, fetch their new entries, then reindex."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from citebot.commands._web import finish, index_options
from citebot.options import (
    Subparsers,
    add_command,
    articles_option,
    data_option,
    engine_settings,
    json_option,
)

DESCRIPTION = """\
Read every RSS or Atom feed listed in the feeds file (one URL per line, # for comments;
CITEBOT_FEEDS_FILE, default feeds.txt), fetch the pages of entries not seen before, write them
into the articles folder under web/<host>/, delete fetched articles older than
CITEBOT_KEEP_DAYS (if set), and reindex once at the end. Unchanged feeds cost one conditional
request each (answered 304). A feed or page that fails is reported and the rest goes on.
"""


def register(subparsers: Subparsers) -> None:
    """Add `citebot refresh`."""
    parser = add_command(
        subparsers,
        "refresh",
        run,
        summary="fetch the new entries of the followed RSS/Atom feeds",
        description=DESCRIPTION,
    )
    parser.add_argument("--feeds", type=Path, help="the feeds file [CITEBOT_FEEDS_FILE]")
    articles_option(parser)
    data_option(parser)
    json_option(parser, "one JSON object")
    index_options(parser)


def run(args: argparse.Namespace) -> int:
    """Refresh, write, reindex; print what happened to each feed and page."""
    from index.ingest.web.feeds import FeedsFileError
    from index.ingest.web.refresh import WebConfig, refresh_feeds

    settings = engine_settings(args)
    if args.feeds is not None:
        settings = settings.model_copy(update={"feeds_file": args.feeds})
    feeds = Path(settings.feeds_file)
    if not feeds.is_file():
        raise FeedsFileError(
            f"No feeds file at {feeds}: create it with one RSS or Atom URL per line "
            "(or point CITEBOT_FEEDS_FILE or --feeds at yours)."
        )
    report = asyncio.run(refresh_feeds(WebConfig.from_settings(settings)))
    finish(settings, report, args)
    return 0
