"""The brand query language's syntax tree and its reference meaning over a text's normalised words.

`evaluate` is simple and slow: the yardstick the compiled matcher (compiler.py) is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    """A word or a phrase: consecutive normalised words; a word with `wildcard` set matches as a prefix."""

    words: tuple[str, ...]
    wildcard: tuple[bool, ...]
    raw: str = field(default="", compare=False)  # as written (for search APIs), without quotes

    def render(self) -> str:
        body = " ".join(w + ("*" if star else "") for w, star in zip(self.words, self.wildcard, strict=True))
        if len(self.words) == 1 and self.words[0] not in ("and", "or", "not"):
            return body
        return f'"{body}"'


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Term | And | Or | Not


def render(node: Node) -> str:
    """The canonical text of a query tree; `parse_query(render(t)) == t`."""
    if isinstance(node, Term):
        return node.render()
    if isinstance(node, Not):
        return "NOT " + _render_operand(node.item)
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(_render_operand(item) for item in node.items)


def _render_operand(node: Node) -> str:
    return render(node) if isinstance(node, Term | Not) else f"({render(node)})"



def _word_matches(word: str, pattern: str, wildcard: bool) -> bool:
    return word.startswith(pattern) if wildcard else word == pattern


def term_matches(term: Term, text_words: Sequence[str]) -> bool:
    n = len(term.words)
    for start in range(len(text_words) - n + 1):
        if all(_word_matches(text_words[start + k], term.words[k], term.wildcard[k]) for k in range(n)):
            return True
    return False


def evaluate(node: Node, text_words: Sequence[str]) -> bool:
    """The meaning of a query over a text's normalised words: simple and slow, the yardstick for the matcher."""
    if isinstance(node, Term):
        return term_matches(node, text_words)
    if isinstance(node, And):
        return all(evaluate(item, text_words) for item in node.items)
    if isinstance(node, Or):
        return any(evaluate(item, text_words) for item in node.items)
    return not evaluate(node.item, text_words)


def positive_terms(node: Node) -> list[Term]:
    """The terms that count *for* a match (not under an odd number of NOTs)."""
    out: list[Term] = []

    def walk(n: Node, negated: bool) -> None:
        if isinstance(n, Term):
            if not negated:
                out.append(n)
        elif isinstance(n, Not):
            walk(n.item, not negated)
        else:
            for item in n.items:
                walk(item, negated)

    walk(node, False)
    return out


