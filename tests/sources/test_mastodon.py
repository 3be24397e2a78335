"""Mastodon hashtag timelines against a local fake instance serving statuses recorded by Mastodon.py's test suite
(../shared/wild/mastodon: vcrpy cassettes of a real Mastodon server, 2026)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from listener.clock import FakeClock
from listener.matching import BrandSettings
from listener.sources import mastodon
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
from listener.sources.mastodon import MastodonSettings, MastodonSource
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request
from tests.wild import wild_path

CASSETTES = "mastodon/halcy__Mastodon.py/tests/cassettes/"
# The recorded X-RateLimit-Reset of the timeline responses is 2026-08-01T14:00:00Z: start the clock just before.
START = datetime(2026, 8, 1, 13, 56, tzinfo=UTC)


def interaction(cassette: str, method: str, path: str) -> dict[str, Any]:
    recorded = yaml.safe_load(wild_path(CASSETTES + cassette).read_text(encoding="utf-8"))
    for item in recorded["interactions"]:
        request = item["request"]
        if request["method"] == method and urlsplit(request["uri"]).path == path:
            return dict(item["response"])
    raise AssertionError(f"{cassette} has no {method} {path}")


def recorded_headers(response: dict[str, Any]) -> dict[str, str]:
    keep = ("content-type", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "link")
    return {k: v[0] for k, v in response["headers"].items() if k.lower() in keep}


class FakeInstance(ApiServer):
    """A tiny Mastodon: `/api/v1/timelines/tag/<tag>` with Mastodon's limit / min_id semantics.

    `verbatim[tag]` is a recorded response (body + headers) served byte for byte to a request without
    `min_id`; `pools[tag]` are statuses served with real paging.
    """

    def __init__(self) -> None:
        self.pools: dict[str, list[dict[str, Any]]] = {}
        self.verbatim: dict[str, dict[str, Any]] = {}
        self.headers: dict[str, str] = {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                                        "X-RateLimit-Reset": "2026-08-01T14:00:00.070144Z"}
        super().__init__()
        self.url = self.base_url

    def answer(self, request: Request) -> Reply:
        prefix = "/api/v1/timelines/tag/"
        if not request.path.startswith(prefix):
            return 404, {"Content-Type": "application/json"}, b'{"error":"Not Found"}'
        tag = unquote(request.path[len(prefix):])
        min_id = request.param("min_id")
        if tag in self.verbatim and min_id is None:
            recorded = self.verbatim[tag]
            return 200, recorded_headers(recorded), recorded["body"]["string"].encode()
        statuses = self.page(tag, int(request.param("limit") or 20), min_id)
        return 200, {"Content-Type": "application/json; charset=utf-8", **self.headers}, json.dumps(statuses).encode()

    def page(self, tag: str, limit: int, min_id: str | None) -> list[dict[str, Any]]:
        pool = sorted(self.pools.get(tag, []), key=lambda s: int(s["id"]))
        if min_id is None:
            return list(reversed(pool[-limit:]))  # newest page, newest first
        newer = [s for s in pool if int(s["id"]) > int(min_id)]
        return list(reversed(newer[:limit]))  # the page right after min_id, still newest first

    def timeline_requests(self) -> list[tuple[str, dict[str, str]]]:
        return [(unquote(r.path), {k: v[0] for k, v in r.params.items()}) for r in self.requests]


@pytest.fixture
def public_statuses() -> list[dict[str, Any]]:
    """The 8 statuses of a recorded public timeline (same Status entity as tag timelines)."""
    recorded = interaction("test_public_tl.yaml", "GET", "/api/v1/timelines/public")
    return list(json.loads(recorded["body"]["string"]))


@pytest.fixture
def instance(public_statuses: list[dict[str, Any]]):
    with FakeInstance() as fake:
        fake.verbatim["hoot"] = interaction("test_hashtag_tl.yaml", "GET", "/api/v1/timelines/tag/hoot")
        fake.pools["acme"] = public_statuses
        yield fake


BRANDS = [BrandSettings(name="Kate", terms=["Kate"]), BrandSettings(name="Hoot", terms=["hoot"])]


def make_source(fake: FakeInstance, clock: FakeClock | None = None, **settings: Any) -> MastodonSource:
    clock = clock or FakeClock(START)
    values = {"name": "masto", "instance": fake.url, "hashtags": ["hoot", "#acme"], **settings}
    return MastodonSource(MastodonSettings(**values),
                          SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock),
                                        brands=BRANDS, clock=clock))


def test_registered_and_settings_validated() -> None:
    assert get_source_class("mastodon") is MastodonSource
    settings = MastodonSettings(name="m", instance="https://mastodon.social",
                                hashtags=["#Acme", "acme", "Kundenservice"])
    assert settings.hashtags == ["Acme", "Kundenservice"]
    with pytest.raises(ValueError):
        MastodonSettings(name="m", instance="https://mastodon.social", hashtags=["two words"])
    with pytest.raises(ValueError):
        MastodonSettings(name="m", instance="https://mastodon.social", hashtags=[])
    with pytest.raises(ValueError):
        MastodonSettings(name="m", instance="https://mastodon.social", hashtags=["a"], bogus=1)


def test_first_poll_reads_the_newest_page_of_each_hashtag(instance: FakeInstance) -> None:
    batch = make_source(instance).poll({})

    assert instance.timeline_requests() == [
        ("/api/v1/timelines/tag/hoot", {"limit": "40"}),
        ("/api/v1/timelines/tag/acme", {"limit": "40"}),
    ]
    by_id = {m.external_id: m for m in batch.items}
    assert len(batch.items) == 9
    hoot = by_id["117020593741189701"]
    assert hoot.source_kind == "mastodon" and hoot.source_name == "masto"
    assert hoot.text == "#hoot (hashtag toot)"
    assert hoot.author == "mastodonpy_test_2"
    assert hoot.reply_ref == {"acct": "mastodonpy_test_2"}  # whom an answer @mentions (listener/replies)
    assert hoot.url == "http://localhost:3000/@mastodonpy_test_2/117020593741189701"
    assert hoot.published_at == datetime(2026, 8, 1, 13, 55, 55, 867000, tzinfo=UTC)
    assert hoot.reach == {"replies": 0, "reposts": 0, "likes": 0, "followers": 0}
    assert hoot.lang_hint == "ja"
    assert hoot.fetched_at == START

    tv = by_id["117020592137523525"]
    assert tv.text == "you can't say that on television"  # HTML entities and tags gone
    assert tv.author == "admin" and tv.reach["followers"] == 1
    assert tv.published_at == datetime(2026, 8, 1, 13, 55, 31, 396000, tzinfo=UTC)
    kate = by_id["117020586180926938"]
    assert kate.text == "the best editor? why, of course it is the KDE Advanced Text Editor, Kate"
    mention_reply = by_id["117020588169351887"]
    assert mention_reply.text.startswith("@mastodonpy_test")  # h-card mention markup flattened to text
    assert "<" not in mention_reply.text

    assert batch.next_cursor == {"min_id": {"hoot": "117020593741189701", "acme": "117020593378945190"}}


def test_next_poll_asks_only_for_newer_statuses(instance: FakeInstance,
                                                 public_statuses: list[dict[str, Any]]) -> None:
    source = make_source(instance)
    cursor = source.poll({}).next_cursor
    instance.requests.clear()

    again = source.poll(cursor)
    assert again.items == []
    assert again.next_cursor == cursor
    assert instance.timeline_requests() == [
        ("/api/v1/timelines/tag/hoot", {"limit": "40", "min_id": "117020593741189701"}),
        ("/api/v1/timelines/tag/acme", {"limit": "40", "min_id": "117020593378945190"}),
    ]

    fresh = dict(public_statuses[0], id="117020600000000000", content="<p>Kate crashed again &amp; again</p>")
    instance.pools["acme"].append(fresh)
    third = source.poll(cursor)
    assert [m.external_id for m in third.items] == ["117020600000000000"]
    assert third.items[0].text == "Kate crashed again & again"
    assert third.next_cursor["min_id"]["acme"] == "117020600000000000"


def test_a_backlog_is_walked_oldest_first_across_polls(instance: FakeInstance, monkeypatch) -> None:
    monkeypatch.setattr(mastodon, "PAGE_SIZE", 3)
    source = make_source(instance, hashtags=["acme"], max_pages=2)
    ordered = sorted(instance.pools["acme"], key=lambda s: int(s["id"]))
    cursor = {"min_id": {"acme": ordered[0]["id"]}}  # seven statuses are newer than the cursor

    first = source.poll(cursor)
    assert sorted(m.external_id for m in first.items) == sorted(s["id"] for s in ordered[1:7])
    assert first.next_cursor["min_id"]["acme"] == ordered[6]["id"]
    assert [q.get("min_id") for _, q in instance.timeline_requests()] == [ordered[0]["id"], ordered[3]["id"]]

    second = source.poll(first.next_cursor)
    assert [m.external_id for m in second.items] == [ordered[7]["id"]]
    assert second.next_cursor["min_id"]["acme"] == ordered[7]["id"]


def test_a_failing_hashtag_is_listed_while_the_others_are_read(instance: FakeInstance) -> None:
    def answer(request: Request) -> Reply:
        if request.path.endswith("/hoot"):
            return 502, {"Content-Type": "text/html"}, b"<h1>Bad Gateway</h1>"
        return FakeInstance.answer(instance, request)

    instance.answer = answer  # type: ignore[method-assign]
    batch = make_source(instance).poll({})
    assert batch.items and {m.extra["hashtag"] for m in batch.items} == {"acme"}
    assert list(batch.failed_targets) == ["#hoot"] and "502" in batch.failed_targets["#hoot"]
    assert set(batch.next_cursor["min_id"]) == {"acme"}  # #hoot starts from its newest page next time


def test_used_up_rate_limit_stops_the_poll_and_holds_the_next_one(instance: FakeInstance) -> None:
    instance.headers["X-RateLimit-Remaining"] = "0"
    clock = FakeClock(START)
    source = make_source(instance, clock=clock, hashtags=["acme", "hoot"])

    batch = source.poll({})
    assert len(batch.items) == 8  # what was fetched is kept
    assert [p for p, _ in instance.timeline_requests()] == ["/api/v1/timelines/tag/acme"]  # "hoot" waits
    assert batch.next_cursor["min_id"] == {"acme": "117020593378945190"}
    until = datetime(2026, 8, 1, 14, 0, 0, 70144, tzinfo=UTC)
    assert datetime.fromisoformat(batch.next_cursor["rate_limited_until"]) == until

    instance.requests.clear()
    with pytest.raises(RateLimited) as caught:
        source.poll(batch.next_cursor)
    assert caught.value.retry_after == pytest.approx((until - START).total_seconds())
    assert instance.requests == []  # no request spent while the limit is used up

    clock.advance(timedelta(minutes=5))
    instance.headers["X-RateLimit-Remaining"] = "299"
    later = source.poll(batch.next_cursor)
    assert "rate_limited_until" not in later.next_cursor
    assert [p for p, _ in instance.timeline_requests()] == ["/api/v1/timelines/tag/acme",
                                                           "/api/v1/timelines/tag/hoot"]


def test_token_secret_is_sent_as_bearer(instance: FakeInstance, monkeypatch) -> None:
    monkeypatch.setenv("LISTENER_MASTODON_TOKEN", "s3cret-token")
    make_source(instance, token_secret="mastodon-token").poll({})
    assert all(h.get("Authorization") == "Bearer s3cret-token" for h in (r.headers for r in instance.requests))

    monkeypatch.delenv("LISTENER_MASTODON_TOKEN")
    with pytest.raises(ClientError, match="LISTENER_MASTODON_TOKEN"):
        make_source(instance, token_secret="mastodon-token").poll({})


def test_anonymous_requests_carry_no_authorization(instance: FakeInstance) -> None:
    make_source(instance).poll({})
    assert all("Authorization" not in h for h in (r.headers for r in instance.requests))


def not_found_body() -> bytes:
    return interaction("test_status_missing.yaml", "GET", "/api/v1/statuses/0")["body"]["string"].encode()


@pytest.mark.parametrize(("status", "headers", "body", "error", "check"), [
    (401, {"Content-Type": "application/json"}, b'{"error":"This method requires an authenticated user"}',
     ClientError, lambda e: e.status == 401),
    (404, {"Content-Type": "application/json"}, None, ClientError, lambda e: e.status == 404),
    (429, {"Retry-After": "120", "X-RateLimit-Remaining": "0"}, b'{"error":"Too many requests"}',
     RateLimited, lambda e: e.retry_after == 120),
    (500, {"Content-Type": "text/html"}, b"<h1>We're sorry, but something went wrong</h1>",
     SourceUnavailable, lambda e: True),
    (200, {"Content-Type": "application/json"}, b'[{"id":"1170205933789451', BadPayload, lambda e: True),
    (200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><body>Maintenance</body></html>",
     BadPayload, lambda e: True),
    (200, {"Content-Type": "application/json"}, b'{"error":"gone"}', BadPayload, lambda e: True),
    (200, {"Content-Type": "application/json"}, b'[{"content":"<p>no id</p>"}]', BadPayload, lambda e: True),
    (200, {"Content-Type": "application/json"}, b'[{"id":"5","content":"x","account":null}]',
     BadPayload, lambda e: True),
])
def test_error_shapes_raise_typed_errors(instance: FakeInstance, status, headers, body, error, check) -> None:
    instance.fail = (status, headers, not_found_body() if body is None else body)
    with pytest.raises(error) as caught:
        make_source(instance).poll({})
    assert type(caught.value) is error and check(caught.value)


def contract() -> ContractCase:
    """Mastodon's fixture for the contract suite: the recorded #hoot timeline and a recorded public timeline."""

    def instance(clock: FakeClock) -> FakeInstance:
        fake = FakeInstance()
        fake.verbatim["hoot"] = interaction("test_hashtag_tl.yaml", "GET", "/api/v1/timelines/tag/hoot")
        fake.pools["acme"] = json.loads(interaction("test_public_tl.yaml", "GET",
                                                    "/api/v1/timelines/public")["body"]["string"])
        return fake

    def news(fake: FakeInstance, when: datetime) -> str:
        fake.pools["acme"].append(dict(fake.pools["acme"][0], id="117020600000000000", created_at=when.isoformat(),
                                       content="<p>Kate ate my file</p>"))
        return "117020600000000000"

    return ContractCase(server=instance, brands=BRANDS, now=START, news=news,
                        settings=lambda fake: {"instance": fake.base_url, "hashtags": ["hoot", "acme"]})
