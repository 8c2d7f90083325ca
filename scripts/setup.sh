#!/usr/bin/env bash
# Create (or update) the virtualenv in $CITEBOT_VENV (default .venv) and install citebot into it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CITEBOT_VENV:-.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# torch first and pinned: an unpinned torch can pull a multi-GB CUDA build.
"$venv/bin/python" -m pip install --quiet "torch==2.13.0"
"$venv/bin/python" -m pip install --quiet -e ".[dev]"
