"""Kill a child process with SIGKILL once it says it has reached a given point."""

from __future__ import annotations

import signal
import subprocess


def kill_at_mark(proc: subprocess.Popen[str], mark: str, timeout: float) -> None:
    """Read the child's stderr until the line `mark`, SIGKILL it, and check that the kill is
    what ended it (not the child finishing or failing first)."""
    assert proc.stderr is not None
    said = []
    for line in proc.stderr:
        said.append(line)
        if line.strip() == mark:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=timeout)
    assert proc.returncode == -signal.SIGKILL, "".join(said)
