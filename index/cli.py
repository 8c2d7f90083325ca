"""The `citebot` command line: index, sources, ask, serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from index.errors import CitebotError
from index.settings import EngineSettings

log = logging.getLogger(__name__)


def _settings(args: argparse.Namespace) -> EngineSettings:
    """Flags win over the environment, which wins over `.env`."""
    overrides: dict[str, Any] = {}
    if getattr(args, "articles", None) is not None:
        overrides["articles_dir"] = args.articles
    if getattr(args, "data", None) is not None:
        overrides["data_dir"] = args.data
    return EngineSettings(**overrides)


class _ProgressBar:
    """A tqdm bar on stderr for long work, silent when quiet or not on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or stage != "embedding":
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def cmd_index(args: argparse.Namespace) -> int:
    from index.embedding import SentenceTransformerEmbedder
    from index.indexer import update_index

    settings = _settings(args)
    embedder = SentenceTransformerEmbedder(settings.model)
    bar = _ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
    try:
        report = update_index(
            Path(settings.articles_dir),
            Path(settings.data_dir),
            embedder,
            chunk_tokens=settings.chunk_tokens,
            overlap=settings.chunk_overlap,
            rebuild=args.rebuild,
            progress=bar,
        )
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
        return 0
    print(
        f"Indexed {report.articles} articles ({report.chunks} chunks) in {report.seconds:.1f} s: "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {len(report.failed)} failed."
    )
    for failure in report.failed:
        print(f"  skipped {failure.path}: {failure.error}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from index.store import open_snapshot

    settings = _settings(args)
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
        f"{manifest['articles']} articles, {manifest['chunks']} chunks, "
        f"updated {manifest['created_at']} (model {manifest['model']})"
    )
    for a in articles:
        meta = ", ".join(x for x in (a.source, a.published) if x)
        print(f"- {a.title}" + (f" ({meta})" if meta else "") + f" [{a.id}, {a.chunks} chunks]")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citebot", description="Answer questions over your articles, quoting its sources."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index (or incrementally reindex) a folder of articles")
    p.add_argument("--articles", type=Path, help="articles folder [CITEBOT_ARTICLES_DIR]")
    p.add_argument("--data", type=Path, help="data directory [CITEBOT_DATA_DIR]")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("sources", help="list the indexed articles")
    p.add_argument("--data", type=Path, help="data directory [CITEBOT_DATA_DIR]")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_sources)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `citebot` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CitebotError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
