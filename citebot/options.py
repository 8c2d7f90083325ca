"""What several subcommands share: adding a subcommand, common options, settings from flags."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.settings import EngineSettings, load_settings

Subparsers = argparse._SubParsersAction  # what `ArgumentParser.add_subparsers` returns
Command = Callable[[argparse.Namespace], int]


def verbose_option(parser: argparse.ArgumentParser, default: Any) -> None:
    """`-v/--verbose`; given on the main parser and on every subcommand, so it works anywhere."""
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log progress details"
    )


def add_command(
    subparsers: Subparsers, name: str, run: Command, *, summary: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand `name` that runs `run(args)`: `summary` in `citebot --help`, `description`
    (and the option list) in `citebot NAME --help`."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # SUPPRESS: a `-v` given before the subcommand is not reset by the subcommand's default.
    verbose_option(parser, default=argparse.SUPPRESS)
    parser.set_defaults(func=run)
    return parser


def data_option(parser: argparse.ArgumentParser) -> None:
    """`--data DIR`: where the index lives."""
    parser.add_argument("--data", type=Path, help="data directory [CITEBOT_DATA_DIR]")


def articles_option(parser: argparse.ArgumentParser) -> None:
    """`--articles DIR`: the folder of articles."""
    parser.add_argument("--articles", type=Path, help="articles folder [CITEBOT_ARTICLES_DIR]")


def json_option(parser: argparse.ArgumentParser, what: str) -> None:
    """`--json`: machine-readable output instead of text."""
    parser.add_argument("--json", action="store_true", help=f"print {what}")


def engine_settings(args: argparse.Namespace) -> EngineSettings:
    """The engine settings: flags win over the environment, which wins over `.env`."""
    overrides: dict[str, Any] = {}
    if getattr(args, "articles", None) is not None:
        overrides["articles_dir"] = args.articles
    if getattr(args, "data", None) is not None:
        overrides["data_dir"] = args.data
    return load_settings(**overrides)
