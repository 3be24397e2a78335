"""Discourse source against a real local HTTP server serving the discourse_api gem's recorded answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from listener.clock import FakeClock
from listener.matching import BrandSettings
from listener.sources.discourse import DiscourseSettings, DiscourseSource
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

FIX = "discourse/discourse__discourse_api/spec/fixtures/"

JSON = {"Content-Type": "application/json; charset=utf-8"}
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PAGE_SIZE = 2  # Discourse pages by 50; the recording holds 4 posts, so the test forum pages by 2


def search_answer() -> dict[str, Any]:
    """/search.json in the current shape (the gem's search.json fixture is an old stub format).

    Post 123456 is the real post of topic_posts.json; post 10 is the real welcome post of posts_latest.json.
    """
    return {
        "posts": [
            {"id": 123456, "name": "Someones Name", "username": "Some-username",
             "created_at": "2020-01-27T11:32:03.646Z", "like_count": 3,
             "blurb": "Some <span class=\"search-highlight\">text</span>", "post_number": 2, "topic_id": 57},
            {"id": 10, "username": "system", "created_at": "2020-01-24T23:26:09.014Z", "like_count": 0,
             "blurb": "The first paragraph of this pinned topic will be visible as a welcome message…",
             "post_number": 1, "topic_id": 7},
        ],
        "topics": [
            {"id": 57, "title": "Some topic title", "fancy_title": "Some topic title", "slug": "some-topic-slug",
             "category_id": 4},
            {"id": 7, "title": "Welcome to Discourse", "slug": "welcome-to-discourse", "category_id": 1},
        ],
        "users": [], "categories": [],
        "grouped_search_result": {"more_posts": None, "post_ids": [123456, 10], "term": "text order:latest"},
    }


class Forum:
    def __init__(self) -> None:
        self.posts = json.loads(wild_bytes(FIX + "posts_latest.json"))["latest_posts"]
        self.topic_posts = wild_bytes(FIX + "topic_posts.json")
        self.search: dict[str, Any] = search_answer()
        self.fail: dict[str, Reply] = {}

    def __call__(self, request: Request) -> Reply:
        path, params = request.path, request.params
        if path in self.fail:
            return self.fail[path]
        if path == "/posts.json":
            before = int(params.get("before", ["999999"])[0])
            page = [p for p in self.posts if p["id"] <= before][:PAGE_SIZE]
            return 200, JSON, json.dumps({"latest_posts": page}).encode()
        if path == "/search.json":
            return 200, JSON, json.dumps(self.search).encode()
        if path == "/t/57/posts.json":
            return 200, JSON, self.topic_posts
        return 404, JSON, b'{"errors":["The requested URL or resource could not be found."],"error_type":"not_found"}'


@pytest.fixture
def forum() -> Iterator[tuple[ApiServer, Forum]]:
    answers = Forum()
    with ApiServer(answers) as server:
        yield server, answers


def make_source(base_url: str, clock: FakeClock | None = None, terms: list[str] | None = None,
                **settings: Any) -> DiscourseSource:
    clock = clock or FakeClock(NOW)
    brands = [BrandSettings(name="Acme", terms=terms or ["text"])]
    context = SourceContext(http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=brands, clock=clock)
    return DiscourseSource(DiscourseSettings(name="forum", base_url=base_url, **settings), context)


def paths(server: ApiServer) -> list[str]:
    return [r.path for r in server.requests]


def test_registered() -> None:
    assert get_source_class("discourse") is DiscourseSource


def test_settings_need_a_username_with_a_key() -> None:
    with pytest.raises(ValidationError, match="api_username"):
        DiscourseSettings(name="f", base_url="https://forum.example", api_key_secret="forum-key")
    with pytest.raises(ValidationError):
        DiscourseSettings(name="f")  # base_url is required


def test_first_poll_reads_one_page_of_latest_posts(forum: tuple[ApiServer, Forum]) -> None:
    server, _ = forum
    batch = make_source(server.base_url, search=False).poll({})
    assert [m.external_id for m in batch.items] == ["15", "14"]
    reply, first = batch.items
    assert reply.text == "holla bullhonky."
    assert reply.author == "johndoe"
    assert reply.published_at == datetime(2020, 1, 25, 2, 10, 7, 971000, tzinfo=UTC)
    assert reply.url == server.base_url + "/t/this-is-an-uncategorized-title/11/2"
    assert reply.title is None and reply.extra["topic_title"] == "This is an uncategorized title"
    assert reply.thread_id == "11"
    assert reply.reply_ref == {"post_number": "2"}  # what an answer is a reply to (listener/replies)
    assert reply.reach == {"replies": 0, "reads": 1}
    assert first.title == "This is an uncategorized title"  # the opening post carries its topic's title
    assert first.text == "hi there. hi there. hi there."
    assert batch.next_cursor == {"last_post_id": 15}
    assert paths(server) == ["/posts.json"]


def test_later_polls_page_back_to_the_cursor(forum: tuple[ApiServer, Forum]) -> None:
    server, _ = forum
    batch = make_source(server.base_url, search=False).poll({"last_post_id": 2})
    assert [m.external_id for m in batch.items] == ["15", "14", "10"]
    welcome = batch.items[2]
    assert welcome.text.startswith("The first paragraph of this pinned topic will be visible as a welcome message")
    assert "<strong>" not in welcome.text and "Who is it for?" in welcome.text
    assert batch.next_cursor == {"last_post_id": 15}
    assert [r.params.get("before") for r in server.requests] == [None, ["13"]]

    server.requests.clear()
    again = make_source(server.base_url, search=False).poll(batch.next_cursor)
    assert again.items == [] and again.next_cursor == {"last_post_id": 15}
    assert len(server.requests) == 1  # the first page already reaches the cursor


def test_search_fetches_full_posts_and_keeps_the_blurb_when_refused(forum: tuple[ApiServer, Forum]) -> None:
    server, _ = forum
    batch = make_source(server.base_url, latest=False, terms=["text", "Acme Bank"]).poll({})
    by_id = {m.external_id: m for m in batch.items}
    assert set(by_id) == {"123456", "10"}
    post = by_id["123456"]
    assert post.text == "Some text."  # the full cooked post, not the blurb
    assert post.author == "Some-username"
    assert post.url == server.base_url + "/t/some-topic-slug/57/2"
    assert post.title is None and post.extra["topic_title"] == "Some topic title"
    assert post.extra["category_id"] == 4
    assert post.reach == {"likes": 3, "replies": 0, "reads": 2}
    assert post.published_at == datetime(2020, 1, 27, 11, 32, 3, 646000, tzinfo=UTC)
    welcome = by_id["10"]  # /t/7/posts.json answers 404: the blurb stands in
    assert welcome.text.startswith("The first paragraph of this pinned topic")
    assert welcome.extra["excerpt_only"] is True
    assert welcome.title == "Welcome to Discourse"
    assert batch.next_cursor == {"last_post_id": 123456}

    searches = [r.params["q"][0] for r in server.requests if r.path == "/search.json"]
    assert searches == ["text order:latest after:2026-01-04", '"Acme Bank" order:latest after:2026-01-04']
    topic_requests = [r.params for r in server.requests if r.path == "/t/57/posts.json"]
    assert topic_requests == [{"post_ids[]": ["123456"]}]

    server.requests.clear()
    again = make_source(server.base_url, latest=False).poll(batch.next_cursor)
    assert again.items == []
    assert paths(server) == ["/search.json"]  # no topic fetch for hits the cursor has passed
    assert server.requests[0].params["q"] == ["text order:latest"]


def test_latest_and_search_together_keep_each_post_once(forum: tuple[ApiServer, Forum]) -> None:
    server, answers = forum
    answers.search["posts"].append({"id": 14, "username": "johndoe", "blurb": "hi there", "post_number": 1,
                                    "topic_id": 11, "created_at": "2020-01-25T00:58:35.475Z"})
    batch = make_source(server.base_url).poll({})
    assert sorted(m.external_id for m in batch.items) == ["10", "123456", "14", "15"]
    assert "/t/11/posts.json" not in paths(server)  # post 14 came in full from /posts.json already


def test_api_key_headers_for_private_forums(forum: tuple[ApiServer, Forum], monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = forum
    source = make_source(server.base_url, search=False, api_key_secret="forum-key", api_username="listener-bot")
    with pytest.raises(ClientError, match="LISTENER_FORUM_KEY"):
        source.poll({})
    monkeypatch.setenv("LISTENER_FORUM_KEY", "s3cret")
    source.poll({})
    headers = server.requests[-1].headers
    assert headers["Api-Key"] == "s3cret" and headers["Api-Username"] == "listener-bot"


HTML_ERROR = b"<!DOCTYPE html><html><head><title>Oops</title></head><body>The site is down</body></html>"


@pytest.mark.parametrize(("path", "reply", "error"), [
    ("/posts.json", (401, JSON, b'{"errors":["You are not permitted to view the requested resource."]}'),
     ClientError),
    ("/posts.json", (403, JSON, b'{"errors":["BAD CSRF"]}'), ClientError),
    ("/posts.json", (429, {"Retry-After": "42", **JSON},
                     b'{"errors":["You have performed this action too many times."],"extras":{"wait_seconds":42}}'),
     RateLimited),
    ("/posts.json", (502, {"Content-Type": "text/html"}, HTML_ERROR), SourceUnavailable),
    ("/posts.json", (200, JSON, b'{"latest_posts":[{"id":15,"cooked":"<p>hol'), BadPayload),
    ("/posts.json", (200, {"Content-Type": "text/html"}, HTML_ERROR), BadPayload),
    ("/search.json", (200, JSON, b"[]"), BadPayload),
    ("/search.json", (429, {"Retry-After": "7", **JSON}, b"{}"), RateLimited),
    ("/t/57/posts.json", (200, JSON, b'{"post_stream": {"posts": "nope"}}'), BadPayload),
])
def test_error_shapes(forum: tuple[ApiServer, Forum], path: str, reply: Reply, error: type[Exception]) -> None:
    server, answers = forum
    answers.fail[path] = reply
    with pytest.raises(error) as caught:
        make_source(server.base_url).poll({})
    if reply[0] == 429:
        assert caught.value.retry_after == float(reply[1]["Retry-After"])  # type: ignore[attr-defined]


def test_the_gem_old_search_format_is_a_bad_payload(forum: tuple[ApiServer, Forum]) -> None:
    server, answers = forum
    answers.fail["/search.json"] = (200, JSON, wild_bytes(FIX + "search.json"))  # a list, not an object
    with pytest.raises(BadPayload):
        make_source(server.base_url, latest=False).poll({})


def contract() -> ContractCase:
    """Discourse's fixture for the contract suite: the gem's recorded latest posts, search and topic posts."""
    forum = Forum()

    def news(server: ApiServer, when: datetime) -> str:
        forum.posts.insert(0, dict(forum.posts[0], id=123457, post_number=3, created_at=when.isoformat(),
                                   cooked="<p>More text, please.</p>"))
        return "123457"

    return ContractCase(server=lambda clock: ApiServer(forum), now=NOW, news=news,
                        brands=[BrandSettings(name="Acme", terms=["text"])],
                        settings=lambda server: {"base_url": server.base_url})
