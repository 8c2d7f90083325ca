#!/usr/bin/env bash
# Set up, index the bundled demo corpus and answer a sample question in the terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
venv="${CITEBOT_VENV:-.venv}"
data="${CITEBOT_DATA_DIR:-demo/data}"
"$venv/bin/citebot" index --articles demo/articles --data "$data"
"$venv/bin/citebot" ask --data "$data" "${1:-When did the 1973 oil crisis begin?}"
cat <<NEXT

Next, ask your own questions about the demo articles (see README.md, "Command line"):
  source $venv/bin/activate
  citebot ask --data $data "Who set up the Wayback Machine?"
NEXT
