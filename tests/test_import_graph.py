"""listener's imports run one way: no module imports one that imports it back (deferred imports inside functions
count too; imports only for type checkers do not), and the scorer reaches no later stage of the flow."""

from __future__ import annotations

import ast
from pathlib import Path

import listener

PACKAGE = Path(listener.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (annotations only: never imported at run time)."""
    found: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        todo.extend(child for child in ast.iter_child_nodes(node) if not _is_type_checking(child))
    return found


def imports_of(path: Path) -> set[str]:
    """Every listener module `path` imports at run time, at the top or inside a function."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
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


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert "listener.cli" in graph and "listener.commands" in graph["listener.digest.cli"]
    assert cycles(graph) == []


def test_imports_under_type_checking_do_not_count(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nimport listener.a\nif TYPE_CHECKING:\n    import listener.b\n"
                      "def f():\n    import listener.c\n")
    assert imports_of(module) == {"listener.a", "listener.c"}


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


FAN_IN = {"listener", "listener.domain", "listener.text", "listener.clock", "listener.durations", "listener.secrets"}
EARLY_STAGES = {  # each stage of the flow, and what before it (or beside it) it may use
    "listener.text": set(),
    "listener.matching": set(),
    "listener.sources": set(),
    "listener.store": set(),
    "listener.dedup": {"listener.store.models"},
    "listener.nlp": set(),
}


def imports_leaving(prefix: str, graph: dict[str, set[str]]) -> set[str]:
    inside = (prefix, prefix + ".")
    return {i for module, imports in graph.items() if module == prefix or module.startswith(prefix + ".")
            for i in imports if not (i == prefix or i.startswith(inside[1]))}


def test_early_stages_import_nothing_from_later_ones() -> None:
    """Poll, normalise, match, dedup, store and score know nothing of alerts, delivery, digest, web or ops."""
    graph = import_graph(PACKAGE)
    for stage, allowed in EARLY_STAGES.items():
        assert imports_leaving(stage, graph) <= FAN_IN | allowed, stage


ABOVE_THE_FLOW = {"listener.ops", "listener.cluster", "listener.cli", "listener.web", "listener.digest"}


def test_acting_and_the_pipeline_import_nothing_above_the_flow() -> None:
    """Act, deliver and the pipeline that strings the stages together run inside the daemon's jobs: what they share
    with the operator's surface (metrics, claims) or the runners (periodic jobs) lives below them."""
    graph = import_graph(PACKAGE)
    for part in ("listener.acting", "listener.delivery", "listener.pipeline"):
        leaving = imports_leaving(part, graph)
        assert not {i for i in leaving if any(i == p or i.startswith(p + ".") for p in ABOVE_THE_FLOW)}, part


def package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def packages_importing_each_other(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of packages (`listener.<part>` folders) each of which imports a module of the other."""
    packages = {package(m) for m in graph if m.count(".") >= 2}
    pairs = {(package(a), package(b)) for a, targets in graph.items() for b in targets
             if package(a) != package(b) and package(a) in packages and package(b) in packages}
    return sorted((a, b) for a, b in pairs if a < b and (b, a) in pairs)


def test_the_pair_finder_finds_a_pair() -> None:
    graph = {"listener.a.x": {"listener.b.y"}, "listener.b.y": set(), "listener.b.z": {"listener.a.x"},
             "listener.c.w": {"listener.a.x"}}
    assert packages_importing_each_other(graph) == [("listener.a", "listener.b")]


def test_no_two_packages_import_each_other() -> None:
    """A package's modules may use each other freely; between packages, the arrows go one way."""
    assert packages_importing_each_other(import_graph(PACKAGE)) == []
