"""Trustpilot source against a real local HTTP server.

No recorded Trustpilot answer exists in shared/wild: the payloads below are built from the response shape
Trustpilot documents for `GET /v1/business-units/find` and `GET /v1/business-units/{id}/reviews`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.matching import BrandSettings
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
from listener.sources.trustpilot import TrustpilotSettings, TrustpilotSource
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request

UNIT = "507f191e810c19729de860ea"
KEY = "test-key-123"
BRANDS = [BrandSettings(name="Acme", terms=["Acme"])]
REVIEWS_PATH = f"/v1/business-units/{UNIT}/reviews"
FIND_PATH = "/v1/business-units/find"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def review(n: int, created: datetime, stars: int = 4, **extra: Any) -> dict[str, Any]:
    rid = f"{n:024x}"
    return {
        "links": [{"href": f"https://api.trustpilot.com/v1/reviews/{rid}", "method": "GET", "rel": "reviews"}],
        "id": rid,
        "consumer": {"links": [], "id": f"c{n:023x}", "displayName": f"Kunde {n}", "numberOfReviews": n % 7},
        "businessUnit": {"links": [], "id": UNIT, "identifyingName": "acme.de", "displayName": "Acme"},
        "location": None,
        "stars": stars,
        "title": f"Bewertung {n}",
        "text": f"Text der Bewertung {n}",
        "language": "de",
        "createdAt": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": None,
        "companyReply": None,
        "isVerified": True,
        "numberOfLikes": n % 3,
        "status": "active",
        **extra,
    }


def reviews_page(reviews: list[dict[str, Any]], page: int, more: bool) -> bytes:
    links = [{"href": f"https://api.trustpilot.com{REVIEWS_PATH}?page={page}", "method": "GET", "rel": "self"}]
    if more:
        links.append({"href": f"https://api.trustpilot.com{REVIEWS_PATH}?page={page + 1}", "method": "GET",
                      "rel": "next-page"})
    return json.dumps({"links": links, "reviews": reviews}).encode()


FIND = json.dumps({"links": [], "id": UNIT, "displayName": "Acme",
                   "name": {"identifying": "acme.de", "referring": ["acme.de", "www.acme.de"]},
                   "websiteUrl": "https://acme.de", "country": "DE", "numberOfReviews": {"total": 250},
                   "score": {"stars": 4.5, "trustScore": 4.4}}).encode()


class TrustpilotServer(ApiServer):
    """Business unit lookup plus the reviews list, paged by `page`/`perPage` like the API."""

    def __init__(self, reviews: list[dict[str, Any]]):
        self.reviews = reviews
        self.fail_path: dict[str, tuple[int, dict[str, str], bytes]] = {}  # one path misbehaves
        super().__init__()

    def answer(self, request: Request) -> Reply:
        status, headers, body = self.review_api(request.path, request.params, request.headers.get("apikey"))
        return status, {"Content-Type": "application/json", **headers}, body

    def review_api(self, path: str, params: dict[str, list[str]], key: str | None) -> Reply:
        if path in self.fail_path:
            return self.fail_path[path]
        if key != KEY:
            return 401, {}, b'{"message": "Unauthorized"}'
        if path == FIND_PATH:
            if params.get("name") == ["acme.de"]:
                return 200, {}, FIND
            return 404, {}, b'{"message": "Not found"}'
        if path == REVIEWS_PATH:
            assert params["orderBy"] == ["createdat.desc"]
            page, per_page = int(params["page"][0]), int(params["perPage"][0])
            chunk = self.reviews[(page - 1) * per_page: page * per_page]
            return 200, {}, reviews_page(chunk, page, more=len(self.reviews) > page * per_page)
        return 404, {}, b'{"message": "Not found"}'

    def paths(self) -> list[tuple[str, str | None]]:
        return [(r.path, r.param("page")) for r in self.requests]


def all_reviews(count: int = 25) -> list[dict[str, Any]]:
    """Newest first, one hour apart; the newest is a 1-star review with a company reply."""
    out = [review(n, START - timedelta(hours=n), stars=1 + n % 5) for n in range(1, count + 1)]
    out[0]["stars"] = 1
    out[0]["text"] = "Seit drei Wochen keine Antwort vom Kundenservice.\n\nIch warte weiter <3 "
    out[0]["companyReply"] = {"text": "Das tut uns leid!", "createdAt": "2026-01-05T09:30:00Z"}
    return out


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("LISTENER_TRUSTPILOT_ACME", KEY)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START + timedelta(hours=1))


def make_source(server: TrustpilotServer, clock: FakeClock, **overrides: Any) -> TrustpilotSource:
    keys: dict[str, Any] = {"name": "acme-trustpilot", "brand": "Acme", "domain": "acme.de",
                            "api_key_secret": "trustpilot-acme", "base_url": server.base_url, "per_page": 10,
                            **overrides}
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=BRANDS, clock=clock)
    return TrustpilotSource(TrustpilotSettings(**keys), context)


def test_registered_and_settings_checked() -> None:
    assert get_source_class("trustpilot") is TrustpilotSource
    with pytest.raises(ValueError, match="domain"):
        TrustpilotSettings(name="x", brand="Acme")
    with pytest.raises(ValueError):
        TrustpilotSettings(name="x", domain="acme.de")  # brand is required
    assert TrustpilotSettings(name="x", brand="Acme", business_unit_id=UNIT).api_key_secret == "trustpilot-api-key"


def test_first_poll_resolves_the_domain_and_reads_one_page(clock: FakeClock) -> None:
    with TrustpilotServer(all_reviews()) as server:
        batch = make_source(server, clock).poll({})
    assert server.paths() == [(FIND_PATH, None), (REVIEWS_PATH, "1")]
    assert all(r.headers.get("apikey") == KEY for r in server.requests)
    assert server.requests[1].params["perPage"] == ["10"]
    assert len(batch.items) == 10
    first = batch.items[0]
    assert first.external_id == f"{1:024x}"
    assert first.source_kind == "trustpilot" and first.source_name == "acme-trustpilot"
    assert first.author == "Kunde 1"
    assert first.title == "Bewertung 1"
    assert first.text == "Seit drei Wochen keine Antwort vom Kundenservice.\n\nIch warte weiter <3"
    assert first.rating == 1.0
    assert first.published_at == START - timedelta(hours=1)
    assert first.url == f"https://www.trustpilot.com/reviews/{1:024x}"
    assert first.reach == {"likes": 1, "author_reviews": 1}
    assert first.lang_hint == "de"
    assert first.extra["brand"] == "Acme" and first.extra["company_replied"] is True
    assert batch.items[1].rating == 3.0 and batch.items[1].extra["company_replied"] is False
    assert batch.next_cursor == {"newest": (START - timedelta(hours=1)).isoformat(), "newest_id": f"{1:024x}",
                                 "business_unit_id": UNIT, "domain": "acme.de"}


def test_later_polls_page_until_seen_and_skip_the_lookup(clock: FakeClock) -> None:
    reviews = all_reviews()
    with TrustpilotServer(reviews[12:]) as server:  # the 13 oldest reviews exist at first
        source = make_source(server, clock)
        first = source.poll({})
        assert [m.external_id for m in first.items][:1] == [f"{13:024x}"]

        server.reviews = reviews  # 12 new reviews arrived
        server.requests.clear()
        batch = source.poll(first.next_cursor)
        assert server.paths() == [(REVIEWS_PATH, "1"), (REVIEWS_PATH, "2")]  # no lookup, stops at page 2
        assert {f"{n:024x}" for n in range(1, 13)} <= {m.external_id for m in batch.items}
        assert batch.next_cursor["newest_id"] == f"{1:024x}"

        server.requests.clear()
        again = source.poll(batch.next_cursor)
        assert server.paths() == [(REVIEWS_PATH, "1")]
        assert again.next_cursor == batch.next_cursor

        server.requests.clear()
        source.poll({**batch.next_cursor, "newest": "2001-01-01T00:00:00+00:00"})
        assert server.paths() == [(REVIEWS_PATH, "1"), (REVIEWS_PATH, "2"), (REVIEWS_PATH, "3")]


def test_business_unit_id_needs_no_lookup(clock: FakeClock) -> None:
    with TrustpilotServer(all_reviews(3)) as server:
        batch = make_source(server, clock, domain=None, business_unit_id=UNIT).poll({})
    assert server.paths() == [(REVIEWS_PATH, "1")]
    assert len(batch.items) == 3 and "domain" not in batch.next_cursor


def test_missing_key_and_unknown_domain(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with TrustpilotServer(all_reviews(3)) as server:
        with pytest.raises(ClientError, match="unknown.de"):
            make_source(server, clock, domain="unknown.de").poll({})
        monkeypatch.setenv("LISTENER_TRUSTPILOT_ACME", "wrong")
        with pytest.raises(ClientError) as info:
            make_source(server, clock).poll({})
        assert info.value.status == 401 and "wrong" not in str(info.value)
        monkeypatch.delenv("LISTENER_TRUSTPILOT_ACME")
        with pytest.raises(ClientError, match="LISTENER_TRUSTPILOT_ACME"):
            make_source(server, clock).poll({})


@pytest.mark.parametrize(("status", "headers", "body", "error"), [
    (401, {}, b'{"message": "Unauthorized"}', ClientError),
    (403, {}, b'{"message": "Forbidden"}', ClientError),
    (404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>", ClientError),
    (429, {"Retry-After": "300"}, b'{"message": "Too many requests"}', RateLimited),
    (503, {}, b"", SourceUnavailable),
    (200, {}, None, BadPayload),  # truncated JSON
    (200, {"Content-Type": "text/html"}, b"<html><body>Maintenance</body></html>", BadPayload),
    (200, {}, b'{"links": []}', BadPayload),
])
def test_error_shapes(clock: FakeClock, status: int, headers: dict[str, str], body: bytes | None,
                      error: type[Exception]) -> None:
    with TrustpilotServer(all_reviews(3)) as server:
        server.fail_path[REVIEWS_PATH] = (status, headers,
                                     reviews_page(all_reviews(3), 1, False)[:200] if body is None else body)
        with pytest.raises(error) as info:
            make_source(server, clock, domain=None, business_unit_id=UNIT).poll({})
    if status == 429:
        assert info.value.retry_after == 300  # type: ignore[attr-defined]
    if status in (401, 403, 404):
        assert info.value.status == status  # type: ignore[attr-defined]


def contract() -> ContractCase:
    """Trustpilot's fixture for the contract suite: the documented business-unit lookup and reviews pages."""
    def news(server: TrustpilotServer, when: datetime) -> str:
        server.reviews.insert(0, review(99, when, stars=1))
        return f"{99:024x}"

    return ContractCase(server=lambda clock: TrustpilotServer(all_reviews()), brands=BRANDS, news=news,
                        now=START + timedelta(hours=1), secrets={"LISTENER_TRUSTPILOT_ACME": KEY},
                        settings=lambda server: {"brand": "Acme", "domain": "acme.de", "per_page": 10,
                                                 "api_key_secret": "trustpilot-acme", "base_url": server.base_url})
