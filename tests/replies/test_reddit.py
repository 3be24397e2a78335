"""The Reddit write client: praw (pointed at a loopback server through oauth_url/reddit_url, as the reddit
source's tests do) replies to a post or a comment with the account's refresh token; Reddit's refusals, its rate
limit and an ambiguous answer that must not be re-sent by prawcore."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from listener.clock import FakeClock
from listener.config import ConfigError
from listener.replies.platforms.base import ReplyOutcomeUnknown, ReplyRejected, ReplyRetryLater
from tests.replies.fakes import RedditFake, reddit_errors
from tests.replies.helpers import client, settings_with, target
from tests.sources._http import JSON

TEXT = "Sorry to hear that! We've sent you a PM to sort out the parcel."


@pytest.fixture
def reddit(monkeypatch: pytest.MonkeyPatch) -> Iterator[RedditFake]:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("LISTENER_REDDIT_CLIENT_ID", "app-id")
    monkeypatch.setenv("LISTENER_REDDIT_CLIENT_SECRET", "app-secret")
    monkeypatch.setenv("LISTENER_REDDIT_REPLY_TOKEN", "refresh-me")
    with RedditFake() as server:
        yield server


def source(base_url: str, **keys: object) -> dict[str, object]:
    return {"name": "reddit", "kind": "reddit", "subreddits": ["acme"], "base_url": base_url, "reply": True,
            "reply_refresh_token_secret": "reddit-reply-token", **keys}


def test_a_reply_to_a_post_and_to_a_comment(reddit: RedditFake, clock: FakeClock) -> None:
    replies = client(settings_with(source(reddit.base_url)), "reddit", clock)
    assert (replies.kind, replies.max_length, replies.markdown, replies.idempotent) == ("reddit", 10000, True, False)
    posted = replies.post_reply(target("reddit", "t3_kzj68i", "t3_kzj68i"), TEXT, "k1")
    token = reddit.requests[0]
    assert (token.method, token.path) == ("POST", "/api/v1/access_token")
    assert token.headers["Authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    assert token.form() == {"grant_type": ["refresh_token"], "refresh_token": ["refresh-me"]}
    comment = reddit.requests[1]
    assert (comment.method, comment.path) == ("POST", "/api/comment/")
    assert comment.headers["Authorization"] == f"bearer {RedditFake.TOKEN}"
    assert comment.form() == {"api_type": ["json"], "text": [TEXT], "thing_id": ["t3_kzj68i"]}
    assert posted.platform_id == reddit.posts[0]["name"] and posted.platform_id.startswith("t1_")
    assert posted.url == f"https://www.reddit.com/r/acme/comments/kzj68i/parcel/{reddit.posts[0]['id']}/"
    replies.post_reply(target("reddit", "t1_gjq8c6o", "t3_kzj68i"), TEXT, "k2")
    assert reddit.requests[-1].form()["thing_id"] == ["t1_gjq8c6o"]


def test_reddits_refusals_and_limits(reddit: RedditFake, clock: FakeClock) -> None:
    replies = client(settings_with(source(reddit.base_url)), "reddit", clock)
    reddit.locked.add("t3_kzj68i")
    with pytest.raises(ReplyRejected, match="THREAD_LOCKED: that thread is locked"):
        replies.post_reply(target("reddit", "t3_kzj68i"), TEXT, "k")
    with pytest.raises(ReplyRejected, match="DELETED_COMMENT"):
        replies.post_reply(target("reddit", "t1_zzzzzz"), TEXT, "k")
    reddit.next_failures.append(reddit_errors(("RATELIMIT", "Looks like you've been doing that a lot. Take a break "
                                                            "for 9 minutes before trying again.", "ratelimit")))
    with pytest.raises(ReplyRetryLater) as info:
        replies.post_reply(target("reddit", "t1_gjq8c6o"), TEXT, "k")
    assert info.value.retry_after == 540
    reddit.next_failures.append((403, JSON, b'{"message": "Forbidden", "error": 403}'))
    with pytest.raises(ReplyRejected, match="403"):
        replies.post_reply(target("reddit", "t1_gjq8c6o"), TEXT, "k")
    assert reddit.posts == []


def test_a_comment_post_answered_with_a_5xx_is_not_resent_by_prawcore(reddit: RedditFake, clock: FakeClock) -> None:
    """Reddit sometimes creates the comment and still answers 500: prawcore would post it again; here it is an
    outcome to check, and the account's comments show whether it is there."""
    replies = client(settings_with(source(reddit.base_url)), "reddit", clock)
    where = target("reddit", "t1_gjq8c6o", "t3_kzj68i")
    original = reddit._comment

    def created_then_500(form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        original(form)  # the comment exists on Reddit …
        return 500, JSON, b'{"message": "Internal Server Error", "error": 500}'  # … and the answer is a 500

    reddit._comment = created_then_500  # type: ignore[method-assign]
    with pytest.raises(ReplyOutcomeUnknown):
        replies.post_reply(where, TEXT, "k")
    assert len(reddit.posts) == 1 and sum(r.path == "/api/comment/" for r in reddit.requests) == 1
    found = replies.find_own_reply(where, TEXT)
    assert found is not None and found.platform_id == reddit.posts[0]["name"]
    assert replies.find_own_reply(target("reddit", "t3_kzj68i"), TEXT) is None


def test_write_credentials(reddit: RedditFake) -> None:
    with pytest.raises(ConfigError, match="reply_refresh_token_secret, or reply_username_secret"):
        settings_with({**source(reddit.base_url), "reply_refresh_token_secret": None})
