"""The Discourse write client against a loopback Discourse: POST /posts.json with topic_id, raw and
reply_to_post_number and the Api-Key/Api-Username headers, Discourse's error shapes, and finding our own reply."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from listener.clock import FakeClock
from listener.config import ConfigError
from listener.replies.platforms.base import ReplyAuthError, ReplyRejected, ReplyRetryLater
from listener.secrets import MissingSecret
from tests.replies.fakes import DiscourseFake, discourse_error
from tests.replies.helpers import client, discourse_source, settings_with, target
from tests.sources._http import JSON

TEXT = "Sorry about the parcel! We have sent you a direct message to sort it out."


@pytest.fixture
def forum(monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscourseFake]:
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "write-key")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with DiscourseFake() as server:
        yield server


def test_a_reply_is_posted_to_the_topic_as_an_answer_to_the_post(forum: DiscourseFake, clock: FakeClock) -> None:
    replies = client(settings_with(discourse_source(forum.base_url)), "forum", clock)
    assert (replies.kind, replies.max_length, replies.markdown, replies.idempotent) == ("discourse", 32000, True, False)
    posted = replies.post_reply(target("discourse", "555", "101", post_number="2"), TEXT, "reply-k1")
    request = forum.requests[-1]
    assert (request.method, request.path) == ("POST", "/posts.json")
    assert request.headers["Api-Key"] == "write-key" and request.headers["Api-Username"] == "acme_care"
    assert request.json() == {"topic_id": 101, "raw": TEXT, "reply_to_post_number": 2}
    assert posted.platform_id == str(forum.posts[0]["id"])
    assert posted.url == f"{forum.base_url}/t/parcel-lost/101/4"


def test_a_reply_to_a_mention_without_a_post_number_answers_the_topic(forum: DiscourseFake, clock: FakeClock) -> None:
    replies = client(settings_with(discourse_source(forum.base_url)), "forum", clock)
    replies.post_reply(target("discourse", "555", "101"), TEXT, "reply-k1")
    assert forum.requests[-1].json() == {"topic_id": 101, "raw": TEXT}


def test_discourse_errors_become_the_agents_message(forum: DiscourseFake, clock: FakeClock) -> None:
    replies = client(settings_with(discourse_source(forum.base_url)), "forum", clock)
    forum.closed.add(101)
    forum.topics[102] = 1
    with pytest.raises(ReplyRejected, match="This topic is closed"):
        replies.post_reply(target("discourse", "555", "101"), TEXT, "k")
    with pytest.raises(ReplyRejected, match="Body is too short"):
        replies.post_reply(target("discourse", "556", "102"), "ok", "k")
    with pytest.raises(ReplyRejected, match="could not be found"):
        replies.post_reply(target("discourse", "555", "999"), TEXT, "k")
    forum.next_failures.append(discourse_error(429, "You’ve performed this action too many times. Please wait 12 "
                                               "seconds before trying again.", "rate_limit",
                                               extras={"wait_seconds": 12}))
    forum.next_failures[-1][1]["Retry-After"] = "12"
    with pytest.raises(ReplyRetryLater) as info:
        replies.post_reply(target("discourse", "555", "101"), TEXT, "k")
    assert info.value.retry_after == 12 and "too many times" in str(info.value)
    forum.next_failures.append((502, {**JSON}, b'{"errors": ["Bad gateway"]}'))
    with pytest.raises(ReplyRetryLater):
        replies.post_reply(target("discourse", "555", "101"), TEXT, "k")
    assert forum.posts == []


def test_a_refused_key_is_an_auth_error(forum: DiscourseFake, clock: FakeClock,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "old-key")
    replies = client(settings_with(discourse_source(forum.base_url)), "forum", clock)
    with pytest.raises(ReplyAuthError, match="key"):
        replies.post_reply(target("discourse", "555", "101"), TEXT, "k")


def test_our_earlier_reply_is_found_by_its_text(forum: DiscourseFake, clock: FakeClock) -> None:
    replies = client(settings_with(discourse_source(forum.base_url)), "forum", clock)
    where = target("discourse", "555", "101", post_number="2")
    assert replies.find_own_reply(where, TEXT) is None
    posted = replies.post_reply(where, TEXT, "k")
    assert replies.find_own_reply(where, TEXT) == posted
    assert replies.find_own_reply(where, TEXT + " (another)") is None
    assert replies.find_own_reply(target("discourse", "9", "102"), TEXT) is None


def test_write_credentials_are_required_and_read_from_secrets(forum: DiscourseFake, clock: FakeClock,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="reply_api_key_secret and reply_username"):
        settings_with({"name": "forum", "kind": "discourse", "base_url": forum.base_url, "reply": True})
    with pytest.raises(ConfigError, match=r"source\[0\].reply_token"):
        settings_with({**discourse_source(forum.base_url), "reply_token": "x"})
    with pytest.raises(ConfigError, match="feed has no write API"):
        settings_with({"name": "news", "kind": "feed", "url": "https://example.org/f.xml", "reply": True})
    monkeypatch.delenv("LISTENER_FORUM_WRITE_KEY")
    with pytest.raises(MissingSecret, match="LISTENER_FORUM_WRITE_KEY"):
        client(settings_with(discourse_source(forum.base_url)), "forum", clock)
