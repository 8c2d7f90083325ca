"""`python -m citebot`: the same as the `citebot` command."""

from __future__ import annotations

import sys

from citebot.cli import main

sys.exit(main())
