"""Which brands a mention is about: German-aware normalisation, brand terms and boolean brand queries.

A brand (`[[brand]]`, competitors too) is recognised by `terms` (whole phrases), by a `query` in a small boolean
language, or both (either one matching is enough); `exclude` phrases veto a match. Mentions that match no brand
are dropped before storage. See docs/matching.md for the query syntax.

Normalisation (`normalise`, `words`): Unicode NFKC, case folding, ä/ae ö/oe ü/ue ß/ss, accents dropped,
every run of non-letters/digits (hyphens, punctuation, underscores) is a word break. So "ACME-Hotline",
"acme hotline" and "Acme_Hotline" are the same two words, and the term "Acme" matches all of them.

Speed: a text is normalised once; each brand has a few *trigger* words or prefixes, at least one of which must
occur for it to possibly match (e.g. `Acme AND (kündig* OR storno)` triggers on "acme"), so only the few brands
whose triggers occur are evaluated, each compiled once into one Python expression of substring tests on the
space-padded normalised text (bench/bench_matching.py, docs/matching.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.domain import Mention

MIN_PREFIX = 2  # a wildcard needs at least this many (normalised) characters before the `*`


# ----------------------------------------------------------------------------- normalisation
# ASCII bytes: letters/digits lower-cased, everything else a space; bytes >= 128 (UTF-8 of other scripts) kept.
_ASCII_TABLE = bytes(
    (ord(chr(b).lower()) if chr(b).isalnum() else 0x20) if b < 128 else b for b in range(256)
)
_NON_WORD = re.compile(r"[\W_]+")


def _combining_class() -> re.Pattern[str]:
    """All code points with a non-zero canonical combining class (accents left over by NFKD); ~50 ms, once."""
    ranges: list[list[int]] = []
    for cp in range(0x300, 0x110000):
        if unicodedata.combining(chr(cp)):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(f"[{body}]+")


_COMBINING = _combining_class()
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_RUN_CACHE: dict[str, str] = {}


def _fold_run(match: re.Match[str]) -> str:
    """A run of non-ASCII characters (NFKC, case-folded, umlauts spelled out): decomposed, accents dropped,
    anything that is not a letter or digit a space. Runs repeat a lot ("é", "„", "😡"), so they are cached."""
    run = match.group()
    folded = _RUN_CACHE.get(run)
    if folded is None:
        folded = _NON_WORD.sub(" ", _COMBINING.sub("", unicodedata.normalize("NFKD", run)))
        if len(_RUN_CACHE) > 100_000:
            _RUN_CACHE.clear()
        _RUN_CACHE[run] = folded
    return folded


def words(text: str) -> list[str]:
    """The normalised words of a text (see the module docstring); `normalise` joins them with single spaces."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TABLE).decode("ascii").split()
    text = unicodedata.normalize("NFKC", text).casefold()  # casefold: ß and ẞ become "ss"
    text = text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    # ASCII through a byte table; only the runs of other characters (rare after the umlauts) need Unicode work
    text = text.encode("utf-8", "surrogatepass").translate(_ASCII_TABLE).decode("utf-8", "surrogatepass")
    if not text.isascii():
        text = _NON_ASCII_RUN.sub(_fold_run, text)
    return text.split()


def normalise(text: str) -> str:
    """Lower-case, fold umlauts and ß, drop accents, treat hyphens and punctuation as word breaks."""
    return " ".join(words(text))


# ----------------------------------------------------------------------------- query syntax tree
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


# ----------------------------------------------------------------------------- parser
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


# ----------------------------------------------------------------------------- reference semantics
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


# ----------------------------------------------------------------------------- settings
class BrandSettings(BaseModel):
    """`[[brand]]`: a brand (or, with `competitor = true`, a competitor) and how to recognise it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    terms: list[str] = Field(default_factory=list)  # whole phrases, any of them
    query: str | None = None  # boolean query (docs/matching.md); matches if terms OR query match
    exclude: list[str] = Field(default_factory=list)  # phrases (`*` allowed) that veto a match
    competitor: bool = False

    @field_validator("terms")
    @classmethod
    def _terms_not_blank(cls, terms: list[str]) -> list[str]:
        if any(not normalise(t) for t in terms):
            raise ValueError("terms must not be blank")
        return terms

    @field_validator("query")
    @classmethod
    def _query_parses(cls, query: str | None) -> str | None:
        if query is not None:
            try:
                parse_query(query)
            except QuerySyntaxError as exc:
                raise ValueError(str(exc)) from None
        return query

    @field_validator("exclude")
    @classmethod
    def _exclude_parses(cls, exclude: list[str]) -> list[str]:
        for i, entry in enumerate(exclude):
            try:
                parse_phrase(entry)
            except QuerySyntaxError as exc:
                raise ValueError(f"entry {i}: {exc}") from None
        return exclude

    def search_terms(self) -> list[str]:
        """Words and phrases to ask search APIs for (`*` dropped): every mention the brand matches contains one.

        The terms, plus for the query the fewest terms that any match must contain: `Acme AND (kündig* OR
        storno)` asks for "Acme" only, not for every "storno" on the platform. The matcher decides precisely.
        """
        found = list(self.terms)
        if self.query:
            node = parse_query(self.query)
            found += [t.raw.replace("*", "") for t in (_required_terms(node) or positive_terms(node))]
        seen: set[str] = set()
        out = []
        for term in found:
            term = " ".join(term.split())
            if term and normalise(term) not in seen:
                seen.add(normalise(term))
                out.append(term)
        return out


def _required_terms(node: Node) -> list[Term] | None:
    """Terms at least one of which occurs in every match (None: no such list, e.g. under NOT)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return None
    found = [_required_terms(item) for item in node.items]
    if isinstance(node, Or):
        return None if any(f is None for f in found) else [t for f in found if f is not None for t in f]
    known = [f for f in found if f is not None]
    # an AND needs only one operand's terms: the fewest, preferring words without wildcards
    return min(known, key=lambda f: (sum(any(t.wildcard) for t in f), len(f))) if known else None


# ----------------------------------------------------------------------------- compiled matcher
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


def _compile(node: Node) -> Test:
    """The query as one Python function of substring tests (literals written with repr: no injection)."""
    patterns: list[re.Pattern[str]] = []
    code = _code(node, patterns)
    test: Test = eval(f"lambda p: {code}", {"__builtins__": {}, "R": tuple(patterns)})  # noqa: S307
    return test


def _term_trigger(term: Term) -> Trigger:
    exact = [w for w, star in zip(term.words, term.wildcard, strict=True) if not star]
    if exact:
        return ("word", max(exact, key=len))  # the longest word is usually the rarest
    return ("prefix", max(term.words, key=len))


def _triggers(node: Node) -> frozenset[Trigger] | None:
    """Words/prefixes at least one of which must occur for `node` to match; None when there is no such set."""
    if isinstance(node, Term):
        return frozenset([_term_trigger(node)])
    if isinstance(node, Not):
        return None
    found = [_triggers(item) for item in node.items]
    if isinstance(node, Or):
        if any(f is None for f in found):
            return None
        return frozenset().union(*[f for f in found if f is not None])
    known = [f for f in found if f is not None]
    if not known:
        return None
    # any one operand's triggers will do: the fewest (a prefix costs a substring test: counts 1.5)
    return min(known, key=lambda f: sum(1.5 if kind == "prefix" else 1 for kind, _ in f))


@dataclass
class _CompiledBrand:
    name: str
    test: Test
    triggers: frozenset[Trigger] | None


def _phrase_term(text: str) -> Term:
    found = tuple(words(text))
    return Term(found, (False,) * len(found), raw=text)


def _positive_node(brand: BrandSettings) -> Node | None:
    positives: list[Node] = [_phrase_term(t) for t in brand.terms]
    if brand.query:
        positives.append(parse_query(brand.query))
    if not positives:
        return None
    return positives[0] if len(positives) == 1 else Or(tuple(positives))


def brand_node(brand: BrandSettings) -> Node | None:
    """The whole brand as one query tree: (terms OR query) AND NOT (exclude…); None if it has neither."""
    node = _positive_node(brand)
    if node is not None and brand.exclude:
        node = And((node, Not(Or(tuple(parse_phrase(e) for e in brand.exclude)))))
    return node


def compile_brand(brand: BrandSettings) -> _CompiledBrand:
    positive, node = _positive_node(brand), brand_node(brand)
    if positive is None or node is None:  # tied-only brand (review sources): never matched by text
        return _CompiledBrand(brand.name, lambda p: False, frozenset())
    return _CompiledBrand(brand.name, _compile(node), _triggers(positive))


class BrandMatcher:
    """Decides which configured brands a mention is about (in configuration order)."""

    def __init__(self, brands: Iterable[BrandSettings]):
        self.brands = list(brands)
        self._names = {b.name for b in self.brands}
        self._compiled = [compile_brand(b) for b in self.brands]
        always: list[int] = []
        by_word: dict[str, list[int]] = {}
        by_prefix: dict[str, list[int]] = {}
        for i, brand in enumerate(self._compiled):
            if brand.triggers is None:
                always.append(i)
                continue
            for kind, text in brand.triggers:
                (by_word if kind == "word" else by_prefix).setdefault(text, []).append(i)
        self._always = frozenset(always)
        self._by_word = {w: tuple(ids) for w, ids in by_word.items()}
        self._word_keys = frozenset(by_word)
        # one regex finds every trigger prefix that starts a word; longest first, and a match also counts for the
        # shorter prefixes it starts with ("kuendig" is also "kuend")
        self._by_prefix = {p: tuple(sorted({i for q, ids in by_prefix.items() if p.startswith(q) for i in ids}))
                           for p in by_prefix}
        alternatives = "|".join(re.escape(p) for p in sorted(by_prefix, key=len, reverse=True))
        self._prefixes = re.compile(f" ({alternatives})").findall if by_prefix else None

    def brands_for(self, mention: Mention) -> list[str]:
        tied = mention.extra.get("brand")
        if tied:  # review sources and brand-tied feeds: every item is about that brand
            return [tied] if tied in self._names else []
        return self.brands_for_text(mention.full_text)

    def brands_for_text(self, text: str) -> list[str]:
        found = words(text)
        padded = " " + " ".join(found) + " "
        candidates = set(self._always)
        for word in self._word_keys.intersection(found):
            candidates.update(self._by_word[word])
        if self._prefixes is not None:
            for prefix in self._prefixes(padded):
                candidates.update(self._by_prefix[prefix])
        if not candidates:
            return []
        compiled = self._compiled
        return [compiled[i].name for i in sorted(candidates) if compiled[i].test(padded)]
