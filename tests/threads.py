"""Every test joins the threads it started (issue 13).

A thread left running after its test keeps working while later tests run, and one still inside
the model or FAISS when the interpreter exits aborts pytest ("terminate called without an active
exception"). `running_bot` joins the threads of the bot it ran; the autouse fixture in
tests/conftest.py joins whatever else a test started, and fails the test if one will not end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection

JOIN_SECONDS = 60.0  # a reindex of the fixture articles finishes well within this


def started_since(before: Collection[threading.Thread]) -> list[threading.Thread]:
    """Threads alive now that were not alive in `before` (a `threading.enumerate()`)."""
    known = set(before)
    return [t for t in threading.enumerate() if t not in known and t.is_alive()]


def join_all(threads: Collection[threading.Thread], timeout: float = JOIN_SECONDS) -> list[str]:
    """Join `threads` within `timeout` seconds in all; the names of those still running."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        if thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads if t.is_alive()]
