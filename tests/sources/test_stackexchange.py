"""Stack Exchange source against a real local HTTP server answering gzip-compressed JSON like the API."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
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
from listener.sources.stackexchange import StackExchangeSettings, StackExchangeSource
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request
from tests.wild import wild_bytes

SE = "stackexchange/AWegnerGitHub__stackapi/tests/mock_objects/"

JSON = {"Content-Type": "application/json; charset=utf-8"}
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TS = int(NOW.timestamp())


def question(qid: int, hours_ago: int, title: str, body: str, **extra: Any) -> dict[str, Any]:
    """A question in the documented /search/advanced shape with filter=withbody (no recording of this method
    exists in ../shared/wild; the envelope below is the one of the recorded /sites answer)."""
    return {
        "tags": ["acme-sdk", "python"],
        "owner": {"account_id": 4711, "reputation": 1234, "user_id": 815, "user_type": "registered",
                  "display_name": "J&#252;rgen M&#252;ller", "link": "https://stackoverflow.com/users/815/juergen"},
        "is_answered": False, "view_count": 57, "answer_count": 1, "score": 2,
        "last_activity_date": TS - hours_ago * 3600 + 60, "creation_date": TS - hours_ago * 3600,
        "question_id": qid, "content_license": "CC BY-SA 4.0",
        "link": f"https://stackoverflow.com/questions/{qid}/slug", "title": title, "body": body, **extra,
    }


QUESTIONS = [
    question(79000003, 1, "Acme SDK throws &quot;401&quot; after login",
             "<p>Since the update the <code>Acme</code> SDK fails with 401.</p>\n"
             "<pre><code>acme.login()\n</code></pre>"),
    question(79000002, 2, "How to page Acme API results?", "<p>I can&#39;t find the cursor.</p>"),
    question(79000001, 3, "Acme webhooks arrive twice", "<p>Every event is delivered two times.</p>"),
]


class Api:
    """Answers /2.3/search/advanced: fromdate filter, newest first, `pagesize` pages, gzip like the real API."""

    def __init__(self) -> None:
        self.envelope = json.loads(wild_bytes(SE + "test_stackoverflow_exists"))  # the real wrapper fields
        self.questions = list(QUESTIONS)
        self.extra: dict[str, Any] = {}  # added to every answer (backoff, quota_remaining …)
        self.fail: Reply | None = None

    def __call__(self, request: Request) -> Reply:
        path, params = request.path, request.params
        if self.fail:
            return self.fail
        if path != "/2.3/search/advanced":
            return 400, JSON, gzip.compress(json.dumps(
                {"error_id": 404, "error_name": "no_method", "error_message": "no method found"}).encode())
        fromdate, page, size = (int(params[k][0]) for k in ("fromdate", "page", "pagesize"))
        found = [q for q in self.questions if q["creation_date"] >= fromdate]
        chunk = found[(page - 1) * size: page * size]
        answer = {"items": chunk, "has_more": len(found) > page * size, "quota_max": self.envelope["quota_max"],
                  "quota_remaining": self.envelope["quota_remaining"], **self.extra}
        return 200, {**JSON, "Content-Encoding": "gzip"}, gzip.compress(json.dumps(answer).encode())


@pytest.fixture
def api() -> Iterator[tuple[ApiServer, Api]]:
    answers = Api()
    with ApiServer(answers) as server:
        yield server, answers


def make_source(base_url: str, clock: FakeClock | None = None, terms: list[str] | None = None,
                **settings: Any) -> StackExchangeSource:
    clock = clock or FakeClock(NOW)
    brands = [BrandSettings(name="Acme", terms=terms or ["Acme"])]
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=brands, clock=clock)
    config = StackExchangeSettings(name="so", base_url=base_url + "/2.3", page_size=2, **settings)
    return StackExchangeSource(config, context)


def test_registered() -> None:
    assert get_source_class("stackexchange") is StackExchangeSource


def test_first_poll_pages_through_the_last_day(api: tuple[ApiServer, Api]) -> None:
    server, answers = api
    batch = make_source(server.base_url).poll({})
    assert [m.external_id for m in batch.items] == ["79000003", "79000002", "79000001"]
    first = batch.items[0]
    assert first.title == 'Acme SDK throws "401" after login'
    assert first.text == "Since the update the Acme SDK fails with 401. acme.login()"
    assert first.author == "Jürgen Müller"
    assert first.url == "https://stackoverflow.com/questions/79000003/slug"
    assert first.published_at == NOW - timedelta(hours=1)
    assert first.reach == {"score": 2, "replies": 1, "views": 57, "reputation": 1234}
    assert first.thread_id == "79000003"
    assert first.extra == {"site": "stackoverflow", "tags": ["acme-sdk", "python"], "is_answered": False}
    assert batch.items[1].text == "I can't find the cursor."
    assert batch.next_cursor == {"fromdate": TS - 3600, "quota_remaining": answers.envelope["quota_remaining"]}

    params = [r.params for r in server.requests]
    assert [p["page"] for p in params] == [["1"], ["2"]]
    assert params[0]["fromdate"] == [str(TS - 24 * 3600)]
    assert params[0]["q"] == ["Acme"] and params[0]["site"] == ["stackoverflow"]
    assert params[0]["sort"] == ["creation"] and params[0]["filter"] == ["withbody"]
    assert "key" not in params[0]
    assert "gzip" in server.requests[0].headers.get("Accept-Encoding", "")


def test_second_poll_asks_from_the_newest_seen(api: tuple[ApiServer, Api]) -> None:
    server, _ = api
    source = make_source(server.base_url)
    cursor = source.poll({}).next_cursor
    server.requests.clear()
    batch = source.poll(cursor)
    assert [r.params["fromdate"] for r in server.requests] == [[str(TS - 3600)]]
    assert [m.external_id for m in batch.items] == ["79000003"]  # fromdate is inclusive; the store drops it
    assert batch.next_cursor["fromdate"] == TS - 3600


def test_backoff_ends_the_poll_and_the_next_one_waits(api: tuple[ApiServer, Api]) -> None:
    server, answers = api
    clock = FakeClock(NOW)
    source = make_source(server.base_url, clock)
    answers.extra = {"backoff": 10}
    batch = source.poll({})
    assert [m.external_id for m in batch.items] == ["79000003", "79000002"]  # page 1 only
    assert len(server.requests) == 1
    window = TS - 24 * 3600
    assert batch.next_cursor["fromdate"] == window  # cut short: the next poll reads the rest
    assert batch.next_cursor["not_before"] == TS + 10

    with pytest.raises(RateLimited) as caught:
        source.poll(batch.next_cursor)
    assert caught.value.retry_after == 10
    assert len(server.requests) == 1  # no request while the backoff lasts

    answers.extra = {}
    clock.advance(timedelta(seconds=11))
    again = source.poll(batch.next_cursor)
    assert [m.external_id for m in again.items] == ["79000003", "79000002", "79000001"]
    assert again.next_cursor == {"fromdate": TS - 3600, "quota_remaining": answers.envelope["quota_remaining"]}


def test_backoff_on_the_last_request_still_advances(api: tuple[ApiServer, Api]) -> None:
    server, answers = api
    answers.questions = QUESTIONS[:1]
    answers.extra = {"backoff": 5}
    batch = make_source(server.base_url).poll({})
    assert batch.next_cursor["fromdate"] == TS - 3600
    assert batch.next_cursor["not_before"] == TS + 5


def test_spent_quota_waits_for_midnight(api: tuple[ApiServer, Api]) -> None:
    server, answers = api
    answers.extra = {"quota_remaining": 3}
    batch = make_source(server.base_url, terms=["Acme", "Beta"]).poll({})
    assert len(server.requests) == 1
    assert batch.next_cursor["not_before"] == int(datetime(2026, 1, 6, tzinfo=UTC).timestamp())
    assert batch.next_cursor["quota_remaining"] == 3
    assert len(batch.items) == 2


def test_key_from_secret(api: tuple[ApiServer, Api], monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = api
    source = make_source(server.base_url, key_secret="stackexchange-key", site="superuser")
    with pytest.raises(ClientError, match="LISTENER_STACKEXCHANGE_KEY"):
        source.poll({})
    monkeypatch.setenv("LISTENER_STACKEXCHANGE_KEY", "k3y((")
    source.poll({})
    params = server.requests[-1].params
    assert params["key"] == ["k3y(("] and params["site"] == ["superuser"]


def gz(payload: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(payload).encode())


GZ_JSON = {**JSON, "Content-Encoding": "gzip"}
HTML_ERROR = b"<!DOCTYPE html><html><body><h1>Service Unavailable</h1></body></html>"


@pytest.mark.parametrize(("reply", "error"), [
    ((400, GZ_JSON, gz({"error_id": 400, "error_message": "fromdate", "error_name": "bad_parameter"})), ClientError),
    ((401, GZ_JSON, gz({"error_id": 401, "error_name": "access_token_required", "error_message": "x"})),
     ClientError),
    ((404, {"Content-Type": "text/html"}, b"<html><body>Page not found</body></html>"), ClientError),
    ((429, {"Retry-After": "30", **JSON}, b"{}"), RateLimited),
    ((500, GZ_JSON, gz({"error_id": 500, "error_name": "internal_error", "error_message": "x"})),
     SourceUnavailable),
    ((503, {"Content-Type": "text/html"}, HTML_ERROR), SourceUnavailable),
    ((200, GZ_JSON, gzip.compress(b'{"items": [{"question_id": 1, "tit')), BadPayload),
    ((200, {"Content-Type": "text/html"}, HTML_ERROR), BadPayload),
    ((200, JSON, b'{"has_more": false}'), BadPayload),
])
def test_error_shapes(api: tuple[ApiServer, Api], reply: Reply, error: type[Exception]) -> None:
    server, answers = api
    answers.fail = reply
    with pytest.raises(error) as caught:
        make_source(server.base_url).poll({})
    if reply[0] == 429:
        assert caught.value.retry_after == 30  # type: ignore[attr-defined]
    if isinstance(caught.value, ClientError):
        assert caught.value.status == reply[0]


def test_answer_of_another_method_is_a_bad_payload(api: tuple[ApiServer, Api]) -> None:
    server, answers = api
    answers.fail = (200, JSON, wild_bytes(SE + "test_users_associated"))  # real answer, but no questions in it
    with pytest.raises(BadPayload, match="no questions"):
        make_source(server.base_url).poll({})


@pytest.mark.skipif(not hasattr(ClientError("x", status=400), "body"),
                    reason="needs the HTTP fetcher to keep 4xx bodies (ClientError.body)")
def test_throttle_violation_is_rate_limited(api: tuple[ApiServer, Api]) -> None:
    server, answers = api
    answers.fail = (400, GZ_JSON, gz({"error_id": 502, "error_name": "throttle_violation",
                                      "error_message": "too many requests from this IP, more requests available "
                                                       "in 74451 seconds"}))
    with pytest.raises(RateLimited) as caught:
        make_source(server.base_url).poll({})
    assert caught.value.retry_after == 74451


def contract() -> ContractCase:
    """Stack Exchange's fixture for the contract suite: questions in the recorded API envelope, gzip-encoded."""
    api = Api()

    def news(server: ApiServer, when: datetime) -> str:
        api.questions.insert(0, question(79000009, 0, "Acme support never answers", "<p>A ticket a week ago.</p>",
                                         creation_date=int(when.timestamp())))
        return "79000009"

    return ContractCase(server=lambda clock: ApiServer(api), now=NOW, news=news,
                        brands=[BrandSettings(name="Acme", terms=["Acme"])],
                        settings=lambda server: {"base_url": server.base_url + "/2.3", "page_size": 2})
