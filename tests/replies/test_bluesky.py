"""The Bluesky write client against a loopback PDS: createSession with the app password, then createRecord of
an app.bsky.feed.post whose reply.root/reply.parent are strong refs; XRPC errors; finding our own reply in the
thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from listener.clock import FakeClock
from listener.replies.platforms.base import ReplyAuthError, ReplyRejected, ReplyRetryLater
from tests.replies.fakes import BlueskyFake, xrpc_error
from tests.replies.helpers import client, settings_with, target

TEXT = "Sorry about your parcel! Details: https://acme.example/help/parcels — we sent you a DM."


@pytest.fixture
def pds(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlueskyFake]:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("LISTENER_BSKY_REPLY_PASSWORD", "app-pass-word")
    with BlueskyFake() as server:
        yield server


def source(base_url: str, **keys: object) -> dict[str, object]:
    return {"name": "bsky", "kind": "bluesky", "handle": "acme-listener.bsky.social", "base_url": base_url + "/xrpc",
            "reply": True, "reply_app_password_secret": "bsky-reply-password",
            "reply_handle": "acme-care.bsky.social", **keys}


def reply_to_parent() -> object:
    return target("bluesky", BlueskyFake.PARENT[0], cid=BlueskyFake.PARENT[1], root_uri=BlueskyFake.ROOT[0],
                  root_cid=BlueskyFake.ROOT[1])


def test_a_reply_carries_root_and_parent_strong_refs_and_link_facets(pds: BlueskyFake) -> None:
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, 0, 123000, tzinfo=UTC))
    replies = client(settings_with(source(pds.base_url)), "bsky", clock)
    assert (replies.kind, replies.max_length, replies.markdown, replies.idempotent) == ("bluesky", 300, False, False)
    posted = replies.post_reply(reply_to_parent(), TEXT, "k")  # type: ignore[arg-type]
    login, create = pds.requests
    assert (login.method, login.path, login.json()) == (
        "POST", "/xrpc/com.atproto.server.createSession",
        {"identifier": "acme-care.bsky.social", "password": "app-pass-word"})
    assert (create.method, create.path) == ("POST", "/xrpc/com.atproto.repo.createRecord")
    assert create.headers["Authorization"] == "Bearer access-1"
    link = "https://acme.example/help/parcels"
    start = len(TEXT[:TEXT.index(link)].encode())
    assert create.json() == {"repo": "did:plc:acmecare", "collection": "app.bsky.feed.post", "record": {
        "$type": "app.bsky.feed.post", "text": TEXT, "createdAt": "2026-01-05T09:00:00.123Z",
        "reply": {"root": {"uri": BlueskyFake.ROOT[0], "cid": BlueskyFake.ROOT[1]},
                  "parent": {"uri": BlueskyFake.PARENT[0], "cid": BlueskyFake.PARENT[1]}},
        "facets": [{"index": {"byteStart": start, "byteEnd": start + len(link)},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}]}]}}
    assert posted.platform_id == pds.posts[0]["uri"]
    assert posted.url == "https://bsky.app/profile/acme-care.bsky.social/post/3lreply00001"
    # a top-level post is its own thread's root
    replies.post_reply(target("bluesky", BlueskyFake.ROOT[0], cid=BlueskyFake.ROOT[1]), "Thanks!", "k2")
    reply = pds.requests[-1].json()["record"]["reply"]
    assert reply["root"] == reply["parent"] == {"uri": BlueskyFake.ROOT[0], "cid": BlueskyFake.ROOT[1]}


def test_xrpc_errors_and_an_expired_session(pds: BlueskyFake, clock: FakeClock,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    replies = client(settings_with(source(pds.base_url)), "bsky", clock)
    with pytest.raises(ReplyRejected, match="longer than 300 graphemes"):
        replies.post_reply(reply_to_parent(), "x" * 301, "k")  # type: ignore[arg-type]
    with pytest.raises(ReplyRejected, match="stored without its cid"):
        replies.post_reply(target("bluesky", BlueskyFake.PARENT[0]), TEXT, "k")
    pds.next_failures.append(xrpc_error(429, "RateLimitExceeded", "Rate Limit Exceeded", {"Retry-After": "120"}))
    with pytest.raises(ReplyRetryLater) as info:
        replies.post_reply(reply_to_parent(), TEXT, "k")  # type: ignore[arg-type]
    assert info.value.retry_after == 120
    pds.tokens.clear()  # the session expired: one new session, and the reply goes out
    replies.post_reply(reply_to_parent(), TEXT, "k")  # type: ignore[arg-type]
    assert pds.sessions == 2 and len(pds.posts) == 1
    monkeypatch.setenv("LISTENER_BSKY_REPLY_PASSWORD", "revoked")
    with pytest.raises(ReplyAuthError, match="app password"):
        client(settings_with(source(pds.base_url)), "bsky", clock).post_reply(
            reply_to_parent(), TEXT, "k")  # type: ignore[arg-type]


def test_our_earlier_reply_is_found_in_the_thread(pds: BlueskyFake, clock: FakeClock) -> None:
    replies = client(settings_with(source(pds.base_url)), "bsky", clock)
    assert replies.find_own_reply(reply_to_parent(), TEXT) is None  # type: ignore[arg-type]
    posted = replies.post_reply(reply_to_parent(), TEXT, "k")  # type: ignore[arg-type]
    assert replies.find_own_reply(reply_to_parent(), TEXT) == posted  # type: ignore[arg-type]
    assert replies.find_own_reply(reply_to_parent(), "another text") is None  # type: ignore[arg-type]
