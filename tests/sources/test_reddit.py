"""Reddit source: praw pointed (through oauth_url/reddit_url) at a real local server replaying praw's own
recorded Reddit answers (asyncpraw's betamax cassettes)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
from listener.sources.reddit import RedditSettings, RedditSource
from tests.sources._contract import ContractCase
from tests.sources._http import ApiServer, Reply, Request
from tests.wild import wild_path

CASSETTES = "reddit/praw-dev__asyncpraw/tests/integration/cassettes/"
TOKEN = "test-access-token"
JSON = {"Content-Type": "application/json; charset=UTF-8"}
PASS_HEADERS = ("content-type", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used")
EMPTY_LISTING = json.dumps({"kind": "Listing", "data": {"after": None, "dist": 0, "modhash": None,
                                                        "children": [], "before": None}}).encode()


def load_cassette(name: str) -> list[tuple[str, str, dict[str, list[str]], Reply]]:
    """(method, path, query, (status, headers, body)) for each recorded interaction, placeholders filled."""
    data = json.loads(wild_path(CASSETTES + name).read_text())
    out = []
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        body_field = response["body"]
        body = (base64.b64decode(body_field["base64_string"]) if "base64_string" in body_field
                else body_field.get("string", "").encode())
        body = body.replace(b"<ACCESS_TOKEN>", TOKEN.encode())
        headers = {}
        for key, value in response["headers"].items():
            if key.lower() in PASS_HEADERS:
                headers[key] = value[0] if isinstance(value, list) else value
        parts = urlsplit(request["uri"])
        query = {k: v for k, v in parse_qs(parts.query).items() if k not in ("limit", "raw_json")}
        path = parts.path.rstrip("/").lower()
        out.append((request["method"], path, query, (response["status"]["code"], headers, body)))
    return out


class RedditServer(ApiServer):
    """oauth.reddit.com and www.reddit.com in one loopback server: a token endpoint and recorded listings.

    GET answers are looked up by path and the `before` parameter; an unrecorded `before` gets an empty
    listing, as Reddit gives when nothing is newer. `fail_path[path]` makes one path misbehave.
    """

    def __init__(self, *cassettes: str):
        self.routes: dict[tuple[str, str | None], Reply] = {}
        self.token_reply: Reply | None = None
        for name in cassettes:
            for method, path, query, reply in load_cassette(name):
                if method == "POST" and path == "/api/v1/access_token":
                    self.token_reply = (200, JSON, json.dumps({"access_token": TOKEN, "token_type": "bearer",
                                                               "expires_in": 3600, "scope": "*"}).encode())
                elif method == "GET":
                    self.routes[(path, (query.get("before") or [None])[0])] = reply
        self.fail_path: dict[str, Reply] = {}
        self.pools: dict[str, list[dict[str, Any]]] = {}  # path → items: answered like Reddit, by before/limit
        super().__init__()

    def answer(self, request: Request) -> Reply:
        path = request.path.rstrip("/").lower()  # Reddit's paths ignore case
        if path in self.fail_path:
            return self.fail_path[path]
        if request.method == "POST" and path == "/api/v1/access_token" and self.token_reply:
            return self.token_reply
        if request.headers.get("Authorization") != f"bearer {TOKEN}":
            return 401, {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"', **JSON}, \
                b'{"message": "Unauthorized", "error": 401}'
        if path in self.pools:
            return 200, JSON, self.listing(path, request.params)
        if (path, None) in self.routes:
            return self.routes.get((path, request.param("before")), (200, JSON, EMPTY_LISTING))
        return 404, JSON, b'{"message": "Not Found", "error": 404}'

    def listing(self, path: str, params: dict[str, list[str]]) -> bytes:
        """Reddit's listing semantics over a pool of items: newest first; `before=X` gives the `limit` items
        just newer than X (nothing when X is unknown)."""
        pool = sorted(self.pools[path], key=lambda c: int(c["data"]["id"], 36), reverse=True)
        limit = int(params.get("limit", ["25"])[0])
        before = params.get("before", [None])[0]
        if before is None:
            page = pool[:limit]
        else:
            names = [c["data"]["name"] for c in pool]
            page = pool[max(0, names.index(before) - limit):names.index(before)] if before in names else []
        return json.dumps({"kind": "Listing", "data": {"after": None, "before": None, "dist": len(page),
                                                       "children": page}}).encode()

    def gets(self) -> list[tuple[str, dict[str, list[str]]]]:
        return [(r.path, r.params) for r in self.requests if r.method == "GET"]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENER_REDDIT_CLIENT_ID", "my-client-id")
    monkeypatch.setenv("LISTENER_REDDIT_CLIENT_SECRET", "my-client-secret")


@pytest.fixture
def askreddit() -> Iterator[RedditServer]:
    with RedditServer("TestSubredditListings.test_new.json",
                      "TestSubredditStreams.test_comments__with_skip_existing.json",
                      "TestSubreddit.test_search.json", "TestSubredditStreams.test_submissions.json") as server:
        yield server


NOW = datetime(2021, 11, 7, 0, 0, tzinfo=UTC)


def make_source(server: RedditServer, clock: FakeClock | None = None, terms: list[str] | None = None,
                **settings: Any) -> RedditSource:
    clock = clock or FakeClock(NOW)
    brands = [BrandSettings(name="Acme", terms=terms or ["praw"])]
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=brands, clock=clock)
    settings.setdefault("subreddits", ["AskReddit"])
    settings.setdefault("search", False)
    return RedditSource(RedditSettings(name="reddit", base_url=server.base_url, **settings), context)


def test_registered() -> None:
    assert get_source_class("reddit") is RedditSource


def test_settings() -> None:
    assert RedditSettings(name="r", subreddits=["r/de", "/r/Finanzen/"]).subreddits == ["de", "Finanzen"]
    with pytest.raises(ValueError, match="plain names"):
        RedditSettings(name="r", subreddits=["de utsch"])
    with pytest.raises(ValueError, match="give subreddits"):
        RedditSettings(name="r", search=False)


def test_first_poll_reads_a_page_of_each_listing(askreddit: RedditServer) -> None:
    batch = make_source(askreddit).poll({})
    submissions = [m for m in batch.items if m.external_id.startswith("t3_")]
    comments = [m for m in batch.items if m.external_id.startswith("t1_")]
    assert len(submissions) == 100 and len(comments) == 100

    post = submissions[0]
    assert post.external_id == "t3_hozvuc"
    assert post.title == "What is best thing America has done for the world?"
    assert post.text == post.title  # a question without body
    assert post.author == "p1aguedoc"
    assert post.url == ("https://www.reddit.com/r/AskReddit/comments/hozvuc/"
                        "what_is_best_thing_america_has_done_for_the_world/")
    assert post.published_at == datetime.fromtimestamp(1594424685, tz=UTC)
    assert post.reach == {"score": 3, "replies": 3, "followers": 28755055}
    assert post.thread_id == "t3_hozvuc"
    assert post.extra == {"type": "submission", "subreddit": "AskReddit"}

    comment = comments[0]
    assert comment.external_id == "t1_hjlzwfl"
    assert comment.text == "I would like to be rich but I would not like to be famous."
    assert comment.author == "Too_Old_1981"
    assert comment.title is None
    assert comment.thread_id == "t3_qobev9" and comment.parent_id == "t3_qobev9"
    assert comment.url == ("https://www.reddit.com/r/AskReddit/comments/qobev9/"
                           "if_you_could_what_would_you_do_to_become_famous/hjlzwfl/")
    assert comment.published_at == datetime.fromtimestamp(1636241137, tz=UTC)
    assert comment.extra["link_title"] == "If you could, what would you do to become famous and rich?"
    assert comment.fetched_at == NOW

    assert batch.next_cursor == {"listings": {"r/AskReddit/new": "t3_hozvuc", "r/AskReddit/comments": "t1_hjlzwfl"}}

    # praw asked for a token with the app's credentials, then used it
    token_request = askreddit.requests[0]
    assert token_request.method == "POST" and token_request.path == "/api/v1/access_token"
    basic = base64.b64encode(b"my-client-id:my-client-secret").decode()
    assert token_request.headers["Authorization"] == "Basic " + basic
    assert b"grant_type=client_credentials" in token_request.body
    gets = askreddit.gets()
    assert [path for path, _ in gets] == ["/r/AskReddit/new", "/r/AskReddit/comments/"]
    assert gets[0][1]["limit"] == ["100"] and "before" not in gets[0][1]
    assert askreddit.requests[1].headers["User-Agent"].startswith("listener/")


def test_later_polls_read_forwards_from_the_newest_seen(askreddit: RedditServer) -> None:
    source = make_source(askreddit)
    cursor = source.poll({}).next_cursor
    askreddit.requests.clear()

    batch = source.poll(cursor)
    assert [m.external_id for m in batch.items] == ["t1_hjlzwgw", "t1_hjlzwgo", "t1_hjlzwgi"]
    assert batch.next_cursor["listings"]["r/AskReddit/comments"] == "t1_hjlzwgw"
    assert batch.next_cursor["listings"]["r/AskReddit/new"] == "t3_hozvuc"
    gets = askreddit.gets()
    assert ("/r/AskReddit/comments/", "t1_hjlzwfl") in [(p, q.get("before", [None])[0]) for p, q in gets]
    # nothing after the newest submission: the newest page is read once more to rule out a deleted anchor
    assert [(p, q.get("before")) for p, q in gets if p == "/r/AskReddit/new"] == [
        ("/r/AskReddit/new", ["t3_hozvuc"]), ("/r/AskReddit/new", None)]
    assert not any(r.method == "POST" for r in askreddit.requests)  # the token is reused


def test_a_deleted_anchor_falls_back_to_ids(askreddit: RedditServer) -> None:
    # t3_kzj65z is not in the recording (deleted): `before=` answers nothing; ids newer than it still count
    batch = make_source(askreddit, subreddits=["all"], comments=False).poll(
        {"listings": {"r/all/new": "t3_kzj65z"}})
    ids = [m.external_id for m in batch.items]
    assert ids and all(int(i[3:], 36) > int("kzj65z", 36) for i in ids)
    assert batch.next_cursor["listings"]["r/all/new"] == "t3_kzj68i"


def test_stream_of_all_new(askreddit: RedditServer) -> None:
    source = make_source(askreddit, subreddits=["all"], comments=False)
    first = source.poll({})
    assert len(first.items) == 100
    second = source.poll(first.next_cursor)
    assert [m.external_id for m in second.items] == ["t3_kzj68x", "t3_kzj68v", "t3_kzj68q", "t3_kzj68p",
                                                      "t3_kzj68o", "t3_kzj68m", "t3_kzj68k"]
    assert second.next_cursor == {"listings": {"r/all/new": "t3_kzj68x"}}


def test_a_burst_is_read_forwards_over_pages_and_polls(askreddit: RedditServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("listener.sources.reddit.PAGE", 3)
    first, second = (json.loads(reply[2])["data"]["children"] for key, reply in askreddit.routes.items()
                     if key[0] == "/r/all/new")
    askreddit.pools["/r/all/new"] = first[:3]  # the forum as it was at the first poll
    source = make_source(askreddit, subreddits=["all"], comments=False, max_pages=2)
    cursor = source.poll({}).next_cursor
    assert cursor == {"listings": {"r/all/new": "t3_kzj68i"}}

    askreddit.pools["/r/all/new"] = first[:3] + second  # 7 new submissions since
    askreddit.requests.clear()
    batch = source.poll(cursor)
    # two pages of 3, read forwards from the anchor: the 6 oldest of the 7 new ones, nothing skipped
    assert sorted(m.external_id for m in batch.items) == ["t3_kzj68k", "t3_kzj68m", "t3_kzj68o", "t3_kzj68p",
                                                          "t3_kzj68q", "t3_kzj68v"]
    assert [q["before"] for _, q in askreddit.gets()] == [["t3_kzj68i"], ["t3_kzj68o"]]
    batch = source.poll(batch.next_cursor)
    assert [m.external_id for m in batch.items] == ["t3_kzj68x"]
    assert batch.next_cursor == {"listings": {"r/all/new": "t3_kzj68x"}}


def test_installed_app_without_a_secret(askreddit: RedditServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTENER_REDDIT_CLIENT_SECRET")
    make_source(askreddit, comments=False, client_secret_secret="").poll({})
    headers, body = askreddit.requests[0].headers, askreddit.requests[0].body
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"my-client-id:").decode()
    assert b"installed_client" in body


def test_an_unknown_subreddit_is_listed_while_the_others_are_read(askreddit: RedditServer) -> None:
    batch = make_source(askreddit, subreddits=["AskReddit", "NoSuchSubreddit"]).poll({})
    assert batch.items and {m.extra["subreddit"] for m in batch.items} == {"AskReddit"}
    assert list(batch.failed_targets) == ["r/NoSuchSubreddit"]
    assert batch.failed_targets["r/NoSuchSubreddit"].startswith("ClientError: HTTP 404")
    assert set(batch.next_cursor["listings"]) == {"r/AskReddit/new", "r/AskReddit/comments"}


def test_site_search_for_the_brand_terms(askreddit: RedditServer) -> None:
    source = make_source(askreddit, subreddits=[], search=True, terms=["praw", "Acme Bank"])
    batch = source.poll({})
    assert len(batch.items) == 31
    by_id = {m.external_id: m for m in batch.items}
    post = by_id["t3_6ganxe"]
    assert post.title == "How to check if a username is available on Reddit?"
    assert post.text.startswith("I need to check the availability of a username on Reddit.")
    assert post.author == "cheesycow5" and post.extra["subreddit"] == "learnpython"
    assert post.reach == {"score": 3, "replies": 24, "followers": 393971}
    (path, params), = askreddit.gets()
    assert path == "/r/all/search/"
    assert params["q"] == ['praw OR "Acme Bank"']
    assert params["sort"] == ["new"] and params["t"] == ["day"]
    assert batch.next_cursor == {"listings": {"search": max(by_id, key=lambda i: int(i[3:], 36))}}

    askreddit.requests.clear()
    source.poll(batch.next_cursor)
    assert askreddit.gets()[0][1]["t"] == ["week"]
    assert askreddit.gets()[0][1]["before"] == [batch.next_cursor["listings"]["search"]]


def test_script_app_logs_in_with_username_and_password(askreddit: RedditServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENER_REDDIT_USERNAME", "acme_care")
    monkeypatch.setenv("LISTENER_REDDIT_PASSWORD", "hunter2")
    make_source(askreddit, comments=False, username_secret="reddit-username",
                password_secret="reddit-password").poll({})
    body = askreddit.requests[0].body
    assert b"grant_type=password" in body and b"username=acme_care" in body


def test_missing_credentials_are_a_client_error(askreddit: RedditServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTENER_REDDIT_CLIENT_SECRET")
    with pytest.raises(ClientError, match="LISTENER_REDDIT_CLIENT_SECRET"):
        make_source(askreddit).poll({})
    assert askreddit.requests == []


HTML_ERROR = b"<!doctype html><html><head><title>reddit: the front page</title></head><body>down</body></html>"


@pytest.mark.parametrize(("path", "reply", "error", "status"), [
    ("/r/askreddit/new", (401, {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"', **JSON},
                          b'{"message": "Unauthorized", "error": 401}'), ClientError, 401),
    ("/r/askreddit/new", (403, JSON, b'{"reason": "private", "message": "Forbidden", "error": 403}'),
     ClientError, 403),
    ("/r/askreddit/new", (404, JSON, b'{"reason": "banned", "message": "Not Found", "error": 404}'),
     ClientError, 404),
    ("/r/askreddit/new", (429, {"Retry-After": "60", "x-ratelimit-remaining": "0", "x-ratelimit-used": "100",
                                "x-ratelimit-reset": "60", **JSON}, b'{"message": "Too Many Requests"}'),
     RateLimited, None),
    ("/r/askreddit/new", (200, JSON, b'{"kind": "Listing", "data": {"children": [{"kind": "t3", "da'),
     BadPayload, None),
    ("/r/askreddit/new", (200, {"Content-Type": "text/html"}, HTML_ERROR), BadPayload, None),
    ("/r/askreddit/new", (200, JSON, b'{"kind": "Listing", "data": {"after": null, "children": '
                                     b'[{"kind": "t2", "data": {"name": "t2_x", "id": "x"}}]}}'),
     BadPayload, None),
    ("/api/v1/access_token", (401, JSON, b'{"message": "Unauthorized", "error": 401}'), ClientError, 401),
    ("/api/v1/access_token", (200, JSON, b'{"error": "invalid_grant"}'), ClientError, 401),
])
def test_error_shapes(askreddit: RedditServer, path: str, reply: Reply, error: type[Exception],
                      status: int | None) -> None:
    askreddit.fail_path[path] = reply
    with pytest.raises(error) as caught:
        make_source(askreddit, comments=False).poll({})
    if status is not None:
        assert caught.value.status == status  # type: ignore[attr-defined]
    if error is RateLimited:
        assert caught.value.retry_after == 60  # type: ignore[attr-defined]


def test_server_errors_are_unavailable_after_prawcores_retries(askreddit: RedditServer) -> None:
    askreddit.fail_path["/r/askreddit/new"] = (503, {"Content-Type": "text/html"}, HTML_ERROR)
    with pytest.raises(SourceUnavailable, match="503"):
        make_source(askreddit, comments=False).poll({})
    assert len(askreddit.gets()) == 3  # prawcore's own retries


def test_unreachable_reddit_is_unavailable() -> None:
    server = RedditServer()
    url = server.base_url
    server.httpd.server_close()  # nothing listens there any more
    source = RedditSource(RedditSettings(name="reddit", base_url=url, subreddits=["de"]),
                          SourceContext(http=HttpFetcher(HttpSettings(retries=0)), brands=[], clock=FakeClock()))
    with pytest.raises(SourceUnavailable):
        source.poll({})


def contract() -> ContractCase:
    """Reddit's fixture for the contract suite: recorded r/AskReddit listings behind a token endpoint."""
    def askreddit(clock: FakeClock) -> RedditServer:
        server = RedditServer("TestSubredditListings.test_new.json")
        [listing] = [json.loads(body) for (path, before), (_, _, body) in server.routes.items()
                     if path == "/r/askreddit/new" and before is None]
        server.pools["/r/askreddit/new"] = listing["data"]["children"]  # answered by `before`, like Reddit
        return server

    def news(server: RedditServer, when: datetime) -> str:
        pool = server.pools["/r/askreddit/new"]
        newest = max(pool, key=lambda c: int(c["data"]["id"], 36))
        fresh = json.loads(json.dumps(newest))
        fresh["data"]["id"] = base36(int(newest["data"]["id"], 36) + 1)
        fresh["data"]["name"] = "t3_" + fresh["data"]["id"]
        fresh["data"].update(title="What is your favorite late post?", selftext="", created_utc=when.timestamp())
        pool.append(fresh)
        return str(fresh["data"]["name"])

    return ContractCase(
        server=askreddit, news=news,
        brands=[BrandSettings(name="Acme", terms=["favorite", "favourite"])], now=NOW,
        settings=lambda server: {"base_url": server.base_url, "subreddits": ["AskReddit"], "search": False,
                                 "comments": False},
        secrets={"LISTENER_REDDIT_CLIENT_ID": "my-client-id", "LISTENER_REDDIT_CLIENT_SECRET": "my-client-secret"})


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"
