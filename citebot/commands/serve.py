"""`citebot serve`: run the Discord bot."""

from __future__ import annotations

import argparse

from citebot.options import Subparsers, add_command, articles_option, data_option, engine_settings

DESCRIPTION = """\
Run the Discord bot until it is stopped (Ctrl-C or SIGTERM; a reindex still running is
abandoned safely, the previous index stays). DISCORD_TOKEN and the other bot settings come from
the environment or a .env file in the working directory (see .env.example). The log goes to
standard output, one line per event when that is not a terminal.
"""


def register(subparsers: Subparsers) -> None:
    """Add `citebot serve`."""
    parser = add_command(
        subparsers,
        "serve",
        run,
        summary="run the Discord bot (settings from the environment / .env)",
        description=DESCRIPTION,
    )
    data_option(parser)
    articles_option(parser)
    parser.set_defaults(log_to_stdout=True)  # its log is its output (see citebot.logs)


def run(args: argparse.Namespace) -> int:
    """Serve until stopped."""
    # The Discord layer is imported only here: `index` itself never imports discord.
    from bot.runner import serve

    return serve(engine_settings(args))
