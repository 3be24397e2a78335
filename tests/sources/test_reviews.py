"""schema.org reviews source against a real local HTTP server serving extruct's recorded sample pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.clock import FakeClock
from listener.demo.servers import FeedServer
from listener.matching import BrandMatcher, BrandSettings
from listener.pipeline import poll_source
from listener.sources.kit import (
    BadPayload,
    ClientError,
    HttpFetcher,
    HttpSettings,
    RateLimited,
    SourceContext,
    SourceUnavailable,
    get_source_class,
)
from listener.sources.reviews import ReviewsSettings, ReviewsSource, normalise_rating
from listener.store.engine import Store
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request
from tests.sources._store import count, health
from tests.wild import wild_bytes

SAMPLES = "jsonld/scrapinghub__extruct/tests/samples/"
BOOK = SAMPLES + "schema.org/CreativeWork.001.html"  # JSON-LD: 2 reviews + AggregateRating
PRODUCT = SAMPLES + "schema.org/product.html"  # microdata AggregateRating
RESTAURANT = SAMPLES + "schema.org/LocalBusiness.002.html"  # microdata AggregateRating
NULLS = SAMPLES + "misc/null_ld_mock.html"  # JSON-LD `null` blocks, a Review and an AggregateRating
SONGKICK = SAMPLES + "songkick/Years & Years Tickets, Tour Dates 2015 & Concerts.html"  # one review, twice
NO_REVIEWS = SAMPLES + "websites/microdata-with-description.html"  # schema.org data, no reviews
HTML = "text/html; charset=utf-8"
BRANDS = [BrandSettings(name="Acme", terms=["Acme"])]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


def make_source(server: FeedServer, clock: FakeClock, paths: list[str], **overrides: Any) -> ReviewsSource:
    overrides.setdefault("aggregate", True)
    settings = ReviewsSettings(name="acme-shop", brand="Acme", urls=[server.url(p) for p in paths], **overrides)
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=BRANDS, clock=clock)
    return ReviewsSource(settings, context)


def test_registered_and_settings_checked() -> None:
    assert get_source_class("reviews") is ReviewsSource
    with pytest.raises(ValueError):
        ReviewsSettings(name="x", brand="Acme", urls=[])
    with pytest.raises(ValueError):
        ReviewsSettings(name="x", urls=["https://example.org/p"])  # brand is required


def test_jsonld_reviews_and_aggregate(clock: FakeClock) -> None:
    with FeedServer({"/book": (wild_bytes(BOOK), HTML)}) as server:
        batch = make_source(server, clock, ["/book"]).poll({})
        url = server.url("/book")
    john, bob, overall = batch.items
    assert john.source_kind == "reviews" and john.source_name == "acme-shop"
    assert john.external_id.startswith("review:")
    assert john.author == "John Doe"
    assert john.title == "A masterpiece of literature"
    assert john.text.startswith("I really enjoyed this book.")
    assert john.published_at == datetime(2006, 5, 4, tzinfo=UTC)
    assert john.rating == 5.0
    assert john.url == url
    assert john.extra == {"brand": "Acme", "item": "The Catcher in the Rye"}
    assert (bob.author, bob.rating, bob.published_at) == ("Bob Smith", 4.0, datetime(2006, 6, 15, tzinfo=UTC))
    assert bob.text == "Catcher in the Rye is a fun book. It's a good book to read."
    assert overall.external_id.startswith("aggregate:")
    assert overall.rating == 4.0 and overall.reach == {"reviews": 3077}
    assert overall.text == "The Catcher in the Rye: rated 4 out of 5 from 3077 reviews"
    assert overall.published_at == clock.now() and overall.extra["aggregate"] is True
    assert batch.next_cursor == {"pages": {url: {"etag": batch.next_cursor["pages"][url]["etag"],
                                                 "last_modified": FeedServer.LAST_MODIFIED}}}


def test_ids_are_stable_across_polls_and_servers(clock: FakeClock) -> None:
    with FeedServer({"/book": (wild_bytes(BOOK), HTML)}) as one:
        first = make_source(one, clock, ["/book"]).poll({})
    clock.advance(timedelta(days=3))
    with FeedServer({"/book": (wild_bytes(BOOK).replace(b"I really enjoyed", b"I  really\n enjoyed"), HTML)}) as two:
        second = make_source(two, clock, ["/book"]).poll({})
    # review ids depend on author, date and body only (not on the URL, the time or whitespace)
    assert [m.external_id for m in first.items][:2] == [m.external_id for m in second.items][:2]


def test_conditional_get_per_url(clock: FakeClock) -> None:
    routes = {"/book": (wild_bytes(BOOK), HTML), "/anvil": (wild_bytes(PRODUCT), HTML)}
    with FeedServer(routes) as server:
        source = make_source(server, clock, ["/book", "/anvil"])
        batch = source.poll({})
        assert len(batch.items) == 4
        again = source.poll(batch.next_cursor)
        assert again.items == [] and again.not_modified
        assert again.next_cursor == batch.next_cursor
        sent = [headers for path, headers in server.requests[2:]]
        assert all("If-None-Match" in h and "If-Modified-Since" in h for h in sent)

        server.routes["/anvil"] = (wild_bytes(PRODUCT).replace(b">89", b">90"), HTML)  # one more review
        changed = source.poll(again.next_cursor)
        assert not changed.not_modified
        assert [m.text for m in changed.items] == ["Executive Anvil: rated 4.4 out of 5 from 90 reviews"]


def test_microdata_pages_and_duplicates(clock: FakeClock) -> None:
    routes = {"/restaurant": (wild_bytes(RESTAURANT), HTML), "/nulls": (wild_bytes(NULLS), HTML),
              "/songkick": (wild_bytes(SONGKICK), HTML), "/plain": (wild_bytes(NO_REVIEWS), HTML)}
    with FeedServer(routes) as server:
        batch = make_source(server, clock, list(routes)).poll({})
    by_text = {m.text[:40]: m for m in batch.items}
    assert len(batch.items) == 4
    restaurant = by_text["GreatFood: rated 4 out of 5 from 250 rev"]
    assert restaurant.rating == 4.0 and restaurant.reach == {"reviews": 250}
    local = by_text["Some Name Goes Here: rated 5 out of 5 fr"]
    assert local.reach == {"ratings": 280} and local.rating == 5.0
    lorem = next(m for m in batch.items if m.text.startswith("Sed ut perspiciatis"))
    assert lorem.rating is None and lorem.author is None and lorem.title is None
    # Songkick marks the same review up in JSON-LD and in microdata: kept once
    songkick = [m for m in batch.items if m.author == "benjolley1"]
    assert len(songkick) == 1
    assert songkick[0].text.startswith('"Thanks for coming out so early this morning')
    assert songkick[0].extra["item"] == "Years & Years"


def test_without_aggregates(clock: FakeClock) -> None:
    with FeedServer({"/book": (wild_bytes(BOOK), HTML), "/anvil": (wild_bytes(PRODUCT), HTML)}) as server:
        batch = make_source(server, clock, ["/book", "/anvil"], aggregate=False).poll({})
    assert [m.author for m in batch.items] == ["John Doe", "Bob Smith"]


def test_given_ids_and_shared_urls(clock: FakeClock) -> None:
    def page(reviews: list[dict[str, Any]]) -> bytes:
        doc = {"@context": "https://schema.org", "@type": "Product", "name": "Acme Router", "review": reviews}
        return f'<html><script type="application/ld+json">{json.dumps(doc)}</script></html>'.encode()

    with FeedServer() as server:
        url = server.url("/router")
        server.routes["/router"] = (page([
            {"@type": "Review", "@id": "https://shop.example/r/1", "reviewBody": "Gut", "author": {"name": "A"},
             "reviewRating": {"ratingValue": "8", "bestRating": "10", "worstRating": "0"}},
            {"@type": "Review", "url": url, "reviewBody": "Schlecht", "author": "B",
             "datePublished": "2026-01-04T18:30:00+01:00", "reviewRating": {"ratingValue": 1}},
            {"@type": "Review", "url": url, "reviewBody": "Naja", "author": "C"},
        ]), HTML)
        items = make_source(server, clock, ["/router"]).poll({}).items
    assert [m.external_id for m in items][0] == "https://shop.example/r/1"
    assert items[0].rating == 4.2 and items[0].author == "A" and items[0].extra["item"] == "Acme Router"
    assert items[1].external_id.startswith("review:") and items[2].external_id.startswith("review:")
    assert items[1].published_at == datetime(2026, 1, 4, 17, 30, tzinfo=UTC)
    assert items[1].rating == 1.0


@pytest.mark.parametrize(("node", "expected"), [
    ({"ratingValue": "4"}, 4.0),
    ({"ratingValue": 9, "bestRating": 10, "worstRating": 0}, 4.6),
    ({"ratingValue": "80", "bestRating": "100", "worstRating": "1"}, 4.19),
    ({"ratingValue": "4,5"}, 4.5),
    ({"ratingValue": "4.5 stars"}, 4.5),
    ({"ratingValue": 0, "bestRating": 10, "worstRating": 0}, 1.0),
    ({"ratingValue": 7}, 5.0),
    ({"ratingValue": 3, "bestRating": 1, "worstRating": 5}, None),
    ({"ratingValue": "n/a"}, None),
    ("3", 3.0),
    (None, None),
])
def test_rating_normalisation(node: Any, expected: float | None) -> None:
    assert normalise_rating(node) == expected


@pytest.mark.parametrize(("status", "headers", "body", "error"), [
    (401, {"Content-Type": "text/html"}, b"<html>Login required</html>", ClientError),
    (404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>", ClientError),
    (429, {"Retry-After": "45"}, b"", RateLimited),
    (500, {}, b"", SourceUnavailable),
    (200, {"Content-Type": HTML}, None, BadPayload),  # truncated inside the JSON-LD block
    (200, {"Content-Type": HTML}, b"<html><body><h1>Please verify you are a human</h1></body></html>", BadPayload),
    (200, {"Content-Type": "application/json"}, b'{"reviews": []}', BadPayload),
])
def test_error_shapes(clock: FakeClock, status: int, headers: dict[str, str], body: bytes | None,
                      error: type[Exception]) -> None:
    if body is None:
        body = wild_bytes(BOOK)[:900]
    with FeedServer() as server:
        server.fail["/book"] = (status, headers, body)
        with pytest.raises(error) as info:
            make_source(server, clock, ["/book"]).poll({})
    if status == 429:
        assert info.value.retry_after == 45  # type: ignore[attr-defined]
    if status in (401, 404):
        assert info.value.status == status  # type: ignore[attr-defined]


BOT_WALL = b"<html><body><h1>Please verify you are a human</h1></body></html>"


def test_a_broken_page_among_several_fails_alone_and_recovers(clock: FakeClock, store: Store) -> None:
    matcher = BrandMatcher(BRANDS)
    routes = {"/book": (wild_bytes(BOOK), HTML), "/broken": (BOT_WALL, HTML), "/anvil": (wild_bytes(PRODUCT), HTML)}
    with FeedServer(routes) as server:
        source = make_source(server, clock, ["/book", "/broken", "/anvil"])
        broken = server.url("/broken")

        # the good pages' reviews are stored; the broken page is in the health record
        report = poll_source(store, source, matcher, clock)
        assert (report.stored, report.error) == (4, None)
        assert list(report.failed_targets) == [broken] and "no schema.org data" in report.failed_targets[broken]
        h = health(store)
        assert h.consecutive_failures == 0 and h.last_error is None and h.next_attempt_at is None
        assert h.failing_targets == {broken: {"error": report.failed_targets[broken],
                                              "since": clock.now().isoformat(), "failures": 1}}

        # still broken an hour later: the same record, one more failure; the good pages answer 304
        first_failure = clock.now()
        clock.advance(timedelta(hours=1))
        report = poll_source(store, source, matcher, clock, force=True)
        assert (report.stored, report.fetched) == (0, 0)
        assert health(store).failing_targets[broken] | {"error": ""} == {
            "error": "", "since": first_failure.isoformat(), "failures": 2}

        # the page is fixed: a later poll stores its reviews and clears the record
        server.routes["/broken"] = (wild_bytes(RESTAURANT), HTML)
        clock.advance(timedelta(hours=1))
        report = poll_source(store, source, matcher, clock, force=True)
        assert (report.stored, report.failed_targets, report.error) == (1, {}, None)
        assert health(store).failing_targets == {}
        assert count(store) == 5
        assert server.hits("/broken") == 3 and server.hits("/book") == 3

        # and nothing is stored twice
        report = poll_source(store, source, matcher, clock, force=True)
        assert report.not_modified and report.stored == 0 and count(store) == 5


def test_every_page_failing_fails_the_source_and_names_each_page(clock: FakeClock, store: Store) -> None:
    with FeedServer({"/a": (BOT_WALL, HTML)}) as server:
        server.fail["/b"] = (503, {}, b"")
        source = make_source(server, clock, ["/a", "/b"])
        report = poll_source(store, source, BrandMatcher(BRANDS), clock)
        a, b = server.url("/a"), server.url("/b")
    assert report.error and report.error.startswith("BadPayload") and set(report.failed_targets) == {a, b}
    h = health(store)
    assert h.consecutive_failures == 1 and h.last_error == report.error and h.next_attempt_at is not None
    assert "SourceUnavailable" in h.failing_targets[b]["error"] and "BadPayload" in h.failing_targets[a]["error"]


def test_listener_sources_lists_failing_targets(tmp_path: Path, clock: FakeClock) -> None:
    routes = {"/book": (wild_bytes(BOOK), HTML), "/broken": (BOT_WALL, HTML)}
    with FeedServer(routes) as server:
        config = tmp_path / "listener.toml"
        config.write_text(f"""
            [database]
            url = "sqlite:///{tmp_path / 'listener.db'}"

            [[brand]]
            name = "Acme"
            terms = ["Acme"]

            [[source]]
            name = "shop"
            kind = "reviews"
            brand = "Acme"
            urls = ["{server.url('/book')}", "{server.url('/broken')}"]
            """.replace("\n            ", "\n"))

        def run(*args: str) -> str:
            result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            return result.output

        polled = run("poll")
        assert "shop: 2 fetched, 2 new" in polled
        assert f"shop: target {server.url('/broken')} FAILED BadPayload" in polled
        listed = json.loads(run("sources", "--json"))
        assert listed[0]["status"] == "ok" and listed[0]["consecutive_failures"] == 0
        failing = listed[0]["failing_targets"][server.url("/broken")]
        assert failing["failures"] == 1 and failing["error"].startswith("BadPayload: ")
        plain = run("sources")
        assert f"target {server.url('/broken')} failing since {failing['since']} (failed polls: 1): BadPayload" in plain

        server.routes["/broken"] = (wild_bytes(PRODUCT), HTML)
        run("poll", "--force")
        assert json.loads(run("sources", "--json"))[0]["failing_targets"] == {}
        assert "target" not in run("sources")


def contract() -> ContractCase:
    """The reviews source's fixture for the contract suite: extruct's recorded book page (JSON-LD reviews)."""
    pages = {"/book": wild_bytes(BOOK)}

    def answer(request: Request) -> Reply:
        if request.path not in pages:
            return 404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>"
        return 200, {"Content-Type": HTML}, pages[request.path]

    def news(server: ApiServer, when: datetime) -> str:
        review = (b'"review": [\n{"@type": "Review", "@id": "https://shop.example/r/new", "author": "Erika", '
                  b'"datePublished": "' + when.date().isoformat().encode() + b'", "reviewBody": "Nie angekommen.", '
                  b'"reviewRating": {"@type": "Rating", "ratingValue": "1"}},')
        pages["/book"] = wild_bytes(BOOK).replace(b'"review": [', review)
        return "https://shop.example/r/new"

    return ContractCase(server=lambda clock: ApiServer(answer), brands=BRANDS, news=news,
                        now=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
                        settings=lambda server: {"brand": "Acme", "urls": [server.url("/book")], "aggregate": False})
