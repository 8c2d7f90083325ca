"""The engine stands alone: nothing under `index/` imports the Discord layer or discord.py."""

from __future__ import annotations

import ast
from pathlib import Path

import index

FORBIDDEN = ("bot", "discord", "citebot")


def imported_modules(path: Path) -> set[str]:
    """Every module name an import statement in `path` names (top-level, lazy and typing-only)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_engine_imports_neither_the_bot_nor_discord() -> None:
    root = Path(index.__file__).parent
    offenders = {
        f"{path.relative_to(root.parent)}: {name}"
        for path in root.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert not offenders, offenders


def test_the_check_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from bot.runner import serve\n    import discord\n")
    assert {"bot.runner", "discord"} <= imported_modules(module)
