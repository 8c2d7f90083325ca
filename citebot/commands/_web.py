"""What `citebot add` and `citebot refresh` share: options, the report, the reindex after."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from citebot.progress import ProgressBar
from index.errors import CitebotError
from index.ingest.web.report import FetchReport, PageOutcome
from index.settings import EngineSettings
from index.store.indexer import IndexReport

SAVED_NOT_INDEXED = (
    "The fetched articles are saved in the articles folder; run `citebot index` to index them."
)


def index_options(parser: argparse.ArgumentParser) -> None:
    """`--no-index` and `-q`."""
    parser.add_argument(
        "--no-index", action="store_true", help="only write the articles; do not reindex"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def reindex(
    settings: EngineSettings, report: FetchReport, args: argparse.Namespace
) -> IndexReport | None:
    """The incremental reindex after a fetch that changed the folder (None when skipped)."""
    if args.no_index or not report.changed:
        return None
    from index.embed.embedder import make_embedder
    from index.store.indexer import update_index

    bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
    try:
        return update_index(
            Path(settings.articles_dir),
            Path(settings.data_dir),
            make_embedder(settings),
            chunk_tokens=settings.chunk_tokens,
            overlap=settings.chunk_overlap,
            approximate_from=settings.approximate_from,
            max_article_mb=settings.max_article_mb,
            progress=bar,
        )
    finally:
        bar.close()


def finish(settings: EngineSettings, report: FetchReport, args: argparse.Namespace) -> None:
    """Print the fetch report, reindex, and print what the reindex did."""
    if not args.json:
        print_report(report)
    try:
        indexed = reindex(settings, report, args)
    except CitebotError:
        if args.json:
            print(json.dumps(as_json(report, None), ensure_ascii=False))
        print(SAVED_NOT_INDEXED, file=sys.stderr)
        raise
    if args.json:
        print(json.dumps(as_json(report, indexed), ensure_ascii=False))
    elif indexed is not None:
        print(
            f"Indexed {indexed.articles:,} articles ({indexed.chunks:,} chunks) in "
            f"{indexed.seconds:.1f} s: {indexed.added} added, {indexed.updated} updated, "
            f"{indexed.removed} removed, {indexed.unchanged} unchanged."
        )
    elif report.changed:
        print("Not indexed (--no-index): run `citebot index` to index them.")
    else:
        print("Nothing changed: the index is as it was.")


def as_json(report: FetchReport, indexed: IndexReport | None) -> dict[str, Any]:
    """The fetch report and the reindex's, as one JSON object."""
    return {**report.as_json(), "index": indexed.as_json() if indexed else None}


def print_report(report: FetchReport) -> None:
    """One line per feed that failed and per page, then the counts."""
    for feed in report.feeds:
        if feed.status == "failed":
            print(f"feed failed  {feed.url}: {feed.error}")
    for page in report.pages:
        print(page_line(page))
    for path in report.removed:
        print(f"removed      {path} (older than CITEBOT_KEEP_DAYS)")
    print(report.summary()[0].upper() + report.summary()[1:] + ".")


def page_line(page: PageOutcome) -> str:
    """`added    URL -> web/host/file.md  "Title"`, or why a page was not written."""
    label = f"{page.status:<12} {page.url}"
    if page.status in ("added", "updated"):
        return f"{label} -> {page.path}  “{page.title}”"
    if page.reason:
        return f"{label}: {page.reason.removeprefix(page.url + ': ')}"
    return label
