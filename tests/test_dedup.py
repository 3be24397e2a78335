"""Exact and near-duplicate copies are linked to one canonical mention, in a real SQLite store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text

from listener.clock import FakeClock
from listener.dedup import (
    THRESHOLD,
    _full_text,
    band_keys,
    dedup_words,
    jaccard,
    shingles,
)
from listener.domain import Batch, Mention
from listener.matching import BrandMatcher, BrandSettings
from listener.pipeline import poll_source
from listener.sources.kit import HttpFetcher, HttpSettings, Source, SourceContext, SourceSettings
from listener.store.engine import Store, alembic_config, upgrade
from listener.store.models import MentionRow, NearDupKey

BRANDS = [BrandSettings(name="Acme", terms=["Acme", "Acme Bank"])]

# Realistic pairs: (first, second, is the second a copy of the first?). docs/matching.md shows their similarity.
PAIRS: dict[str, tuple[str, str, bool]] = {
    "tweet, other short link + via @x": (
        "Die Acme App stürzt seit dem letzten Update bei jedem Start ab, Support antwortet nicht. Bitte fixen! "
        "https://t.co/AbC123",
        "Die Acme App stürzt seit dem letzten Update bei jedem Start ab, Support antwortet nicht. Bitte fixen! "
        "https://t.co/XyZ987 via @techblog_de", True),
    "retweet prefix": (
        "Acme just lost my parcel for the third time this month and the hotline hangs up on me every time I call.",
        "RT @angrycustomer: Acme just lost my parcel for the third time this month and the hotline hangs up on me "
        "every time I call.", True),
    "syndicated news, other footer": (
        "Acme Bank hat am Montag einen mehrstündigen Ausfall ihres Onlinebankings bestätigt. Kunden konnten sich "
        "nicht anmelden und keine Überweisungen ausführen. Ein Sprecher sagte, die Ursache sei ein fehlerhaftes "
        "Software-Update gewesen, inzwischen laufe alles wieder. Mehr dazu auf acme-news.de",
        "Acme Bank hat am Montag einen mehrstündigen Ausfall ihres Onlinebankings bestätigt. Kunden konnten sich "
        "nicht anmelden und keine Überweisungen ausführen. Ein Sprecher sagte, die Ursache sei ein fehlerhaftes "
        "Software-Update gewesen, inzwischen laufe alles wieder. (dpa) Copyright 2026 Regionalzeitung. Alle Rechte "
        "vorbehalten.", True),
    "edited repost (typo fixed, words added)": (
        "Ordered a blender from Acme two weeks ago, still not delivered and the tracking page has said 'in transit' "
        "for nine days. Anyone else?",
        "Ordered a blender from Acme 2 weeks ago, still not delivered and the tracking page has said 'in transit' "
        "for nine days now. Anyone else having this?", True),
    "reddit cross-post marker": (
        "Acme kündigt meinen Vertrag ohne Grund und verlangt trotzdem noch drei Monatsbeiträge. Was kann ich tun?",
        "[x-post r/de] Acme kündigt meinen Vertrag ohne Grund und verlangt trotzdem noch drei Monatsbeiträge. "
        "Was kann ich tun?", True),
    "two customers, same outage": (
        "Die Acme App stürzt seit dem letzten Update bei jedem Start ab, Support antwortet nicht.",
        "Seit dem Update heute morgen stürzt die Acme App bei mir dauernd ab. Neu installieren hilft auch nicht.",
        False),
    "same template, other order and details": (
        "Hello Acme, my order 48213 has not arrived after 14 days and nobody answers my emails. Please help.",
        "Hello Acme, my order 99120 has not arrived after 21 days and nobody answers my calls. Please help.", False),
    "blog post quoting the news": (
        "Acme Bank hat am Montag einen mehrstündigen Ausfall ihres Onlinebankings bestätigt. Kunden konnten sich "
        "nicht anmelden und keine Überweisungen ausführen.",
        "Was für ein Montag: Acme Bank hat am Montag einen mehrstündigen Ausfall ihres Onlinebankings bestätigt. "
        "Ich finde das peinlich für eine Bank dieser Größe, zumal das schon der dritte Ausfall in diesem Jahr ist "
        "und niemand erklärt, was eigentlich schiefläuft. Wer wechselt mit?", False),
    "reply quoting its parent": (
        "Acme customer service is the worst, waited 2 hours on the phone today.",
        "> Acme customer service is the worst, waited 2 hours on the phone today.\nHonestly my experience was the "
        "opposite, they called me back within ten minutes and fixed it.", False),
}


class ListSource(Source):
    """Returns whatever the test puts in `items` (a stand-in for any platform)."""

    kind = "list"
    settings_model = SourceSettings

    def __init__(self, name: str, clock: FakeClock):
        super().__init__(SourceSettings(name=name, kind="list"), SourceContext(http=HttpFetcher(HttpSettings()),
                                                                               brands=BRANDS, clock=clock))
        self.items: list[Mention] = []

    def poll(self, cursor: dict[str, Any]) -> Batch:
        return Batch(items=list(self.items), next_cursor={"n": len(self.items)})


@pytest.fixture
def sources(clock: FakeClock) -> dict[str, ListSource]:
    return {name: ListSource(name, clock) for name in ("forum", "news", "reddit")}


def post(source: ListSource, external_id: str, body: str, clock: FakeClock, title: str | None = None) -> None:
    source.items = [Mention(source.kind, source.name, external_id, body, clock.now(), title=title,
                            url=f"https://example.org/{source.name}/{external_id}")]


def store_one(store: Store, source: ListSource, external_id: str, body: str, clock: FakeClock,
              title: str | None = None) -> MentionRow:
    post(source, external_id, body, clock, title)
    report = poll_source(store, source, BrandMatcher(BRANDS), clock)
    assert report.stored == 1, report
    with store.read() as session:
        row = session.scalar(select(MentionRow).where(MentionRow.external_id == external_id))
        assert row is not None
        return row


def test_a_near_duplicate_gets_the_canonical_id_of_the_first(store: Store, sources: dict[str, ListSource],
                                                              clock: FakeClock) -> None:
    first, copy, _ = PAIRS["syndicated news, other footer"]
    original = store_one(store, sources["news"], "n1", first, clock)
    clock.advance(timedelta(hours=3))
    syndicated = store_one(store, sources["forum"], "f1", copy, clock)
    other = store_one(store, sources["reddit"], "r1", PAIRS["two customers, same outage"][0], clock)
    assert original.canonical_id is None
    assert syndicated.canonical_id == original.id
    assert other.canonical_id is None  # a different story
    with store.read() as session:  # the copy stays stored and searchable
        assert session.scalar(select(func.count()).select_from(MentionRow)) == 3
        keyed = set(session.scalars(select(NearDupKey.mention_id).distinct()))
    assert keyed == {original.id, other.id}  # only canonical mentions are indexed


def test_copy_of_a_copy_points_at_the_first(store: Store, sources: dict[str, ListSource], clock: FakeClock) -> None:
    first, copy, _ = PAIRS["tweet, other short link + via @x"]
    original = store_one(store, sources["forum"], "a", first, clock)
    assert store_one(store, sources["news"], "b", copy, clock).canonical_id == original.id
    assert store_one(store, sources["reddit"], "c", "RT @x: " + copy, clock).canonical_id == original.id


@pytest.mark.parametrize("name", list(PAIRS))
def test_realistic_pairs(name: str, store: Store, sources: dict[str, ListSource], clock: FakeClock) -> None:
    first, second, is_copy = PAIRS[name]
    original = store_one(store, sources["forum"], "1", first, clock)
    clock.advance(timedelta(minutes=40))
    other = store_one(store, sources["news"], "2", second, clock)
    assert (other.canonical_id == original.id) is is_copy
    similarity = jaccard(shingles(dedup_words(first)), shingles(dedup_words(second)))
    assert (similarity >= THRESHOLD) is is_copy


def test_copies_in_one_batch_and_exact_copies(store: Store, sources: dict[str, ListSource], clock: FakeClock) -> None:
    first, copy, _ = PAIRS["retweet prefix"]
    source = sources["forum"]
    source.items = [Mention("list", "forum", str(i), body, clock.now()) for i, body in
                    enumerate([first, copy, first.upper(), "Acme rocks"])]
    assert poll_source(store, source, BrandMatcher(BRANDS), clock).stored == 4
    with store.read() as session:
        rows = {r.external_id: r for r in session.scalars(select(MentionRow))}
    assert rows["0"].canonical_id is None
    assert rows["1"].canonical_id == rows["0"].id
    assert rows["2"].canonical_id == rows["0"].id  # same normalised text: the content hash
    assert rows["3"].canonical_id is None


def test_short_texts_are_only_linked_when_identical(store: Store, sources: dict[str, ListSource],
                                                    clock: FakeClock) -> None:
    a = store_one(store, sources["forum"], "a", "Acme app down again?", clock)
    assert store_one(store, sources["news"], "b", "Acme app down again??? 😡", clock).canonical_id == a.id
    assert store_one(store, sources["reddit"], "c", "Acme app down again today?", clock).canonical_id is None


def test_the_same_words_weeks_later_are_a_new_story(store: Store, sources: dict[str, ListSource],
                                                    clock: FakeClock) -> None:
    first, copy, _ = PAIRS["edited repost (typo fixed, words added)"]
    original = store_one(store, sources["forum"], "1", first, clock)
    clock.advance(timedelta(days=13))
    assert store_one(store, sources["news"], "2", copy, clock).canonical_id == original.id
    clock.advance(timedelta(days=2))
    late = store_one(store, sources["reddit"], "3", copy, clock)
    assert late.canonical_id is None
    clock.advance(timedelta(days=1))
    assert store_one(store, sources["news"], "4", first, clock).canonical_id == late.id


def test_title_counts_like_full_text(store: Store, sources: dict[str, ListSource], clock: FakeClock) -> None:
    body = "Seit Tagen ist die Hotline nicht erreichbar und im Chat antwortet auch niemand mehr, echt frustrierend."
    original = store_one(store, sources["forum"], "1", body, clock, title="Acme Bank Hotline tot")
    assert store_one(store, sources["news"], "2", "Acme Bank Hotline tot\n" + body, clock).canonical_id == original.id


def test_lookup_uses_the_index(store: Store) -> None:
    with store.read() as session:
        plan = " ".join(str(r[-1]) for r in session.execute(text(
            "EXPLAIN QUERY PLAN SELECT mention_id, count(*) FROM near_dup_keys WHERE band_key IN (1, 2, 3) "
            "GROUP BY mention_id")))
    assert "SEARCH near_dup_keys USING PRIMARY KEY (band_key=?)" in plan, plan


def test_deleting_a_mention_deletes_its_keys(store: Store, sources: dict[str, ListSource], clock: FakeClock) -> None:
    row = store_one(store, sources["forum"], "1", PAIRS["retweet prefix"][0], clock)
    with store.write() as session:
        assert (session.scalar(select(func.count()).select_from(NearDupKey)) or 0) > 0
        session.execute(delete(MentionRow).where(MentionRow.id == row.id))
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(NearDupKey)) == 0


def test_migration_0002_goes_down_and_up(store: Store) -> None:
    command.downgrade(alembic_config(store), "0001")
    with store.read() as session:
        assert session.execute(text("SELECT name FROM sqlite_master WHERE name = 'near_dup_keys'")).first() is None
    upgrade(store)
    assert store.is_current()


def test_band_keys_are_stable() -> None:
    """Keys are stored: any change to shingling or hashing would silently stop old mentions matching."""
    keys = band_keys(dedup_words(PAIRS["retweet prefix"][0]))
    assert len(keys) == 20 and len(set(keys)) == 20
    assert keys[:2] == STABLE_KEYS, keys[:2]
    assert band_keys(dedup_words(PAIRS["retweet prefix"][1])) == keys  # "RT @x:" is decoration
    assert band_keys(["acme"] * 7) == []  # too short


STABLE_KEYS = [4016106769936536432, -6434584436495562810]


@given(st.one_of(st.none(), st.text(max_size=20)), st.text(max_size=40))
def test_row_text_is_the_mention_full_text(title: str | None, body: str) -> None:
    from datetime import UTC, datetime

    mention = Mention("x", "x", "1", body, datetime(2026, 1, 1, tzinfo=UTC), title=title)
    assert _full_text(title, body) == mention.full_text
