"""The `citebot` command line: index, sources, ask, serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import CitebotError, QuestionError
from index.settings import EngineSettings

if TYPE_CHECKING:
    from index.answer.retrieval import Filters
    from index.engine import Engine

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
    from index.embed.embedder import make_embedder
    from index.store.indexer import update_index

    settings = _settings(args)
    embedder = make_embedder(settings)
    bar = _ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
    try:
        report = update_index(
            Path(settings.articles_dir),
            Path(settings.data_dir),
            embedder,
            chunk_tokens=settings.chunk_tokens,
            overlap=settings.chunk_overlap,
            rebuild=args.rebuild,
            approximate_from=settings.approximate_from,
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
    from index.store.generations import open_snapshot

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


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2024-03-14") from None


def cmd_ask(args: argparse.Namespace) -> int:
    from index.answer.compose import answer_as_json, format_source
    from index.answer.retrieval import Filters
    from index.engine import Engine

    engine = Engine(_settings(args))
    filters = Filters(source=args.source, since=args.since, until=args.until)
    if args.question is None:
        return _ask_stream(engine, filters, args.k)
    answer = engine.ask(" ".join(args.question), k=args.k, filters=filters)
    if args.json:
        print(json.dumps(answer_as_json(answer), ensure_ascii=False))
        return 0
    if answer.abstained:
        print(answer.text)
    for quote in answer.quotes:
        print(f"“{quote.text}” [{quote.n}]")
    if answer.sources:
        print("\nSources:")
        for source in answer.sources:
            print(f"[{source.n}] {format_source(source)}")
    elif answer.passages:
        print("\nClosest articles:")
        for title in dict.fromkeys(p.chunk.title for p in answer.passages):
            print(f"- {title}")
    return 0


def _ask_stream(engine: Engine, filters: Filters, k: int) -> int:
    """One JSON line per question read from stdin; the model and index load once."""
    from index.answer.compose import answer_as_json

    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        try:
            result = answer_as_json(engine.ask(question, k=k, filters=filters))
        except QuestionError as exc:
            result = {"question": question, "error": str(exc)}
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    # The Discord layer is imported only here: `index` itself never imports discord.
    from bot.runner import serve

    return serve(_settings(args))


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

    p = sub.add_parser("ask", help="answer a question from the indexed articles")
    p.add_argument("question", nargs="*", default=None, help="the question (none: read stdin)")
    p.add_argument("--data", type=Path, help="data directory [CITEBOT_DATA_DIR]")
    p.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--since", type=_date, help="only articles published on or after DATE")
    p.add_argument("--until", type=_date, help="only articles published on or before DATE")
    p.add_argument("--source", help="only articles from this outlet")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="run the Discord bot (settings from the environment / .env)")
    p.add_argument("--data", type=Path, help="data directory [CITEBOT_DATA_DIR]")
    p.add_argument("--articles", type=Path, help="articles folder [CITEBOT_ARTICLES_DIR]")
    p.set_defaults(func=cmd_serve)
    return parser


def _quiet_libraries() -> None:
    """Keep third-party progress bars and debug chatter off the terminal."""
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `citebot` console script."""
    args = build_parser().parse_args(argv)
    if getattr(args, "question", None) == []:
        args.question = None
    _quiet_libraries()
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
