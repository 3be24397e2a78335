"""How far listener's imports run with the flow: `python -m tests.import_figures [--list]`.

Every module sits on a floor (FLOORS, bottom first: the ground floor, the config types, the stages of the flow in
their order, the faces, the composition root, the runners, the command line). An import arrow from a module to
one on a lower floor runs down the flow; one to a higher floor runs back up. Two roles are floors of their own
wherever the module lives: feature settings (`*.settings`) are config types, command groups (`*.cli`) are the
command line. Prints the module-to-module arrows between floors, how many run back up, and the package pairs
(`listener.<part>`) that import each other; `--list` names them. Uses the import graph of
tests/test_import_graph.py (run-time imports, deferred ones included).
"""

from __future__ import annotations

import sys

from tests.test_import_graph import PACKAGE, import_graph, packages_importing_each_other

FLOORS: list[tuple[str, set[str]]] = [  # bottom to top
    ("ground", {"listener", "listener.domain", "listener.signed_links", "listener.clock", "listener.durations",
                "listener.secrets", "listener.timezones", "listener.text", "listener.logs", "listener.metrics",
                "listener.periodic"}),
    ("config", {"listener.config"}),  # and every `*.settings` module
    ("store", {"listener.store"}),
    ("source", {"listener.sources"}),
    ("match", {"listener.matching"}),
    ("dedup", {"listener.dedup"}),
    ("contacts", {"listener.contacts"}),  # identities linked as mentions are stored
    ("score", {"listener.nlp", "listener.labels"}),
    ("act", {"listener.alerts", "listener.acting"}),
    ("deliver", {"listener.delivery"}),
    ("reply", {"listener.replies"}),  # answers posted to the platforms, through an outbox like alerts
    ("satisfaction", {"listener.surveys"}),  # survey links in replies, answers, sentiment recovery
    ("flow", {"listener.pipeline"}),  # the stages strung together
    ("digest", {"listener.digest"}),
    ("care inbox", {"listener.web"}),
    ("operator", {"listener.ops"}),
    ("app", {"listener.app"}),  # builds the running parts from the settings
    ("runners", {"listener.jobs", "listener.scheduler", "listener.cluster", "listener.daemon"}),
    ("demo", {"listener.demo"}),
    # and every `*.cli` module; config_docs writes docs/config.md from the settings models
    ("command line", {"listener.cli", "listener.commands", "listener.__main__", "listener.config_docs"}),
]
RANK = {prefix: i for i, (_, prefixes) in enumerate(FLOORS) for prefix in prefixes}


def floor(module: str) -> int:
    last = module.rsplit(".", 1)[-1]
    if last == "settings":
        return RANK["listener.config"]
    if last == "cli":
        return RANK["listener.cli"]
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in RANK:
            return RANK[".".join(parts[:n])]
    raise KeyError(f"{module} is on no floor: add its package to FLOORS in {__file__}")


def figures(graph: dict[str, set[str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]],
                                                 list[tuple[str, str]]]:
    """(arrows between floors, those running back up, package pairs importing each other)."""
    arrows = sorted((a, b) for a, targets in graph.items() for b in targets if floor(a) != floor(b))
    up = [(a, b) for a, b in arrows if floor(a) < floor(b)]
    return arrows, up, packages_importing_each_other(graph)


def main(argv: list[str]) -> None:
    arrows, up, mutual = figures(import_graph(PACKAGE))
    print(f"{len(up)} of {len(arrows)} module-to-module arrows between floors run back up; "
          f"{len(mutual)} package pairs import each other")
    if "--list" in argv:
        for a, b in up:
            print(f"  up: {a} -> {b}  ({FLOORS[floor(a)][0]} -> {FLOORS[floor(b)][0]})")
        for a, b in mutual:
            print(f"  mutual: {a} <-> {b}")


if __name__ == "__main__":
    main(sys.argv[1:])
