"""How the command line logs: a plain format, and one line per event when not on a terminal.

Commands log to stderr, so their output on stdout stays clean; `citebot serve`, whose only
output is its log, logs to stdout (where a service manager such as systemd collects it).
"""

from __future__ import annotations

import logging
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class OneLineFormatter(logging.Formatter):
    """No colour codes, and a record with a traceback (or a message over several lines) still
    written as one line, its line breaks shown as ` | `: a log collector (journald, a file
    read line by line) then keeps each event whole."""

    def format(self, record: logging.LogRecord) -> str:
        return " | ".join(line for line in super().format(record).splitlines() if line.strip())


def configure_logging(verbose: bool, stream: TextIO) -> None:
    """INFO with `-v`, else WARNING, to `stream`: as written for a terminal, one line per event
    otherwise."""
    handler = logging.StreamHandler(stream)
    on_terminal = stream.isatty()
    formatter = logging.Formatter if on_terminal else OneLineFormatter
    handler.setFormatter(formatter(FORMAT, DATE_FORMAT))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])
