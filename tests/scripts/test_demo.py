"""A newcomer's first steps: `bash scripts/demo.sh`, then the README's next command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
AFTER_DEMO = re.compile(r"<!-- after-demo:[^>]*-->\n```bash\n(.*?)```", re.S)


def readme_after_demo() -> str:
    """The commands the README gives to run after the demo."""
    match = AFTER_DEMO.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its after-demo commands"
    return match.group(1)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_demo_then_the_readmes_next_command_answers(tmp_path: Path) -> None:
    venv = Path(sys.prefix)  # the virtualenv running the tests stands for .venv
    data = tmp_path / "data"  # stands for demo/data, so the checkout is left as it was
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITEBOT_", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(  # a fresh shell: citebot is not on the PATH
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(venv))
    )
    demo = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=REPO,
        env={**env, "CITEBOT_VENV": str(venv), "CITEBOT_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert demo.returncode == 0, demo.stderr
    assert "October 1973" in demo.stdout

    commands = readme_after_demo().replace(".venv", str(venv)).replace("demo/data", str(data))
    assert commands.splitlines()[-1] in demo.stdout  # the demo ends by saying the same
    result = subprocess.run(
        ["bash", "-e", "-c", commands], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Brewster Kahle" in result.stdout.splitlines()[0]  # the answering sentence first
    assert "[1] Wayback Machine — Wikipedia" in result.stdout
