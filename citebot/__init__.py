"""citebot's command line, above both the engine (`index`) and the Discord layer (`bot`)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("citebot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
