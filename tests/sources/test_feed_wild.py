"""Every feed under ../shared/wild/feeds (feedparser's own test corpus, well- and ill-formed, plus real-world feeds
collected by rss-parser) served over local HTTP and polled by the feed source through the real pipeline.

Each feed either yields its entries or raises a typed SourceError (BadPayload for "not a feed") — never another
exception; feeds that feedparser flags as malformed ("bozo") but still parses keep every entry. The polls run
through `poll_source` into a real SQLite store, and the store never holds half a batch: a source's cursor moves
only together with its mentions. feedparser's test files carry their intended HTTP headers in a `Header:` comment;
their Content-Type is served. The real-world feeds are also served with a newline before `<?xml` (a common real
defect that makes feedparser set bozo) and must keep every entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from sqlalchemy import func, select

from listener.clock import FakeClock
from listener.demo.servers import FeedServer
from listener.domain import Batch, Mention
from listener.matching import BrandMatcher, BrandSettings
from listener.pipeline import poll_source
from listener.sources.feed import FeedSettings, FeedSource, entry_text, json_feed
from listener.sources.kit import BadPayload, HttpFetcher, HttpSettings, SourceContext, SourceError, html_to_text
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow, SourceHealth, SourceRow
from listener.text import AnalysedText
from tests.wild import wild_path

CHUNKS = 6
HEADER = re.compile(rb"^Header:\s+([A-Za-z][A-Za-z0-9-]*):(.*)$", re.MULTILINE)
ITEM_TAG = re.compile(rb"<(?:item|entry)[\s>/]")
DEFAULT_TYPES = {".json": "application/json", ".atom": "application/atom+xml", ".rss": "application/rss+xml"}
BRANDS = [BrandSettings(name="Acme", terms=["acme"])]


@dataclass(frozen=True)
class Case:
    name: str  # path under shared/wild/feeds (+ " (newline first)" for the prefixed copies)
    body: bytes
    content_type: str
    realworld: bool


def intended_content_type(path: Path, body: bytes) -> str:
    """The Content-Type a feedparser test file asks for in its `Header:` comment, else one from its extension."""
    for name, value in HEADER.findall(body):
        if name.decode("ascii").lower() == "content-type":
            return value.decode("latin-1").strip()
    return DEFAULT_TYPES.get(path.suffix.lower(), "application/xml")


def all_cases() -> list[Case]:
    root = wild_path("feeds")
    cases = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        body = path.read_bytes()
        name = str(path.relative_to(root))
        realworld = name.startswith("realworld/")
        cases.append(Case(name, body, intended_content_type(path, body), realworld))
        if realworld:
            cases.append(Case(name + " (newline first)", b"\n" + body, intended_content_type(path, body), True))
    return cases


def chunk_cases(chunk: int) -> list[Case]:
    return all_cases()[chunk::CHUNKS]


def readable_entries(parsed: Any) -> int:
    """Entries the feed source turns into mentions: those with a title or a text."""
    return sum(1 for e in parsed.entries if html_to_text(e.get("title") or "") or entry_text(e))


def check_mentions(items: list[Mention], problems: list[str], name: str) -> None:
    for m in items:
        if not isinstance(m.external_id, str) or not m.external_id:
            problems.append(f"{name}: mention without an external id")
        if not m.text.strip():
            problems.append(f"{name}: mention {m.external_id!r} without text")
        if m.published_at is not None and m.published_at.utcoffset() != timedelta(0):
            problems.append(f"{name}: published_at {m.published_at!r} is not UTC")
        if m.published_at is not None and m.published_at.tzinfo is None:
            problems.append(f"{name}: naive published_at")


class Recorded(FeedSource):
    """The feed source, keeping what its last poll returned or raised (poll_source swallows errors)."""

    last: Batch | BaseException | None = None

    def poll(self, cursor: dict[str, Any]) -> Batch:
        try:
            self.last = super().poll(cursor)
        except BaseException as exc:
            self.last = exc
            raise
        return self.last


class CrashAfter(BrandMatcher):
    """A matcher that blows up in the middle of storing a batch (a crash between two mention rows)."""

    def __init__(self, brands: list[BrandSettings], after: int):
        super().__init__(brands)
        self.calls, self.after = 0, after

    def brands_for(self, mention: Mention, text: AnalysedText | None = None) -> list[str]:
        self.calls += 1
        if self.calls > self.after:
            raise RuntimeError("simulated crash while storing the batch")
        return super().brands_for(mention, text)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store("sqlite:///" + str(tmp_path / "feeds.db"))
    upgrade(store)
    yield store
    store.dispose()


def source_state(store: Store, name: str) -> tuple[dict[str, Any], int, SourceHealth | None]:
    with store.read() as session:
        row = session.scalar(select(SourceRow).where(SourceRow.name == name))
        if row is None:
            return {}, 0, None
        count = session.scalar(select(func.count()).select_from(MentionRow).where(MentionRow.source_id == row.id))
        health = session.scalar(select(SourceHealth).where(SourceHealth.source_id == row.id))
        return dict(row.cursor or {}), int(count or 0), health


def test_the_corpus_is_there_and_complete() -> None:
    cases = all_cases()
    assert sum(1 for c in cases if not c.name.endswith("(newline first)")) == 480
    served_types = {c.content_type for c in cases}
    assert "application/atom+xml; charset='gb2312'" in served_types  # taken from a `Header:` comment
    assert "text/plain" in served_types


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_wild_feed_yields_its_entries_or_a_typed_error(chunk: int, store: Store) -> None:
    cases = chunk_cases(chunk)
    clock = FakeClock()
    http = HttpFetcher(HttpSettings(retries=0), clock=clock)
    context = SourceContext(http=http, brands=BRANDS, clock=clock)
    matcher = BrandMatcher(BRANDS)
    problems: list[str] = []
    outcomes = {"entries": 0, "bad_payload": 0, "bozo_kept": 0}
    routes = {f"/feed/{i}": (case.body, case.content_type) for i, case in enumerate(cases)}

    with FeedServer(routes) as server:
        sources = [Recorded(FeedSettings(name=f"feed-{i}", url=server.url(f"/feed/{i}"), brand="Acme"), context)
                   for i in range(len(cases))]
        readable: dict[int, int] = {}
        for i, (case, source) in enumerate(zip(cases, sources, strict=True)):
            direct = feedparser.parse(case.body, response_headers={"content-type": case.content_type,
                                                                   "content-location": server.url(f"/feed/{i}")})
            as_json_feed = json_feed(case.body)  # JSON Feed is read by the source itself, not by feedparser 6
            expected = readable[i] = len(as_json_feed[0]) if as_json_feed else readable_entries(direct)
            not_a_feed = bool(direct.get("bozo")) and not direct.entries and not direct.get("version") \
                and not as_json_feed

            # 1. Polled through the pipeline; the source itself returns every readable entry or a typed error.
            report = poll_source(store, source, matcher, clock)
            outcome = source.last
            batch = outcome if isinstance(outcome, Batch) else None
            if isinstance(outcome, SourceError):
                outcomes["bad_payload"] += 1
                if not isinstance(outcome, BadPayload):
                    problems.append(f"{case.name}: {type(outcome).__name__} instead of BadPayload: {outcome}")
                if not not_a_feed:
                    problems.append(f"{case.name}: refused although feedparser finds {len(direct.entries)} entries")
            elif batch is None:
                problems.append(f"{case.name}: untyped {type(outcome).__name__}: {outcome}")
                continue
            else:
                outcomes["entries"] += len(batch.items)
                if direct.get("bozo") and direct.entries:
                    outcomes["bozo_kept"] += 1
                if len(batch.items) != expected:
                    problems.append(f"{case.name}: {len(batch.items)} mentions, the feed holds {expected}")
                if case.realworld and len(direct.entries) != len(ITEM_TAG.findall(case.body)):
                    problems.append(f"{case.name}: {len(direct.entries)} entries for "
                                    f"{len(ITEM_TAG.findall(case.body))} <item>/<entry> elements")
                check_mentions(batch.items, problems, case.name)

            # 2. In the store: mentions and cursor landed together, or neither did.
            cursor, stored, health = source_state(store, source.name)
            if batch is None:
                if report.error is None or not report.error.startswith("BadPayload"):
                    problems.append(f"{case.name}: pipeline error {report.error!r}, expected BadPayload")
                if cursor or stored or health is None or health.consecutive_failures != 1:
                    problems.append(f"{case.name}: failed poll left cursor={cursor} mentions={stored}")
                continue
            unique = len({m.external_id for m in batch.items})
            if report.error is not None:
                problems.append(f"{case.name}: pipeline error {report.error}")
            elif (report.stored, report.stored + report.duplicates, report.unmatched) != (unique, expected, 0):
                problems.append(f"{case.name}: stored {report.stored} dup {report.duplicates} of {expected}")
            if stored != unique or cursor != batch.next_cursor or not cursor.get("etag"):
                problems.append(f"{case.name}: store holds {stored} mentions (want {unique}) and cursor {cursor}")

        # 3. A second round: conditional GET, nothing new, nothing duplicated.
        clock.advance(timedelta(minutes=5))
        for case, source in zip(cases, sources, strict=True):
            if not isinstance(source.last, Batch):
                continue
            before = source_state(store, source.name)[1]
            report = poll_source(store, source, matcher, clock, force=True)
            after = source_state(store, source.name)[1]
            if report.error is None and (not report.not_modified or report.stored or after != before):
                problems.append(f"{case.name}: second poll stored {report.stored} (not_modified={report.not_modified})")

        # 4. A crash in the middle of storing a batch rolls the whole batch back, cursor included.
        biggest = max(readable, key=lambda i: readable[i])
        crash_source = FeedSource(FeedSettings(name="crash", url=server.url(f"/feed/{biggest}"), brand="Acme"),
                                  context)
        with pytest.raises(RuntimeError, match="simulated crash"):
            poll_source(store, crash_source, CrashAfter(BRANDS, after=1), clock)
        cursor, stored, _ = source_state(store, "crash")
        assert (cursor, stored) == ({}, 0), f"half a batch stored for {cases[biggest].name}"
        report = poll_source(store, crash_source, matcher, clock, force=True)
        assert report.error is None and source_state(store, "crash")[1] == report.stored > 1

    http.close()
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problems)"
    assert outcomes["entries"] > 0
    with store.read() as session:
        times = session.scalars(select(MentionRow.published_at).where(MentionRow.published_at.is_not(None)))
        assert all(t.tzinfo is None or t.utcoffset() == timedelta(0) for t in times)


def test_newline_before_the_xml_declaration_keeps_every_entry(store: Store) -> None:
    path = wild_path("feeds/realworld/rbren__rss-parser/test/input/guardian.rss")
    clean = path.read_bytes()
    with FeedServer({"/clean": (clean, "application/rss+xml"),
                     "/newline": (b"\n" + clean, "application/rss+xml")}) as server:
        clock = FakeClock()
        context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=BRANDS, clock=clock)
        batches = {p: FeedSource(FeedSettings(name=p.strip("/"), url=server.url(p)), context).poll({})
                   for p in ("/clean", "/newline")}
    assert feedparser.parse(b"\n" + clean).bozo
    assert len(batches["/clean"].items) == len(batches["/newline"].items) == 55
    assert [m.external_id for m in batches["/clean"].items] == [m.external_id for m in batches["/newline"].items]
    assert all(m.published_at is not None and m.published_at.tzinfo == UTC for m in batches["/newline"].items)


def test_a_json_feed_yields_its_entries() -> None:
    body = wild_path("feeds/kurtmckee__feedparser/tests/json/example.json").read_bytes()
    with FeedServer({"/feed.json": (body, "application/feed+json")}) as server:
        clock = FakeClock()
        context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=BRANDS, clock=clock)
        batch = FeedSource(FeedSettings(name="json", url=server.url("/feed.json")), context).poll({})
    assert len(batch.items) == 2  # the file's own expectation: feed.title == 'My Example Feed', 2 entries
    second, first = batch.items
    assert (second.external_id, second.title, second.text) == ("2", "post 2", "This is a second item.")
    assert second.url == "https://example.org/second-item"
    assert first.external_id == "1" and first.author == "you"
    assert first.text == "Hello, world!"  # HTML to text; the script is not text
