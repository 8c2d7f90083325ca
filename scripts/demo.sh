#!/usr/bin/env bash
# Set up, index the bundled demo corpus and answer a sample question in the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
venv="${CITEBOT_VENV:-.venv}"
export CITEBOT_ARTICLES_DIR=demo/articles CITEBOT_DATA_DIR="${CITEBOT_DATA_DIR:-demo/data}"
"$venv/bin/citebot" index
"$venv/bin/citebot" ask "${1:-When did the 1973 oil crisis begin?}"
