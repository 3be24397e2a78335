"""Brand queries compiled for speed: one Python expression of substring tests per brand, plus trigger words.

Each brand has a few *trigger* words or prefixes, at least one of which must occur for it to possibly match
(e.g. `Acme AND (kündig* OR storno)` triggers on "acme"), so the matcher evaluates only the few brands whose
triggers occur (bench/bench_matching.py, docs/matching.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from listener.matching.syntax import And, Node, Not, Or, Term

Test = Callable[[str], bool]  # " padded normalised text " -> bool
Trigger = tuple[str, str]  # ("word", w) or ("prefix", p)


def _term_code(term: Term, patterns: list[re.Pattern[str]]) -> str:
    if len(term.words) == 1 and not term.wildcard[0]:
        return f"({' ' + term.words[0] + ' '!r} in p)"
    if not any(term.wildcard[:-1]):  # exact phrase, maybe ending in a prefix: one substring test
        needle = " " + " ".join(term.words) + ("" if term.wildcard[-1] else " ")
        return f"({needle!r} in p)"
    parts = [re.escape(w) + ("[^ ]*" if star else "") for w, star in zip(term.words, term.wildcard, strict=True)]
    patterns.append(re.compile(" " + " ".join(parts) + " "))
    return f"(R[{len(patterns) - 1}].search(p) is not None)"


def _code(node: Node, patterns: list[re.Pattern[str]]) -> str:
    """A Python expression over `p`, the normalised text padded with a space at each end."""
    if isinstance(node, Term):
        return _term_code(node, patterns)
    if isinstance(node, Not):
        return f"(not {_code(node.item, patterns)})"
    joiner = " and " if isinstance(node, And) else " or "
    return "(" + joiner.join(_code(item, patterns) for item in node.items) + ")"


def compile_query(node: Node) -> Test:
    """The query as one Python function of substring tests (literals written with repr: no injection)."""
    patterns: list[re.Pattern[str]] = []
    code = _code(node, patterns)
    test: Test = eval(f"lambda p: {code}", {"__builtins__": {}, "R": tuple(patterns)})  # noqa: S307
    return test


def term_trigger(term: Term) -> Trigger:
    exact = [w for w, star in zip(term.words, term.wildcard, strict=True) if not star]
    if exact:
        return ("word", max(exact, key=len))  # the longest word is usually the rarest
    return ("prefix", max(term.words, key=len))


def triggers(node: Node) -> frozenset[Trigger] | None:
    """Words/prefixes at least one of which must occur for `node` to match; None when there is no such set."""
    if isinstance(node, Term):
        return frozenset([term_trigger(node)])
    if isinstance(node, Not):
        return None
    found = [triggers(item) for item in node.items]
    if isinstance(node, Or):
        if any(f is None for f in found):
            return None
        return frozenset().union(*[f for f in found if f is not None])
    known = [f for f in found if f is not None]
    if not known:
        return None
    # any one operand's triggers will do: the fewest (a prefix costs a substring test: counts 1.5)
    return min(known, key=lambda f: sum(1.5 if kind == "prefix" else 1 for kind, _ in f))
