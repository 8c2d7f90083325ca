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


# The path the data takes (issue 13, item 18): each stage may import only the stages below it.
STAGE_LEVELS = {
    "errors": 0,  # what a user can be told went wrong
    "progress": 1, "settings": 1,  # shared by every stage
    "ingest": 2, "embed": 2,  # read and chunk articles; turn text into vectors
    "store": 3,  # generations on disk, written by the indexer
    "answer": 4,  # retrieval and composition over a stored generation
    "engine": 5, "feedback": 5,  # on top: answering and reindexing; answers given and votes
    "gaps": 6,  # questions the answers and votes show the articles do not cover
}  # fmt: skip


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports from a stage of the engine into one at its own level or above it."""

    def stage(module: str) -> str:
        return module.split(".")[1] if "." in module else module

    return sorted(
        f"{module} -> {other}"
        for module, imported in graph.items()
        for other in imported
        if "." in module
        and "." in other  # `index` itself (its __init__) is not a stage
        and stage(module) != stage(other)
        and STAGE_LEVELS[stage(other)] >= STAGE_LEVELS[stage(module)]
    )


def test_nothing_below_calls_up() -> None:
    """ingest and embed know nothing of the store, the store nothing of answering, and only
    the engine (with feedback and gaps) sits on top."""
    root = Path(index.__file__).parent
    graph = import_graph(root)
    stages = {m.split(".")[1] for m in graph if "." in m}
    assert stages == set(STAGE_LEVELS), "a new stage of the engine: give it a level"
    assert upward_imports(graph) == []


def test_the_stage_check_sees_a_call_up() -> None:
    graph = {"index.store.indexer": {"index.answer.compose"}, "index.answer.compose": set()}
    assert upward_imports(graph) == ["index.store.indexer -> index.answer.compose"]
