"""`citebot add`: fetch pages (or PDFs) by URL into the articles folder, then reindex."""

from __future__ import annotations

import argparse
import asyncio

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
Fetch each URL (an article page or a PDF), extract its text and metadata, and write it into the
articles folder as Markdown under web/<host>/, then reindex. Adding a page again changes nothing
unless the page changed. Fetching is polite (robots.txt, a delay between requests to a host) and
never reaches internal addresses unless CITEBOT_ALLOW_PRIVATE_URLS=true. Exit status 1 when a
URL could not be added (the others are).
"""


def register(subparsers: Subparsers) -> None:
    """Add `citebot add`."""
    parser = add_command(
        subparsers,
        "add",
        run,
        summary="add articles by URL (pages or PDFs)",
        description=DESCRIPTION,
    )
    parser.add_argument("urls", nargs="+", metavar="URL", help="http(s) URL of a page or PDF")
    articles_option(parser)
    data_option(parser)
    json_option(parser, "one JSON object")
    index_options(parser)


def run(args: argparse.Namespace) -> int:
    """Fetch, write, reindex; print what happened to each URL."""
    from index.ingest.web.refresh import WebConfig, add_urls

    settings = engine_settings(args)
    report = asyncio.run(add_urls(args.urls, WebConfig.from_settings(settings)))
    finish(settings, report, args)
    return 1 if report.count("failed") else 0
