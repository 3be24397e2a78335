"""Bluesky searchPosts against a local fake PDS serving a recorded real search answer
(../shared/wild/bluesky: an R vcr cassette of `app.bsky.feed.searchPosts?q=redistricting`, bsky.social, May 2025).

The cassette keeps a `Content-Encoding: gzip` header over a body stored as plain text: it is not replayed.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from listener.clock import FakeClock
from listener.matching import BrandSettings
from listener.sources import bluesky
from listener.sources.bluesky import BlueskySettings, BlueskySource, term_query
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
from tests.sources._http import ApiServer, Reply, Request, json_reply
from tests.wild import wild_path

CASSETTE = "bluesky/christopherkenny__bskyr/tests/testthat/_vcr/f_search.yml"
START = datetime(2025, 5, 19, 17, 41, 36, tzinfo=UTC)  # the recording's Date header
HANDLE = "acme-listener.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
NEWEST_URI = "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpk2u6qo222m"


def recorded() -> dict[str, Any]:
    cassette = yaml.safe_load(wild_path(CASSETTE).read_text(encoding="utf-8"))
    [interaction] = cassette["http_interactions"]
    return dict(interaction["response"])


def jwt(subject: str, expires: datetime, serial: int) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    claims = {"sub": subject, "exp": int(expires.timestamp()), "n": serial}
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(claims)}.c2ln"


def sort_at(post: dict[str, Any]) -> datetime:
    times = [datetime.fromisoformat(post["record"]["createdAt"]), datetime.fromisoformat(post["indexedAt"])]
    return min(t.astimezone(UTC) for t in times)


class FakePds(ApiServer):
    """createSession / refreshSession / searchPosts with since, until, limit and an offset cursor."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        response = recorded()
        self.recorded_body: bytes = response["body"]["string"].encode()
        self.recorded_headers = {k: str(v) for k, v in response["headers"].items()
                                 if k in ("Content-Type",) or k.startswith("RateLimit-")}
        assert response["headers"]["Content-Encoding"] == "gzip"  # the trap this server does not replay
        self.posts: list[dict[str, Any]] = list(json.loads(self.recorded_body)["posts"])
        self.access: set[str] = set()
        self.expired: set[str] = set()  # access tokens the server answers with 400 ExpiredToken
        self.refresh: set[str] = set()
        self.serial = 0
        self.rate_remaining: str | None = None
        super().__init__()
        self.api_url = self.base_url + "/xrpc"

    def answer(self, request: Request) -> Reply:
        token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        if request.method == "POST" and request.path == "/xrpc/com.atproto.server.createSession":
            if request.json() != {"identifier": HANDLE, "password": PASSWORD}:
                return json_reply({"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                                  401)
            return json_reply(self.session())
        if request.method == "POST" and request.path == "/xrpc/com.atproto.server.refreshSession":
            if token in self.refresh:
                self.refresh.discard(token)
                return json_reply(self.session())
            return json_reply({"error": "ExpiredToken", "message": "Token has been revoked"}, 400)
        if request.method != "GET" or request.path != "/xrpc/app.bsky.feed.searchPosts":
            return json_reply({"error": "MethodNotImplemented"}, 404)
        if token in self.expired:
            return json_reply({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        if token not in self.access:
            return json_reply({"error": "AuthenticationRequired", "message": "Authentication Required"}, 401)
        return 200, self.headers(), self.search({k: v[0] for k, v in request.params.items()})

    def session(self) -> dict[str, Any]:
        self.serial += 1
        now = self.clock.now()
        access = jwt("did:plc:acme", now + timedelta(hours=2), self.serial)
        refresh = jwt("did:plc:acme", now + timedelta(days=60), self.serial)
        self.access.add(access)
        self.refresh.add(refresh)
        return {"did": "did:plc:acme", "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh, "active": True}

    def headers(self) -> dict[str, str]:
        headers = dict(self.recorded_headers)
        if self.rate_remaining is not None:
            headers["RateLimit-Remaining"] = self.rate_remaining
        return headers

    def search(self, query: dict[str, str]) -> bytes:
        posts = [p for p in self.posts if "redistricting" in query["q"].casefold()]
        if "since" in query:
            posts = [p for p in posts if sort_at(p) >= datetime.fromisoformat(query["since"])]
        if "until" in query:
            posts = [p for p in posts if sort_at(p) < datetime.fromisoformat(query["until"])]
        posts.sort(key=sort_at, reverse=True)
        start, limit = int(query.get("cursor", "0")), int(query.get("limit", "25"))
        page = posts[start:start + limit]
        if start == 0 and page == self.posts and start + limit >= len(self.posts):
            return self.recorded_body  # exactly the recorded answer: serve its bytes
        answer: dict[str, Any] = {"posts": page}
        if start + limit < len(posts):
            answer["cursor"] = str(start + limit)
        return json.dumps(answer).encode()

    def searches(self) -> list[dict[str, str]]:
        return [{k: v[0] for k, v in r.params.items()} for r in self.requests if r.path.endswith("searchPosts")]

    def logins(self) -> int:
        return sum(1 for r in self.requests if r.path.endswith("createSession"))


BRANDS = [BrandSettings(name="Redistricting", terms=["redistricting"]),
          BrandSettings(name="Tarrant", terms=["Tarrant County"], competitor=True)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def pds(clock: FakeClock, monkeypatch):
    monkeypatch.setenv("LISTENER_BLUESKY_APP_PASSWORD", PASSWORD)
    with FakePds(clock) as fake:
        yield fake


def make_source(pds: FakePds, clock: FakeClock, **settings: Any) -> BlueskySource:
    values = {"name": "bsky", "handle": "@" + HANDLE, "base_url": pds.api_url, **settings}
    return BlueskySource(BlueskySettings(**values),
                         SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock),
                                       brands=BRANDS, clock=clock))


def test_registered_settings_and_queries(pds: FakePds, clock: FakeClock) -> None:
    assert get_source_class("bluesky") is BlueskySource
    assert BlueskySettings(name="b", handle="@x.bsky.social").handle == "x.bsky.social"
    assert str(BlueskySettings(name="b", handle="x.bsky.social").base_url) == "https://bsky.social/xrpc"
    with pytest.raises(ValueError):
        BlueskySettings(name="b", handle="x.bsky.social", app_password="inline secrets are refused")
    assert [term_query(t) for t in ["Acme", "Acme Bank", "Acme-Hotline", 'say "hi"']] == [
        "Acme", '"Acme Bank"', '"Acme-Hotline"', '"say hi"']
    source = make_source(pds, clock)
    assert source.search_queries() == ["redistricting", '"Tarrant County"']  # one query per term: no OR
    assert make_source(pds, clock, queries=["from:x.bsky.social acme"]).search_queries() == [
        "from:x.bsky.social acme"]
    if "query" in BrandSettings.model_fields:  # a brand's boolean query contributes its positive terms
        with_query = BrandSettings(name="Acme", terms=["Acme"], query='"Acme Bank" AND (hotline OR app*) NOT job')
        source = BlueskySource(BlueskySettings(name="b", handle=HANDLE),
                               SourceContext(http=HttpFetcher(HttpSettings()), brands=[with_query], clock=clock))
        # Every match contains "Acme Bank", so that is all the query adds: no search for every "hotline" post.
        assert source.search_queries() == ["Acme", '"Acme Bank"']


def test_first_poll_logs_in_and_reads_the_last_day(pds: FakePds, clock: FakeClock) -> None:
    batch = make_source(pds, clock, queries=["redistricting"]).poll({})

    login = pds.requests[0]
    assert (login.method, login.path) == ("POST", "/xrpc/com.atproto.server.createSession")
    assert login.json() == {"identifier": HANDLE, "password": PASSWORD}
    [search] = [r for r in pds.requests if r.path.endswith("searchPosts")]
    assert pds.searches() == [{"q": "redistricting", "sort": "latest", "since": "2025-05-18T17:41:36.000Z",
                               "limit": "100"}]
    assert search.headers["Authorization"].startswith("Bearer ") and search.headers["Authorization"][7:] in pds.access

    assert len(batch.items) == 25
    first = batch.items[0]
    assert first.external_id == NEWEST_URI
    assert first.source_kind == "bluesky" and first.source_name == "bsky"
    assert first.author == "socpaperbot.bsky.social"
    assert first.url == "https://bsky.app/profile/socpaperbot.bsky.social/post/3lpk2u6qo222m"
    assert first.text.startswith("Ends Versus Means: Public Opinion on Congressional Redistricting https://osf.io/v87fn")
    assert first.published_at == datetime(2025, 5, 19, 17, 10, 9, 561858, tzinfo=UTC)
    assert first.reach == {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0}
    by_uri = {m.external_id: m for m in batch.items}
    op_ed = by_uri["at://did:plc:s7savtl25cqhm3ddqc7jeljx/app.bsky.feed.post/3lpk2r5h5ec2j"]
    assert op_ed.reach == {"likes": 4, "reposts": 3, "replies": 0, "quotes": 0}
    assert op_ed.lang_hint == "en" and op_ed.author == "cjtackett.bsky.social"
    assert "Tarrant County Commissioner Manny Ramirez supporting Redistricting." in op_ed.text
    reply = by_uri["at://did:plc:7nagdvjqrzaquzk7mueohne5/app.bsky.feed.post/3lpjzka2pzc2l"]
    assert reply.parent_id == "at://did:plc:7nagdvjqrzaquzk7mueohne5/app.bsky.feed.post/3lpjzgltpa22l"
    assert reply.thread_id == "at://did:plc:7nagdvjqrzaquzk7mueohne5/app.bsky.feed.post/3lpjy3eabqs2l"
    # what an answer needs (listener/replies): the post's cid and its thread root as strong refs
    assert set(reply.reply_ref) == {"cid", "root_uri", "root_cid"} and reply.reply_ref["cid"].startswith("bafy")
    assert reply.reply_ref["root_uri"] == reply.thread_id and set(first.reply_ref) == {"cid"}
    # createdAt after indexedAt (clock skew): published keeps createdAt, the cursor uses the earlier sortAt
    skewed = by_uri["at://did:plc:mhbp4wx4zsjf6537frktqux2/app.bsky.feed.post/3lpikwarowc2o"]
    assert skewed.published_at == datetime(2025, 5, 19, 2, 52, 19, 333000, tzinfo=UTC)
    offset = by_uri["at://did:plc:qogyzvlh3vivathu2piavvpv/app.bsky.feed.post/3lpii6nwbyt2m"]
    assert offset.published_at == datetime(2025, 5, 19, 2, 3, 20, 286393, tzinfo=UTC)  # "+00:00" form
    assert all(m.published_at and m.published_at.tzinfo == UTC for m in batch.items)

    assert batch.next_cursor == {"queries": {"redistricting": {"since": "2025-05-19T17:10:09.561Z"}}}
    assert HANDLE not in json.dumps(batch.next_cursor) and "eyJ" not in json.dumps(batch.next_cursor)


def test_next_poll_reuses_the_session_and_asks_only_for_newer_posts(pds: FakePds, clock: FakeClock) -> None:
    source = make_source(pds, clock, queries=["redistricting"])
    cursor = source.poll({}).next_cursor
    pds.requests.clear()
    clock.advance(timedelta(minutes=5))

    again = source.poll(cursor)
    assert pds.logins() == 0
    assert pds.searches()[0]["since"] == "2025-05-19T17:05:09.561Z"  # newest seen minus the 5 min overlap
    assert [m.external_id for m in again.items] == [NEWEST_URI,
                                                    "at://did:plc:s7savtl25cqhm3ddqc7jeljx/app.bsky.feed.post/3lpk2r5h5ec2j"]
    assert again.next_cursor == cursor

    late = json.loads(json.dumps(pds.posts[0]))
    late["uri"] = "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpkzzzzzzz2a"
    late["record"]["createdAt"] = late["indexedAt"] = "2025-05-19T17:44:00.000Z"
    pds.posts.append(late)
    third = source.poll(again.next_cursor)
    assert third.items[0].external_id == late["uri"]
    assert third.next_cursor["queries"]["redistricting"] == {"since": "2025-05-19T17:44:00.000Z"}


def test_a_burst_is_read_across_polls_without_a_gap(pds: FakePds, clock: FakeClock, monkeypatch) -> None:
    monkeypatch.setattr(bluesky, "PAGE_SIZE", 10)
    source = make_source(pds, clock, queries=["redistricting"], max_pages=1)
    ordered = sorted(pds.posts, key=sort_at, reverse=True)

    first = source.poll({})
    assert [m.external_id for m in first.items] == [p["uri"] for p in ordered[:10]]
    state = first.next_cursor["queries"]["redistricting"]
    assert state["floor"] == "2025-05-18T17:41:36.000Z" and state["pending"] == "2025-05-19T17:10:09.561Z"

    second = source.poll(first.next_cursor)
    assert pds.searches()[-1]["until"] == state["until"]
    # `until` is exclusive and set 1 ms above the oldest post read, so that boundary post is read again
    assert [m.external_id for m in second.items] == [p["uri"] for p in ordered[9:19]]

    third = source.poll(second.next_cursor)
    assert [m.external_id for m in third.items] == [p["uri"] for p in ordered[18:]]
    assert third.next_cursor["queries"]["redistricting"] == {"since": "2025-05-19T17:10:09.561Z"}
    seen = [m.external_id for b in (first, second, third) for m in b.items]
    assert sorted(set(seen)) == sorted(p["uri"] for p in pds.posts)  # none lost (the store drops the 2 repeats)


def test_tokens_are_renewed_before_expiry_and_after_refusal(pds: FakePds, clock: FakeClock) -> None:
    source = make_source(pds, clock, queries=["redistricting"])
    cursor = source.poll({}).next_cursor
    assert pds.logins() == 1

    clock.advance(timedelta(hours=2))  # the access token is about to expire: refreshSession, no new login
    source.poll(cursor)
    paths = [r.path for r in pds.requests]
    assert paths.count("/xrpc/com.atproto.server.refreshSession") == 1 and pds.logins() == 1

    pds.expired = set(pds.access)  # expired early by the server's clock: 400 ExpiredToken → refresh, retry
    source.poll(cursor)
    paths = [r.path for r in pds.requests]
    assert paths.count("/xrpc/com.atproto.server.refreshSession") == 2 and pds.logins() == 1

    pds.access.clear()  # revoked server-side: a 401, one new session, one retry
    pds.refresh.clear()
    batch = source.poll(cursor)
    assert len(batch.items) >= 1 and pds.logins() == 2


def test_wrong_app_password_is_a_client_error(pds: FakePds, clock: FakeClock, monkeypatch) -> None:
    monkeypatch.setenv("LISTENER_BLUESKY_APP_PASSWORD", "wrong")
    with pytest.raises(ClientError) as caught:
        make_source(pds, clock).poll({})
    assert caught.value.status == 401 and "wrong" not in str(caught.value)
    monkeypatch.delenv("LISTENER_BLUESKY_APP_PASSWORD")
    with pytest.raises(ClientError, match="LISTENER_BLUESKY_APP_PASSWORD"):
        make_source(pds, clock).poll({})


def test_nothing_to_search_for_is_a_client_error(pds: FakePds, clock: FakeClock) -> None:
    source = BlueskySource(BlueskySettings(name="b", handle=HANDLE, base_url=pds.api_url),
                           SourceContext(http=HttpFetcher(HttpSettings(retries=0)), brands=[], clock=clock))
    with pytest.raises(ClientError, match="nothing to search"):
        source.poll({})


def test_used_up_rate_limit_holds_the_next_poll(pds: FakePds, clock: FakeClock) -> None:
    pds.rate_remaining = "0"
    source = make_source(pds, clock)
    batch = source.poll({})
    assert len(pds.searches()) == 1  # '"Tarrant County"' waits for the next window
    until = datetime.fromtimestamp(1747676784, tz=UTC)  # the recorded RateLimit-Reset
    assert datetime.fromisoformat(batch.next_cursor["rate_limited_until"]) == until
    with pytest.raises(RateLimited) as caught:
        source.poll(batch.next_cursor)
    assert caught.value.retry_after == pytest.approx((until - START).total_seconds())


@pytest.mark.parametrize(("status", "headers", "body", "error"), [
    (429, {"Retry-After": "60", "Content-Type": "application/json"},
     b'{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}', RateLimited),
    (200, {"Content-Type": "application/json"}, b'{"posts":[{"uri":"at://did:plc:kkergqgbhb56pt', BadPayload),
    (502, {"Content-Type": "text/html"}, b"<html><body><h1>502 Bad Gateway</h1></body></html>", SourceUnavailable),
    (200, {"Content-Type": "text/html"}, b"<!doctype html><html><body>Bluesky</body></html>", BadPayload),
    (400, {"Content-Type": "application/json"}, b'{"error":"BadQueryString","message":"bad query"}', ClientError),
    (200, {"Content-Type": "application/json"}, b'{"cursor":"25"}', BadPayload),
    (200, {"Content-Type": "application/json"}, b'{"posts":[{"uri":"not-an-at-uri","author":{},"record":{}}]}',
     BadPayload),
])
def test_error_shapes_raise_typed_errors(pds: FakePds, clock: FakeClock, status, headers, body, error) -> None:
    pds.fail = (status, headers, body)
    with pytest.raises(error) as caught:
        make_source(pds, clock).poll({})
    if status == 429:
        assert caught.value.retry_after == 60
    if status == 400:
        assert pds.logins() == 1  # a bad query is not a refused token: no second login


def contract() -> ContractCase:
    """Bluesky's fixture for the contract suite: the recorded searchPosts answer behind a PDS that logs in."""
    def news(pds: FakePds, when: datetime) -> str:
        late = json.loads(json.dumps(pds.posts[0]))
        late["uri"] = "at://did:plc:kkergqgbhb56ptpwj2wenkje/app.bsky.feed.post/3lpkzzzzzzz2a"
        late["record"]["createdAt"] = late["indexedAt"] = bluesky.iso(when)
        pds.posts.append(late)
        return str(late["uri"])

    return ContractCase(server=FakePds, brands=BRANDS, now=START, news=news,
                        settings=lambda pds: {"handle": HANDLE, "base_url": pds.base_url + "/xrpc"},
                        secrets={"LISTENER_BLUESKY_APP_PASSWORD": PASSWORD})
