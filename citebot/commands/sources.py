"""`citebot sources`: list the indexed articles."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from citebot.options import Subparsers, add_command, data_option, engine_settings, json_option
from citebot.text import plural

DESCRIPTION = """\
List the articles in the live index, newest first, with their outlet, publication date, id and
number of chunks.
"""


def register(subparsers: Subparsers) -> None:
    """Add `citebot sources`."""
    parser = add_command(
        subparsers, "sources", run, summary="list the indexed articles", description=DESCRIPTION
    )
    data_option(parser)
    json_option(parser, "a JSON list")


def run(args: argparse.Namespace) -> int:
    """Print the indexed articles (text, or a JSON list with --json)."""
    from index.store.generations import open_snapshot

    settings = engine_settings(args)
    snapshot = open_snapshot(Path(settings.data_dir))
    articles = snapshot.articles()
    if args.json:
        rows = [
            {
                "article_id": a.id,
                "title": a.title,
                "url": a.url,
                "source": a.source,
                "published": a.published,
                "chunks": a.chunks,
                "indexed_at": a.indexed_at,
            }
            for a in articles
        ]
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    manifest = snapshot.manifest
    print(
        f"{plural(manifest['articles'], 'article')}, {plural(manifest['chunks'], 'chunk')}, "
        f"updated {manifest['created_at']} (model {manifest['model']})"
    )
    for a in articles:
        meta = ", ".join(x for x in (a.source, a.published) if x)
        print(
            f"- {a.title}"
            + (f" ({meta})" if meta else "")
            + f" [{a.id}, {plural(a.chunks, 'chunk')}]"
        )
    return 0
