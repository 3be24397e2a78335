"""Which brands a mention is about: brand settings and the matcher that applies them.

A brand (`[[brand]]`, competitors too) is recognised by `terms` (whole phrases), by a `query` in a small boolean
language, or both (either one matching is enough); `exclude` phrases veto a match. Mentions that match no brand
are dropped before storage. See docs/matching.md for the query syntax.

A text is normalised once (listener/text.py); only the brands whose trigger words occur are evaluated, each
compiled once into one Python expression of substring tests on the space-padded normalised text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.domain import Mention
from listener.matching.compiler import Test, Trigger, compile_query, triggers
from listener.matching.parser import QuerySyntaxError, parse_phrase, parse_query
from listener.matching.syntax import And, Node, Not, Or, Term, positive_terms
from listener.text import AnalysedText, normalise, words


class BrandSettings(BaseModel):
    """`[[brand]]`: a brand (or, with `competitor = true`, a competitor) and how to recognise it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1,
                      description="The brand's name, as rules, spikes, the digest and sources refer to it; unique.")
    terms: list[str] = Field(default_factory=list,
                             description="Whole words or phrases, any of which matches (no operators, no wildcards).")
    query: str | None = Field(default=None,
                              description="A boolean query (AND, OR, NOT, parentheses, \"phrases\", prefix*; "
                                          "docs/matching.md); the brand matches when its terms or its query match.")
    exclude: list[str] = Field(default_factory=list, description="Phrases (`*` allowed) that veto a match.")
    competitor: bool = Field(default=False,
                             description="true: a competitor, counted for share of voice but not reported as an own "
                                         "brand.")

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
    return _CompiledBrand(brand.name, compile_query(node), triggers(positive))


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

    def brands_for(self, mention: Mention, text: AnalysedText | None = None) -> list[str]:
        """The brands `mention` is about; `text`: its full text already analysed (the pipeline's one pass)."""
        tied = mention.extra.get("brand")
        if tied:  # review sources and brand-tied feeds: every item is about that brand
            return [tied] if tied in self._names else []
        return self.brands_for_words(text.words if text is not None else words(mention.full_text))

    def brands_for_text(self, text: str) -> list[str]:
        return self.brands_for_words(words(text))

    def brands_for_words(self, found: Sequence[str]) -> list[str]:
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
