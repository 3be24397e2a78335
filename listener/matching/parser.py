"""The brand query parser: text → syntax tree, with errors that name the (1-based) position of the problem.

Grammar and operators are documented in docs/matching.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from listener.matching.syntax import And, Node, Not, Or, Term, evaluate
from listener.text import words

MIN_PREFIX = 2  # a wildcard needs at least this many (normalised) characters before the `*`

class QuerySyntaxError(ValueError):
    """A query that does not parse; `position` is 1-based (the first character is position 1)."""

    def __init__(self, message: str, position: int, query: str):
        self.message, self.position, self.query = message, position, query
        super().__init__(f"{message} at position {position} in {query!r}")


@dataclass(frozen=True)
class _Token:
    kind: str  # "(" ")" AND OR NOT WORD PHRASE END
    text: str
    pos: int  # 0-based offset in the query


_OPERATORS = ("AND", "OR", "NOT")


def _tokenise(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(_Token(c, c, i))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError('unclosed quote "', i + 1, query)
            tokens.append(_Token("PHRASE", query[i + 1 : end], i))
            i = end + 1
        elif c == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != ")":
            tokens.append(_Token("NOT", "-", i))  # -word, -"phrase", -(…): shorthand for NOT
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in '()"':
                i += 1
            text = query[start:i]
            if text in _OPERATORS:
                tokens.append(_Token(text, text, start))
            elif text.upper() in _OPERATORS:
                raise QuerySyntaxError(
                    f"write the operator {text.upper()} in capitals, or quote the word (\"{text}\")", start + 1, query
                )
            else:
                tokens.append(_Token("WORD", text, start))
    tokens.append(_Token("END", "", n))
    return tokens


def _chunk_words(chunk: str, offset: int, query: str) -> tuple[list[str], list[bool]]:
    """Normalised words of one whitespace-free chunk; a trailing `*` makes its last word a prefix."""
    star = chunk.find("*")
    if star >= 0 and star != len(chunk) - 1:
        raise QuerySyntaxError("wildcard * is only allowed at the end of a word", offset + star + 1, query)
    body = chunk[:-1] if star >= 0 else chunk
    found = words(body)
    if not found:
        what = "a wildcard needs letters or digits before *" if star >= 0 else f"{chunk!r} has no letters or digits"
        raise QuerySyntaxError(what, offset + 1, query)
    wildcard = [False] * len(found)
    if star >= 0:
        if len(found[-1]) < MIN_PREFIX:
            raise QuerySyntaxError(
                f"a wildcard needs at least {MIN_PREFIX} letters or digits before *", offset + 1, query
            )
        wildcard[-1] = True
    return found, wildcard


def _term(text: str, offset: int, query: str) -> Term:
    """A word or phrase as written (offset: 0-based position of its first character in `query`)."""
    all_words: list[str] = []
    all_wild: list[bool] = []
    for match in re.finditer(r"\S+", text):
        found, wildcard = _chunk_words(match.group(), offset + match.start(), query)
        all_words += found
        all_wild += wildcard
    if not all_words:
        raise QuerySyntaxError("empty phrase", offset, query)
    return Term(tuple(all_words), tuple(all_wild), raw=" ".join(text.split()))


class _Parser:
    """Recursive descent; precedence NOT > AND (also implicit, between adjacent operands) > OR.

    query := or END        or := and ("OR" and)*        and := unary (["AND"] unary)*
    unary := ("NOT" | "-") unary | atom                 atom := "(" or ")" | WORD | PHRASE
    """

    def __init__(self, query: str):
        self.query = query
        self.tokens = _tokenise(query)
        self.i = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message: str, token: _Token) -> QuerySyntaxError:
        return QuerySyntaxError(message, token.pos + 1, self.query)

    def parse(self) -> Node:
        if self.peek.kind == "END":
            raise self.fail("the query is empty", self.peek)
        node = self.or_()
        if self.peek.kind == ")":
            raise self.fail("unexpected ')' without a matching '('", self.peek)
        if self.peek.kind != "END":  # pragma: no cover - every other token starts an operand
            raise self.fail(f"unexpected {self.peek.text!r}", self.peek)
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.peek.kind == "OR":
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.unary()]
        while True:
            if self.peek.kind == "AND":
                self.take()
            elif self.peek.kind not in ("WORD", "PHRASE", "(", "NOT"):
                break
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        if self.peek.kind == "NOT":
            self.take()
            return Not(self.unary())
        return self.atom()

    def atom(self) -> Node:
        token = self.take()
        if token.kind == "WORD":
            return _term(token.text, token.pos, self.query)
        if token.kind == "PHRASE":
            return _term(token.text, token.pos + 1, self.query)
        if token.kind == "(":
            node = self.or_()
            if self.peek.kind != ")":
                found = "the end" if self.peek.kind == "END" else repr(self.peek.text)
                raise self.fail(f"expected ')' to close the '(' at position {token.pos + 1}, found {found}",
                                self.peek)
            self.take()
            return node
        found = "the end of the query" if token.kind == "END" else repr(token.text)
        raise self.fail(f"expected a word, a \"phrase\" or '(', found {found}", token)


@lru_cache(maxsize=4096)
def parse_query(query: str) -> Node:
    """Parse a brand query; raises QuerySyntaxError naming the (1-based) position of the problem.

    A query that would match a text containing none of its words (`NOT spam`, `acme OR NOT x`) is rejected:
    it would claim nearly every mention of every source.
    """
    node = _Parser(query).parse()
    if evaluate(node, ()):
        raise QuerySyntaxError("the query matches texts without any of its words; add a positive term", 1, query)
    return node


@lru_cache(maxsize=4096)
def parse_phrase(text: str) -> Term:
    """An `exclude` entry (or a term): one phrase, written like the inside of a quoted phrase (`*` allowed)."""
    if '"' in text:
        raise QuerySyntaxError('quotes are not needed here: an entry is already one phrase', text.index('"') + 1,
                               text)
    return _term(text, 0, text)


