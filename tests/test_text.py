"""listener.text: one normalisation per mention, whose views agree with normalising each piece separately."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listener import text as text_module
from listener.clock import FakeClock
from listener.dedup import _RELAY, _URL, DECORATION, content_hash, dedup_words, mention_text
from listener.matching import BrandMatcher
from listener.pipeline import poll_source
from listener.store.engine import Store
from listener.text import analyse, normalise, words
from tests.test_dedup import BRANDS, ListSource, post

PROPERTY = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)

# Texts built from the pieces that make cuts interesting: URLs glued to words, relay markers, umlauts, accents.
_PIECES = st.sampled_from([
    "Acme", "acme-Hotline", " ", "  ", "\n", "https://t.co/x1", "www.acme.de/a?b=c", "RT @kunde:", "via @blog",
    "[x-post r/de]", "xposted from r/x", "ä", "Ö", "ß", "é", "e\u0301", "\u0301", "ﬁ", "😡", "—", "_", "1½",
    "h/t @x", "Straße", "kündigen", ".", ",", "(", ")", "abc", "ht @y",
])
TEXTS = st.one_of(st.text(), st.lists(_PIECES, max_size=14).map("".join),
                  st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=10).map("".join))


@PROPERTY
@given(TEXTS)
def test_all_words_are_the_words_of_the_whole_text(sample: str) -> None:
    assert list(analyse(sample, DECORATION).words) == words(sample)


@PROPERTY
@given(TEXTS)
def test_kept_words_are_the_words_with_decoration_replaced_by_spaces(sample: str) -> None:
    # the definition near-duplicate keys were always computed with: URLs out first, then relay markers
    assert list(dedup_words(sample)) == words(_RELAY.sub(" ", _URL.sub(" ", sample)))


@PROPERTY
@given(TEXTS)
def test_content_hash_is_the_digest_of_the_normalised_text(sample: str) -> None:
    assert mention_text(sample).normalised == normalise(sample)
    assert content_hash(sample) == text_module.digest(normalise(sample))


def test_a_cut_inside_a_word_falls_back_to_the_whole_text() -> None:
    glued = "Kontoabschlusshttps://acme.de/x fehlt"  # the URL pattern starts inside a word
    assert list(analyse(glued, (re.compile(r"https?://\S+"),)).words) == words(glued)
    assert analyse(glued, (re.compile(r"https?://\S+"),)).kept_words == ("kontoabschluss", "fehlt")


def test_a_polled_mention_is_normalised_once(store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Matching, the content hash, the near-duplicate lookup and the insert hook share one normalisation."""
    calls: list[str] = []
    real_words = text_module.words

    def counting_words(value: str) -> list[str]:
        calls.append(value)
        return real_words(value)

    monkeypatch.setattr(text_module, "words", counting_words)
    analyse.cache_clear()
    source = ListSource("forum", clock)
    body = ("Die Acme App stürzt seit dem letzten Update bei jedem Start ab, Support antwortet nicht. "
            "Bitte fixen! https://t.co/AbC123 via @techblog_de")
    post(source, "1", body, clock)
    report = poll_source(store, source, BrandMatcher(BRANDS), clock)
    assert report.stored == 1
    # the pieces between the decoration's edges, each once: every character of the text normalised exactly once
    assert "".join(calls) == body
    assert len(calls) <= 5
