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


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (lazy imports included)."""
    modules = {
        ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(
            ".__init__"
        ): path
        for path in root.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        named = imported_modules(path) | {
            f"{node.module}.{alias.name}"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            for alias in node.names
        }
        graph[name] = {other for other in named if other in modules and other != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each found from its smallest module name."""
    found = []
    for start in sorted(graph):
        pending = [[start]]
        while pending:
            path = pending.pop()
            for nxt in sorted(graph[path[-1]]):
                if nxt == start:
                    found.append(path)
                elif nxt > start and nxt not in path:
                    pending.append([*path, nxt])
    return found


def test_the_engine_has_no_import_cycles() -> None:
    """A module never imports (even lazily) one that imports it back, e.g. the torch and ONNX
    embedders: each stage of the engine can be read, tested and changed on its own."""
    assert cycles(import_graph(Path(index.__file__).parent)) == []


def test_the_cycle_check_finds_a_lazy_cycle(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def f():\n    from pkg import a\n")
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b"]]


# What the rest of the program may use of the store (issue 13, item 16): open a snapshot and
# read it, reindex, claim the one writer, and the BM25 terms of a text.
STORE_API = {
    "index.store.generations",
    "index.store.indexer",
    "index.store.writer_lock",
    "index.store.lexical",
}
STORAGE_LIBRARIES = {"faiss", "bm25s"}


def store_modules_used(path: Path) -> set[str]:
    """Every `index.store` module `path` imports, `from index.store import x` counted as x."""
    used = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "index.store":
                used.update(f"index.store.{alias.name}" for alias in node.names)
            elif node.module.startswith("index.store."):
                used.add(node.module)
        elif isinstance(node, ast.Import):
            used.update(a.name for a in node.names if a.name.startswith("index.store."))
    return used


def file_names_of_the_layout() -> set[str]:
    from index.store import layout

    return {
        value
        for name, value in vars(layout).items()
        if name.endswith(("_FILE", "_DIR")) and isinstance(value, str)
    }


def test_only_the_store_knows_the_on_disk_format() -> None:
    """Generation layout, file names, SQLite schema, FAISS and BM25 files are the store's: the
    engine, retrieval, the bot and the CLI go through its small public API."""
    repo = Path(index.__file__).parents[1]
    store = repo / "index" / "store"
    names = file_names_of_the_layout()
    assert {"CURRENT", "manifest.json", "store.sqlite", "vectors.faiss"} <= names
    offenders = set()
    for package in ("index", "bot", "citebot"):
        for path in (repo / package).rglob("*.py"):
            if store in path.parents:
                continue
            where = path.relative_to(repo)
            offenders |= {f"{where}: {m}" for m in store_modules_used(path) - STORE_API}
            libraries = {m.split(".")[0] for m in imported_modules(path)} & STORAGE_LIBRARIES
            offenders |= {f"{where}: {m}" for m in libraries}
            strings = {
                node.value
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            }
            offenders |= {f"{where}: {name!r}" for name in strings & names}
    assert not offenders, sorted(offenders)


def test_the_format_check_sees_a_module_of_the_store(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from index.store import layout\nfrom index.store.vectors import read_index\n"
    )
    assert store_modules_used(module) == {"index.store.layout", "index.store.vectors"}
