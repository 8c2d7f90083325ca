"""Other libraries' log lines, routed through citebot's logging at DEBUG.

trafilatura logs ERROR lines ("empty HTML tree", "wrong data type or not valid HTML") for every
page it cannot parse; the reader already reports such a file once, as skipped, so those lines
are only detail for `-v` debugging, not something to print during every index run.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class _AsDebug(logging.Handler):
    """Re-logs a record of another library as a DEBUG line of ours."""

    def emit(self, record: logging.LogRecord) -> None:
        log.debug("%s %s: %s", record.name, record.levelname, record.getMessage())


def route_to_debug(library: str) -> None:
    """Send `library`'s log records to citebot's log at DEBUG, and nowhere else (idempotent)."""
    logger = logging.getLogger(library)
    if not any(isinstance(handler, _AsDebug) for handler in logger.handlers):
        logger.addHandler(_AsDebug())
        logger.propagate = False
