"""Google Play source against a real local HTTP server answering batchexecute POSTs with recorded responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.matching import BrandSettings
from listener.sources.googleplay import GooglePlaySettings, GooglePlaySource, parse_page
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

PAGE1 = "googleplay/MrAdex77__google-play-scraper/test/fixtures/reviews/translate-initial.txt"
PAGE2 = "googleplay/MrAdex77__google-play-scraper/test/fixtures/reviews/translate-page2.txt"
APP_ID = "com.google.android.apps.translate"
PATH = "/_/PlayStoreUi/data/batchexecute"
BRANDS = [BrandSettings(name="Acme", terms=["Acme"])]
EMPTY = b")]}'\n\n" + json.dumps([["wrb.fr", "UsvDTd", None, None, None, None, "generic"]]).encode()


def token_of(page: bytes) -> str:
    text = page.decode()
    frames = json.loads(text[text.index("["):])
    return str(json.loads(frames[0][2])[1][1])


class PlayServer(ApiServer):
    """Answers the reviews RPC: page 1 without a token, page 2 for page 1's token, an empty frame after."""

    def __init__(self) -> None:
        self.pages = {None: wild_bytes(PAGE1)}
        self.pages[token_of(self.pages[None])] = wild_bytes(PAGE2)
        super().__init__()

    def answer(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != PATH:
            return 404, {"Content-Type": "application/json; charset=utf-8"}, b""
        body = self.pages.get(rpc_call(request)["token"], EMPTY)
        return 200, {"Content-Type": "application/json; charset=utf-8"}, body

    def calls(self) -> list[dict[str, Any]]:
        return [rpc_call(r) for r in self.requests]


def rpc_call(request: Request) -> dict[str, Any]:
    """What a batchexecute request asks for: the RPC, the app, the page size, the token and the sort order."""
    envelope = json.loads(request.form()["f.req"][0])
    rpc, payload = envelope[0][0][0], json.loads(envelope[0][0][1])
    return {"path": request.path, "query": request.params, "rpc": rpc, "app": payload[3][0],
            "count": payload[2][2][0], "token": payload[2][2][2], "sort": payload[2][1],
            "content_type": request.headers.get("Content-Type")}


def make_source(server: PlayServer, clock: FakeClock, **overrides: Any) -> GooglePlaySource:
    keys: dict[str, Any] = {"name": "acme-android", "brand": "Acme", "app_id": APP_ID, "lang": "en",
                            "country": "us", "base_url": server.base_url, **overrides}
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=BRANDS, clock=clock)
    return GooglePlaySource(GooglePlaySettings(**keys), context)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 7, 7, 12, 0, tzinfo=UTC))


@pytest.fixture
def server() -> Any:
    with PlayServer() as play:
        yield play


def test_registered_and_settings_checked() -> None:
    assert get_source_class("googleplay") is GooglePlaySource
    with pytest.raises(ValueError):
        GooglePlaySettings(name="x", brand="Acme", app_id="not a package")
    with pytest.raises(ValueError):
        GooglePlaySettings(name="x", app_id=APP_ID)  # brand is required


def test_first_poll_reads_one_page(server: PlayServer, clock: FakeClock) -> None:
    batch = make_source(server, clock).poll({})
    assert len(server.requests) == 1
    request = server.calls()[0]
    assert request["path"] == PATH and request["rpc"] == "UsvDTd" and request["app"] == APP_ID
    assert request["query"] == {"rpcids": ["UsvDTd"], "hl": ["en"], "gl": ["US"]}
    assert request["token"] is None and request["sort"] == 2 and request["count"] == 100
    assert request["content_type"] == "application/x-www-form-urlencoded"

    assert len(batch.items) == 150
    first = batch.items[0]
    assert first.external_id == "017452fc-0d4b-471d-b406-bcf0f52387a7"
    assert first.source_kind == "googleplay" and first.source_name == "acme-android"
    assert first.author == "Formann Ali"
    assert first.text == "niec"
    assert first.rating == 5.0
    assert first.published_at == datetime.fromtimestamp(1783346124, tz=UTC)
    assert first.url == ("https://play.google.com/store/apps/details?id=com.google.android.apps.translate"
                         "&reviewId=017452fc-0d4b-471d-b406-bcf0f52387a7")
    assert first.reach == {"likes": 0}
    assert first.lang_hint == "en"
    assert first.extra == {"brand": "Acme", "app_version": None, "developer_replied": False}
    second = batch.items[1]
    assert second.author == "aleth nachor" and second.text == "its helps me a lot.."
    assert second.extra["app_version"] == "10.24.48.939568180.6-release"
    assert {m.rating for m in batch.items} <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert any(m.extra["developer_replied"] for m in batch.items)
    assert batch.next_cursor == {"newest": datetime.fromtimestamp(1783346124, tz=UTC).isoformat(),
                                 "newest_id": "017452fc-0d4b-471d-b406-bcf0f52387a7"}


def test_later_polls_follow_the_token_until_seen_reviews(server: PlayServer, clock: FakeClock) -> None:
    source = make_source(server, clock)
    page2_review_time = datetime.fromtimestamp(1782826285, tz=UTC)  # the 4th review of page 2
    batch = source.poll({"newest": page2_review_time.isoformat()})
    assert [r["token"] for r in server.calls()] == [None, token_of(wild_bytes(PAGE1))]
    assert len(batch.items) == 300
    assert batch.next_cursor["newest_id"] == "017452fc-0d4b-471d-b406-bcf0f52387a7"

    server.requests.clear()
    again = source.poll(batch.next_cursor)
    assert [r["token"] for r in server.calls()] == [None]  # page 1 reaches what was seen
    assert again.next_cursor == batch.next_cursor

    server.requests.clear()
    source.poll({"newest": "2001-01-01T00:00:00+00:00"})  # older than all: until no more pages
    assert len(server.requests) == 3


def test_parse_page_shapes() -> None:
    assert parse_page(EMPTY.decode()) == ([], None)
    throttled = ")]}'\n\n" + json.dumps([["wrb.fr", "UsvDTd", None, None, None,
                                          [8, None, [["type.googleapis.com/PlayGatewayError"]]], "generic"]])
    with pytest.raises(RateLimited):
        parse_page(throttled)
    with pytest.raises(BadPayload):
        parse_page(")]}'\n\n" + json.dumps([["wrb.fr", "UsvDTd", "not json {", None]]))
    with pytest.raises(BadPayload):
        parse_page(")]}'\n\n" + json.dumps([["di", 20]]))


@pytest.mark.parametrize(("status", "headers", "body", "error"), [
    (401, {}, b"unauthorized", ClientError),
    (404, {"Content-Type": "text/html"}, b"<html><body>Error 404 (Not Found)</body></html>", ClientError),
    (429, {"Retry-After": "90"}, b"", RateLimited),
    (500, {}, b"", SourceUnavailable),
    (200, {}, None, BadPayload),  # truncated
    (200, {"Content-Type": "text/html"}, b"<html><body>Our systems have detected unusual traffic</body></html>",
     BadPayload),
])
def test_error_shapes(server: PlayServer, clock: FakeClock, status: int, headers: dict[str, str],
                      body: bytes | None, error: type[Exception]) -> None:
    server.fail = (status, headers, wild_bytes(PAGE1)[:4000] if body is None else body)
    with pytest.raises(error) as info:
        make_source(server, clock).poll({})
    if status == 429:
        assert info.value.retry_after == 90  # type: ignore[attr-defined]
    if status in (401, 404):
        assert info.value.status == status  # type: ignore[attr-defined]


def test_more_new_reviews_than_pages_is_logged(server: PlayServer, clock: FakeClock,
                                               caplog: pytest.LogCaptureFixture) -> None:
    batch = make_source(server, clock, max_pages=2).poll({"newest": "2001-01-01T00:00:00+00:00"})
    assert len(server.requests) == 2 and len(batch.items) == 300
    assert "event=googleplay_gap" in caplog.text


def contract() -> ContractCase:
    """Google Play's fixture for the contract suite: two recorded batchexecute pages of reviews."""
    def older_reviews_first(clock: FakeClock) -> PlayServer:
        server = PlayServer()
        server.pages = {None: wild_bytes(PAGE2)}  # the app's older reviews are all there is at first
        return server

    def news(server: PlayServer, when: datetime) -> str:
        server.pages = PlayServer().pages  # a page of newer reviews on top
        return "017452fc-0d4b-471d-b406-bcf0f52387a7"

    return ContractCase(server=older_reviews_first, brands=BRANDS, news=news,
                        now=datetime(2026, 7, 7, 12, 0, tzinfo=UTC),
                        settings=lambda server: {"brand": "Acme", "app_id": APP_ID, "base_url": server.base_url})
