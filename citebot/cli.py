"""The `citebot` command line: the parser, logging and how errors end a run.

Each subcommand lives in its own module under `citebot/commands/`; this module only puts them
together (see `citebot.commands`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from citebot import __version__
from citebot.commands import command_modules
from citebot.logs import configure_logging
from citebot.options import Command, verbose_option
from index.errors import CitebotError

log = logging.getLogger(__name__)

BROKEN_PIPE = 128 + 13  # the status a shell reports for a process ended by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The `citebot` parser with every subcommand of `citebot.commands`."""
    parser = argparse.ArgumentParser(
        prog="citebot", description="Answer questions over your articles, quoting its sources."
    )
    parser.add_argument("--version", action="version", version=f"citebot {__version__}")
    verbose_option(parser, default=False)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules():
        module.register(subparsers)
    return parser


def _quiet_libraries() -> None:
    """Keep third-party progress bars and debug chatter off the terminal."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `citebot` console script.

    Exit status: 0 done, 2 a user error (one sentence on stderr), 130 interrupted, 141 the
    reader of the output went away (`citebot sources | head`), as for any Unix tool.
    """
    try:
        try:
            return _run(argv)
        finally:  # also after --help and --version, which exit through SystemExit
            sys.stdout.flush()
    except BrokenPipeError:
        # Nobody reads any more: send what is left to /dev/null so the interpreter's own final
        # flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    stream = sys.stdout if getattr(args, "log_to_stdout", False) else sys.stderr
    configure_logging(args.verbose, stream)
    run: Command = args.func
    try:
        return run(args)
    except CitebotError as exc:
        print(f"citebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
