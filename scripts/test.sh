#!/usr/bin/env bash
# Set up, then lint and run the whole test suite (real model, FAISS, SQLite, Discord emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
venv="${CITEBOT_VENV:-.venv}"
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/python" -m pytest "$@"
