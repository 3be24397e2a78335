"""listener.nlp's imports run one way: no module imports one that imports it back (deferred imports inside
functions count too), and nothing in it reaches a later stage of the flow (store, alerts, delivery, web)."""

from __future__ import annotations

import ast
from pathlib import Path

import listener

PACKAGE = Path(listener.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every listener module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {name for name in found if name.split(".")[0] == "listener"}


def import_graph(folder: Path) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in folder.rglob("*.py")}
    every = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name: {i for i in imports_of(path) if i in every and i != name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_nlp_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE / "nlp")
    assert "listener.nlp.embedded" in graph and "listener.nlp.scoring" in graph["listener.nlp.embedded"]
    assert cycles(graph) == []


def test_nlp_imports_nothing_from_later_stages() -> None:
    """Scoring sits between store and triage/act: it takes texts and returns scores, and knows only the shared
    plain data (listener.domain)."""
    outside = {i for imports in import_graph(PACKAGE / "nlp").values() for i in imports
               if not i.startswith("listener.nlp")}
    assert outside <= {"listener.domain"}, outside
