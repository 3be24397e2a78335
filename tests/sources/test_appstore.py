"""App Store source against a real local HTTP server serving Apple's recorded customer-reviews feed."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.matching import BrandSettings
from listener.sources.appstore import AppStoreSettings, AppStoreSource
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
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request
from tests.wild import wild_bytes

RECORDING = "appstore/timiskhakov__podfinder/app/testdata/reviews.json"
APP_ID = "811377230"
JSON = "application/json"
BRANDS = [BrandSettings(name="Acme", terms=["Acme"])]


def page_path(country: str, page: int) -> str:
    return f"/{country}/rss/customerreviews/page={page}/id={APP_ID}/sortby=mostrecent/json"


def recorded() -> dict[str, Any]:
    return json.loads(wild_bytes(RECORDING))


def feed_with(entries: list[dict[str, Any]] | None) -> bytes:
    feed = recorded()
    if entries is None:
        del feed["feed"]["entry"]
    else:
        feed["feed"]["entry"] = entries
    return json.dumps(feed).encode()


class AppleFeed(ApiServer):
    """Apple's customer-reviews feed: `pages[path]` are its JSON pages (any other path is a 404, as a wrong
    app id gets); `fail_path[path]` makes one page misbehave."""

    def __init__(self, pages: dict[str, bytes] | None = None):
        self.pages = dict(pages or {})
        self.fail_path: dict[str, Reply] = {}
        super().__init__()

    def answer(self, request: Request) -> Reply:
        if request.path in self.fail_path:
            return self.fail_path[request.path]
        if request.path not in self.pages:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        return 200, {"Content-Type": JSON}, self.pages[request.path]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def make_source(server: AppleFeed, clock: FakeClock, **overrides: Any) -> AppStoreSource:
    keys: dict[str, Any] = {"name": "acme-ios", "brand": "Acme", "app_id": APP_ID, "countries": ["us"],
                            "base_url": server.base_url, **overrides}
    settings = AppStoreSettings(**keys)
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=BRANDS, clock=clock)
    return AppStoreSource(settings, context)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2022, 4, 2, 12, 0, tzinfo=UTC))


def test_registered_and_settings_checked() -> None:
    assert get_source_class("appstore") is AppStoreSource
    settings = AppStoreSettings(name="x", brand="Acme", app_id="id811377230", countries=["DE", "de", "at"])
    assert settings.app_id == APP_ID and settings.countries == ["de", "at"]
    with pytest.raises(ValueError):
        AppStoreSettings(name="x", brand="Acme", app_id=APP_ID, countries=["germany"])
    with pytest.raises(ValueError):
        AppStoreSettings(name="x", app_id=APP_ID)  # brand is required
    with pytest.raises(ValueError):
        AppStoreSettings(name="x", brand="Acme", app_id=APP_ID, max_pages=11)  # Apple serves 10 pages


def test_first_poll_reads_the_newest_page(clock: FakeClock) -> None:
    with AppleFeed({page_path("us", 1): wild_bytes(RECORDING)}) as server:
        batch = make_source(server, clock).poll({})
        assert server.paths() == [page_path("us", 1)]

    assert len(batch.items) == 50
    first = batch.items[0]
    assert first.external_id == "8414391645"
    assert first.source_kind == "appstore" and first.source_name == "acme-ios"
    assert first.author == "Human #6293839583"
    assert first.title == "Two Years"
    assert first.text.startswith("It’s been a year now.") and "RIP, HI" in first.text
    assert first.published_at == datetime(2022, 3, 3, 2, 5, 59, tzinfo=UTC)  # 19:05:59-07:00
    assert first.rating == 5.0
    assert first.url == "https://itunes.apple.com/us/review?id=811377230&type=Podcast"
    assert first.reach == {"votes": 0, "likes": 0}
    assert first.extra["brand"] == "Acme" and first.extra["country"] == "us"
    assert first.fetched_at == clock.now()
    assert sorted({m.rating for m in batch.items}) == [1.0, 2.0, 4.0, 5.0]
    assert batch.items[-1].external_id == "6265841230" and batch.items[-1].author == "Daniel!777"
    assert all(m.published_at and m.published_at.tzinfo == UTC for m in batch.items)
    assert batch.next_cursor == {"countries": {"us": {"newest": "2022-03-03T02:05:59+00:00",
                                                      "newest_id": "8414391645"}}}


def test_later_polls_page_until_they_reach_seen_reviews(clock: FakeClock) -> None:
    entries = recorded()["feed"]["entry"]
    routes = {page_path("us", 1): feed_with(entries[:25]),
              page_path("us", 2): feed_with(entries[25:]),
              page_path("us", 3): feed_with(None)}
    with AppleFeed(routes) as server:
        source = make_source(server, clock)
        seen_until = entries[30]["updated"]["label"]  # on page 2
        batch = source.poll({"countries": {"us": {"newest": seen_until}}})
        assert server.paths() == [page_path("us", 1), page_path("us", 2)]
        assert len(batch.items) == 50  # the whole of both pages: overlap is deduplicated by the store
        assert batch.next_cursor["countries"]["us"]["newest_id"] == "8414391645"

        # nothing new: one request, stops on page 1
        server.requests.clear()
        again = source.poll(batch.next_cursor)
        assert server.paths() == [page_path("us", 1)]
        assert again.next_cursor == batch.next_cursor

        # a cursor older than everything: pages until the feed runs out (page 3 has no entries)
        server.requests.clear()
        source.poll({"countries": {"us": {"newest": "2001-01-01T00:00:00+00:00"}}})
        assert server.paths() == [page_path("us", n) for n in (1, 2, 3)]


def test_each_country_has_its_own_cursor(clock: FakeClock) -> None:
    routes = {page_path("us", 1): wild_bytes(RECORDING),
              page_path("de", 1): feed_with(None)}  # no reviews in that storefront
    with AppleFeed(routes) as server:
        batch = make_source(server, clock, countries=["us", "de"]).poll({})
    assert len(batch.items) == 50
    assert set(batch.next_cursor["countries"]) == {"us", "de"}
    assert batch.next_cursor["countries"]["de"] == {}


def test_a_failing_storefront_is_listed_and_read_again_next_poll(clock: FakeClock) -> None:
    with AppleFeed({page_path("us", 1): wild_bytes(RECORDING)}) as server:
        server.fail_path[page_path("de", 1)] = (503, {}, b"")
        source = make_source(server, clock, countries=["de", "us"])
        batch = source.poll({})
        assert len(batch.items) == 50 and {m.extra["country"] for m in batch.items} == {"us"}
        assert list(batch.failed_targets) == ["de"] and batch.failed_targets["de"].startswith("SourceUnavailable")
        assert set(batch.next_cursor["countries"]) == {"us"}  # de has no mark yet: its first poll is still ahead

        del server.fail_path[page_path("de", 1)]
        server.pages[page_path("de", 1)] = wild_bytes(RECORDING)
        again = source.poll(batch.next_cursor)
        assert again.failed_targets == {} and set(again.next_cursor["countries"]) == {"de", "us"}
        assert len(again.items) == 50 and again.items[0].extra["country"] == "de"  # de read from its first page


def test_single_entry_and_app_entry(clock: FakeClock) -> None:
    entries = recorded()["feed"]["entry"]
    app_entry = {"id": {"label": "https://apps.apple.com/us/app/id811377230"}, "title": {"label": "The App"},
                 "im:name": {"label": "The App"}}
    feed = recorded()
    feed["feed"]["entry"] = copy.deepcopy(entries[0])  # a single entry is an object, not a list
    with AppleFeed({page_path("us", 1): json.dumps(feed).encode()}) as server:
        assert [m.external_id for m in make_source(server, clock).poll({}).items] == ["8414391645"]
    with AppleFeed({page_path("us", 1): feed_with([app_entry, entries[1]])}) as server:
        assert [m.external_id for m in make_source(server, clock).poll({}).items] == ["8378849231"]


@pytest.mark.parametrize(("status", "headers", "body", "error"), [
    (401, {"Content-Type": "text/plain"}, b"unauthorized", ClientError),
    (404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>", ClientError),
    (429, {"Retry-After": "120"}, b"slow down", RateLimited),
    (500, {}, b"oops", SourceUnavailable),
    (200, {"Content-Type": JSON}, None, BadPayload),  # truncated JSON
    (200, {"Content-Type": "text/html"}, b"<html><body><h1>Service unavailable</h1></body></html>", BadPayload),
    (200, {"Content-Type": JSON}, b'{"error": "not a feed"}', BadPayload),
])
def test_error_shapes(clock: FakeClock, status: int, headers: dict[str, str], body: bytes | None,
                      error: type[Exception]) -> None:
    if body is None:
        body = wild_bytes(RECORDING)[:5000]
    with AppleFeed() as server:
        server.fail_path[page_path("us", 1)] = (status, headers, body)
        with pytest.raises(error) as info:
            make_source(server, clock).poll({})
    if status in (401, 404):
        assert isinstance(info.value, ClientError) and info.value.status == status
    if status == 429:
        assert info.value.retry_after == 120  # type: ignore[attr-defined]


def test_more_new_reviews_than_pages_is_logged(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    entries = recorded()["feed"]["entry"]
    routes = {page_path("us", 1): feed_with(entries[:25]),
              page_path("us", 2): feed_with(entries[25:])}
    with AppleFeed(routes) as server:
        batch = make_source(server, clock, max_pages=2).poll({"countries": {"us": {"newest": "2001-01-01T00:00:00"}}})
        assert len(server.requests) == 2
    assert len(batch.items) == 50
    assert "event=appstore_gap" in caplog.text


def contract() -> ContractCase:
    """The App Store's fixture for the contract suite: Apple's recorded feed as page 1 of the US storefront."""

    def storefront(clock: FakeClock) -> AppleFeed:
        return AppleFeed({page_path("us", 1): wild_bytes(RECORDING), page_path("us", 2): feed_with(None)})

    def news(server: AppleFeed, when: datetime) -> str:
        entries = recorded()["feed"]["entry"]
        new = copy.deepcopy(entries[0])
        new["id"]["label"], new["updated"]["label"] = "9000000001", when.isoformat()
        server.pages[page_path("us", 1)] = feed_with([new, *entries])
        return "9000000001"

    return ContractCase(server=storefront, brands=BRANDS, news=news,
                        settings=lambda server: {"brand": "Acme", "app_id": APP_ID, "base_url": server.base_url},
                        now=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
