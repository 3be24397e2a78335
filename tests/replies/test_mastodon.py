"""The Mastodon write client against a loopback Mastodon: POST /api/v1/statuses (status, in_reply_to_id,
visibility as a form), Bearer token and Idempotency-Key, Mastodon's {"error": …} shapes, finding our own reply."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from listener.clock import FakeClock
from listener.replies.platforms.base import ReplyAuthError, ReplyRejected, ReplyRetryLater
from tests.replies.fakes import MastodonFake, rate_limited
from tests.replies.helpers import client, mastodon_source, settings_with, target

TEXT = "Sorry about that! We have sent you a direct message."


@pytest.fixture
def fedi(monkeypatch: pytest.MonkeyPatch) -> Iterator[MastodonFake]:
    monkeypatch.setenv("LISTENER_FEDI_WRITE_TOKEN", "write-token")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with MastodonFake() as server:
        yield server


def form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


def test_a_reply_mentions_the_customer_and_carries_the_idempotency_key(fedi: MastodonFake, clock: FakeClock) -> None:
    replies = client(settings_with(mastodon_source(fedi.base_url)), "fedi", clock)
    assert (replies.kind, replies.max_length, replies.markdown, replies.idempotent) == ("mastodon", 500, False, True)
    posted = replies.post_reply(target("mastodon", "111", acct="customer"), TEXT, "reply-abc")
    request = fedi.requests[-1]
    assert (request.method, request.path) == ("POST", "/api/v1/statuses")
    assert request.headers["Authorization"] == "Bearer write-token"
    assert request.headers["Idempotency-Key"] == "reply-abc"
    assert form(request.body) == {"status": f"@customer {TEXT}", "in_reply_to_id": "111", "visibility": "unlisted"}
    assert posted.platform_id == fedi.posts[0]["id"] and posted.url == fedi.posts[0]["url"]
    # the same key again: Mastodon answers with the status it created, and nothing new is posted
    assert replies.post_reply(target("mastodon", "111", acct="customer"), TEXT, "reply-abc") == posted
    assert len(fedi.posts) == 1


def test_without_a_stored_acct_the_status_is_read_first(fedi: MastodonFake, clock: FakeClock) -> None:
    replies = client(settings_with(mastodon_source(fedi.base_url, reply_visibility="public")), "fedi", clock)
    replies.post_reply(target("mastodon", "111"), f"@customer {TEXT}", "k")
    assert [(r.method, r.path) for r in fedi.requests] == [("GET", "/api/v1/statuses/111"),
                                                           ("POST", "/api/v1/statuses")]
    assert form(fedi.requests[-1].body)["status"] == f"@customer {TEXT}"  # mentioned once, not twice
    assert form(fedi.requests[-1].body)["visibility"] == "public"


def test_mastodon_errors(fedi: MastodonFake, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    replies = client(settings_with(mastodon_source(fedi.base_url)), "fedi", clock)
    with pytest.raises(ReplyRejected, match="Record not found"):  # the post was deleted
        replies.post_reply(target("mastodon", "404", acct="gone"), TEXT, "k1")
    with pytest.raises(ReplyRejected, match="character limit of 500"):
        replies.post_reply(target("mastodon", "111", acct="customer"), "x" * 495, "k2")
    fedi.next_failures.append(rate_limited("90"))
    with pytest.raises(ReplyRetryLater) as info:
        replies.post_reply(target("mastodon", "111", acct="customer"), TEXT, "k3")
    assert info.value.retry_after == 90 and "Too many requests" in str(info.value)
    monkeypatch.setenv("LISTENER_FEDI_WRITE_TOKEN", "revoked")
    expired = client(settings_with(mastodon_source(fedi.base_url)), "fedi", clock)
    with pytest.raises(ReplyAuthError, match="access token is invalid"):
        expired.post_reply(target("mastodon", "111", acct="customer"), TEXT, "k4")
    assert fedi.posts == []


def test_our_earlier_reply_is_found_in_the_thread(fedi: MastodonFake, clock: FakeClock) -> None:
    replies = client(settings_with(mastodon_source(fedi.base_url)), "fedi", clock)
    where = target("mastodon", "111", acct="customer")
    assert replies.find_own_reply(where, TEXT) is None
    posted = replies.post_reply(where, TEXT, "k")
    assert replies.find_own_reply(where, TEXT) == posted
    assert replies.find_own_reply(where, "something else entirely") is None
