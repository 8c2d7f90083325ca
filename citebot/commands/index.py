"""`citebot index`: index (or incrementally reindex) the folder of articles."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from citebot.options import (
    Subparsers,
    add_command,
    articles_option,
    data_option,
    engine_settings,
    json_option,
)
from citebot.progress import ProgressBar
from citebot.text import plural

DESCRIPTION = """\
Read every article under the articles folder (recursively) and bring the index in the data
directory up to date: new and edited articles are embedded, deleted ones removed, unchanged
ones kept as they are. Questions keep being answered from the previous index until the new one
is complete. A file that cannot be read is skipped and listed; it never stops the run.
"""


def register(subparsers: Subparsers) -> None:
    """Add `citebot index`."""
    parser = add_command(
        subparsers,
        "index",
        run,
        summary="index (or incrementally reindex) a folder of articles",
        description=DESCRIPTION,
    )
    articles_option(parser)
    data_option(parser)
    json_option(parser, "one JSON object")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")


def run(args: argparse.Namespace) -> int:
    """Index, then print what changed (text, or one JSON object with --json)."""
    from index.embed.embedder import make_embedder
    from index.store.indexer import update_index

    settings = engine_settings(args)
    embedder = make_embedder(settings)
    bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
    try:
        report = update_index(
            Path(settings.articles_dir),
            Path(settings.data_dir),
            embedder,
            chunk_tokens=settings.chunk_tokens,
            overlap=settings.chunk_overlap,
            rebuild=args.rebuild,
            approximate_from=settings.approximate_from,
            max_article_mb=settings.max_article_mb,
            progress=bar,
        )
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
        return 0
    print(
        f"Indexed {plural(report.articles, 'article')} ({plural(report.chunks, 'chunk')}) "
        f"in {report.seconds:.1f} s: "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {plural(len(report.failed), 'file')} not indexed"
        + (":" if report.failed else ".")
    )
    for failure in report.failed:
        print(f"  {failure.path}: {failure.error}")
    return 0
