"""The subcommands, one module each.

A module here that defines `register(subparsers)` is a subcommand: `citebot.cli` finds it by
itself, so adding a subcommand is adding a module (see `citebot.options.add_command`). Modules
import the engine lazily, inside the function that runs the command, so that `citebot --help`
stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def command_modules() -> list[ModuleType]:
    """Every subcommand module, by name."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    modules = [importlib.import_module(f"{__name__}.{name}") for name in names]
    return [m for m in modules if hasattr(m, "register")]
