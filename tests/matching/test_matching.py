"""Normalisation, the brand query language and the compiled matcher (properties with hypothesis)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from listener.config import ConfigError, parse_settings
from listener.domain import Mention
from listener.matching import (
    And,
    BrandMatcher,
    BrandSettings,
    Node,
    Not,
    Or,
    QuerySyntaxError,
    Term,
    brand_node,
    evaluate,
    parse_phrase,
    parse_query,
    render,
)
from listener.text import normalise, words

PROPERTY = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def matches(query: str | Node, text: str) -> bool:
    node = parse_query(query) if isinstance(query, str) else query
    return evaluate(node, words(text))


def brands(text: str, *configured: BrandSettings) -> list[str]:
    return BrandMatcher(configured).brands_for_text(text)


# ----------------------------------------------------------------------------- normalisation
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})


def reference_normalise(text: str) -> str:
    """The original, slow definition: the fast one must agree with it on every text."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


@PROPERTY
@given(st.text())
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_fast_normalisation_agrees_with_the_reference(text: str) -> None:
    assert normalise(text) == reference_normalise(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("Kündigung", "kuendigung"),
    ("KÜNDIGUNG", "kuendigung"),
    ("Kuendigung", "kuendigung"),
    ("Straße", "strasse"),
    ("STRASSE", "strasse"),
    ("GROẞE Größe", "grosse groesse"),
    ("Österreich öffnet", "oesterreich oeffnet"),
    ("Café crème", "cafe creme"),
    ("Acme-Hotline", "acme hotline"),
    ("acme_bank!!!   ACME.de", "acme bank acme de"),
    ("Ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
    ("„Acme“ – ganz schlecht…", "acme ganz schlecht"),
    ("Привет, Acme", "привет acme"),
])
def test_german_folding(text: str, expected: str) -> None:
    assert normalise(text) == expected


# ----------------------------------------------------------------------------- terms (unchanged behaviour)
def test_terms_match_whole_words_with_german_folding() -> None:
    acme = BrandSettings(name="Acme", terms=["Acme Bank", "Müller Straße"])
    assert brands("Die ACME-Bank hat mein Konto gesperrt", acme) == ["Acme"]
    assert brands("acme bank", acme) == ["Acme"]
    assert brands("Mueller Strasse 5", acme) == ["Acme"]
    assert brands("Acme Banking App", acme) == []  # whole words only
    assert brands("Acme hat Banken", acme) == []


def test_hyphenated_compounds_match_their_parts() -> None:
    acme = BrandSettings(name="Acme", terms=["Acme"])
    for text in ("Die Acme-Hotline ist nie erreichbar", "ACME-App-Update kaputt", "#acme_support"):
        assert brands(text, acme) == ["Acme"], text
    assert brands("Acmehotline", acme) == []  # a closed compound is one word: use a wildcard (acme*)
    assert brands("Acmehotline", BrandSettings(name="Acme", query="acme*")) == ["Acme"]


def test_results_keep_configuration_order_and_competitors_are_brands() -> None:
    configured = [
        BrandSettings(name="Acme", terms=["Acme"]),
        BrandSettings(name="Globex", query="Globex OR \"Globex Corp\"", competitor=True),
        BrandSettings(name="Initech", terms=["Initech"], competitor=True),
    ]
    assert BrandMatcher(configured).brands_for_text("Initech vs globex vs acme") == ["Acme", "Globex", "Initech"]


def test_review_sources_tie_mentions_to_their_brand() -> None:
    matcher = BrandMatcher([BrandSettings(name="Acme", terms=["Acme"], exclude=["nothing*"])])
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def mention(text: str, **extra: str) -> Mention:
        return Mention("appstore", "app", "1", text, now, extra=dict(extra))

    assert matcher.brands_for(mention("nothing to do with it", brand="Acme")) == ["Acme"]
    assert matcher.brands_for(mention("acme", brand="Unknown")) == []
    assert matcher.brands_for(mention("acme rocks")) == ["Acme"]


# ----------------------------------------------------------------------------- the query language
@pytest.mark.parametrize(("query", "text", "expected"), [
    ("Acme AND Hotline", "Die Acme-Hotline ist tot", True),
    ("Acme Hotline", "hotline von acme", True),  # adjacent terms: implicit AND, any order
    ('"Acme Hotline"', "hotline von acme", False),  # a phrase: these words in this order
    ('"Acme Hotline"', "Die ACME-Hotline!", True),
    ("Acme OR Globex", "nur globex hier", True),
    ("Acme NOT Globex", "acme und globex", False),
    ("Acme -Globex", "acme allein", True),
    ("Acme AND NOT (Globex OR Initech)", "acme und initech", False),
    ("Acme AND (kündig* OR storno)", "Ich habe ACME gekündigt", False),  # prefix = start of a word
    ("Acme AND (kündig* OR storno)", "Kündigung an Acme geschickt", True),
    ("Acme AND (kuendig* OR storno)", "KÜNDIGUNG an Acme", True),
    ('"acme kund*"', "Acme Kundenservice", True),
    ('"acme* service"', "acmebank service", True),
    ('"acme* service"', "acmebank kundenservice", False),
    ("Straße", "Hauptstrasse", False),
    ("strasse", "Mueller Strasse", True),
    ("Acme OR Globex Initech", "globex", False),  # AND binds tighter than OR
    ("Acme OR Globex Initech", "initech globex", True),
    ('"and"', "you and me", True),
])
def test_query_semantics(query: str, text: str, expected: bool) -> None:
    assert matches(query, text) is expected
    assert (brands(text, BrandSettings(name="B", query=query)) == ["B"]) is expected


@pytest.mark.parametrize(("query", "position", "fragment"), [
    ("", 1, "empty"),
    ("Acme AND", 9, "found the end"),
    ("Acme AND OR x", 10, "found 'OR'"),
    ("(Acme OR Globex", 16, "expected ')'"),
    ("Acme) OR x", 5, "unexpected ')'"),
    ('Acme "Hot line', 6, "unclosed quote"),
    ("Acme or Globex", 6, "capitals"),
    ("ku*nd", 3, "only allowed at the end"),
    ("Acme k*", 6, "at least 2"),
    ("Acme &&", 6, "no letters or digits"),
    ('Acme ""', 6, "empty phrase"),
    ("NOT Globex", 1, "without any of its words"),
    ("Acme OR NOT Globex", 1, "without any of its words"),
    ("()", 2, "found ')'"),
])
def test_a_query_that_does_not_parse_names_the_position(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.position == position, info.value
    assert fragment in str(info.value)
    assert f"at position {position}" in str(info.value)


def test_config_rejects_a_bad_query_naming_the_key_and_position() -> None:
    raw = {"brand": [{"name": "Acme", "terms": ["Acme"]},
                     {"name": "Globex", "query": "Globex AND (Hotline OR", "competitor": True}]}
    with pytest.raises(ConfigError) as info:
        parse_settings(raw)
    problems = dict(info.value.problems)
    assert "brand[1].query" in problems, problems
    assert "at position 23" in problems["brand[1].query"]
    raw["brand"][1] = {"name": "Globex", "query": "Globex", "exclude": ["ok", "bad*word"]}
    with pytest.raises(ConfigError) as info:
        parse_settings(raw)
    assert "entry 1" in dict(info.value.problems)["brand[1].exclude"]


def test_exclude_vetoes_a_match() -> None:
    acme = BrandSettings(name="Acme", terms=["Acme"], query='"Acme Corp"', exclude=["Road Runner", "wile*"])
    assert brands("Acme Corp support is slow", acme) == ["Acme"]
    assert brands("Acme rocket skates, Road-Runner cartoon", acme) == []
    assert brands("Wile E. Coyote orders from ACME", acme) == []
    assert brands("acme roadrunner", acme) == ["Acme"]  # whole words: "roadrunner" is not "road runner"
    assert parse_phrase("Road Runner") == Term(("road", "runner"), (False, False))


def test_terms_and_query_either_one_matches() -> None:
    acme = BrandSettings(name="Acme", terms=["Acme Bank"], query="acmepay AND app")
    assert brands("acme bank", acme) == ["Acme"]
    assert brands("acmepay app down", acme) == ["Acme"]
    assert brands("acmepay", acme) == []


def test_search_terms_for_search_apis() -> None:
    brand = BrandSettings(name="Acme", terms=["Acme Bank"], query='Acme AND (kündig* OR "Acme-Hotline") NOT spam')
    assert brand.search_terms() == ["Acme Bank", "Acme"]  # every match contains one of them
    brand = BrandSettings(name="Acme", query='acmepay OR (kündig* AND "Acme Bank") OR Acme-Hotline')
    assert brand.search_terms() == ["acmepay", "Acme Bank", "Acme-Hotline"]


# ----------------------------------------------------------------------------- properties
VOCABULARY = ["acme", "bank", "kuendigung", "kund", "kunde", "hotline", "strasse", "globex", "app", "and"]
SURFACE = {  # ways the vocabulary is written in real texts
    "acme": ["Acme", "ACME", "acme"], "bank": ["Bank", "bank"], "kuendigung": ["Kündigung", "KUENDIGUNG"],
    "kund": ["kund"], "kunde": ["Kunde", "kunden"], "hotline": ["Hotline", "-Hotline"],
    "strasse": ["Straße", "STRASSE"], "globex": ["Globex"], "app": ["App", "app."], "and": ["and"],
}

word_strategy = st.sampled_from(VOCABULARY)


@st.composite
def terms(draw: st.DrawFn) -> Term:
    found = tuple(draw(st.lists(word_strategy, min_size=1, max_size=3)))
    wildcard = tuple(draw(st.lists(st.booleans(), min_size=len(found), max_size=len(found))))
    return Term(found, wildcard)


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Not, children),
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
    )


queries = st.recursive(terms(), extend, max_leaves=6)


@st.composite
def texts(draw: st.DrawFn) -> str:
    chosen = draw(st.lists(word_strategy, max_size=8))
    separators = draw(st.lists(st.sampled_from([" ", ", ", "-", "! ", "\n", " … "]), min_size=len(chosen),
                               max_size=len(chosen)))
    out = ""
    for word, sep in zip(chosen, separators, strict=True):
        out += draw(st.sampled_from(SURFACE[word])) + sep
    return out


@PROPERTY
@given(queries, queries, texts())
def test_and_is_a_subset_of_each_operand(a: Node, b: Node, text: str) -> None:
    if matches(And((a, b)), text):
        assert matches(a, text) and matches(b, text)


@PROPERTY
@given(queries, queries, texts())
def test_each_operand_is_a_subset_of_or(a: Node, b: Node, text: str) -> None:
    if matches(a, text):
        assert matches(Or((a, b)), text) and matches(Or((b, a)), text)


@PROPERTY
@given(queries, texts())
def test_not_and_its_operand_partition_the_texts(a: Node, text: str) -> None:
    assert matches(a, text) != matches(Not(a), text)


@PROPERTY
@given(queries)
def test_render_and_parse_round_trip(node: Node) -> None:
    assume(not evaluate(node, ()))  # pure negations are rejected by design
    assert parse_query(render(node)) == node


@PROPERTY
@given(st.text(alphabet='ab"()* -ANDORT', max_size=20))
def test_any_input_parses_or_fails_with_a_position_inside_it(query: str) -> None:
    try:
        parse_query(query)
    except QuerySyntaxError as exc:
        assert 1 <= exc.position <= len(query) + 1


@PROPERTY
@given(st.lists(queries, min_size=1, max_size=6), st.lists(st.lists(terms(), max_size=2), min_size=6, max_size=6),
       st.lists(texts(), min_size=1, max_size=5))
def test_compiled_matcher_agrees_with_the_reference_semantics(
    configured: list[Node], excludes: list[list[Term]], sample: list[str]
) -> None:
    brands_ = []
    for i, node in enumerate(configured):
        if evaluate(node, ()):
            continue
        exclude = [" ".join(w + ("*" if s else "") for w, s in zip(t.words, t.wildcard, strict=True))
                   for t in excludes[i]]
        exclude = [e for e in exclude if all(len(w) >= 2 for w in e.split())]
        brands_.append(BrandSettings(name=f"b{i}", query=render(node), exclude=exclude))
    matcher = BrandMatcher(brands_)
    for text in sample:
        expected = [b.name for b in brands_ if evaluate(brand_node(b), words(text))]  # type: ignore[arg-type]
        assert matcher.brands_for_text(text) == expected


@PROPERTY
@given(queries, texts())
def test_every_match_contains_one_of_the_search_terms(node: Node, text: str) -> None:
    from listener.matching import term_matches
    from listener.matching.brands import _required_terms

    required = _required_terms(node)
    if required is not None and evaluate(node, words(text)):
        assert any(term_matches(term, words(text)) for term in required)
