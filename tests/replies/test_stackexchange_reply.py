"""The Stack Exchange write client against a loopback fake of the Stack Exchange API 2.3.

The fake checks the request as https://api.stackexchange.com/docs/create-comment documents it: `POST /2.3/posts/
{id}/comments/add` with a form body (body, site, key, access_token, preview=false; filter asks for the body back),
the token valid and carrying write_access; it answers with the common wrapper (`items`, `has_more`,
`quota_max`, `quota_remaining`, sometimes `backoff`) holding the comment, and errors as the docs' error-handling
page says: HTTP 400 with `error_id`, `error_name`, `error_message`. `/me` and `/posts/{id}/comments` serve the
search for our own comment.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.replies.platforms.base import ReplyAuthError, ReplyOutcomeUnknown, ReplyRejected, ReplyRetryLater
from tests.replies._platform_kit import (
    DropConnection,
    Outbox,
    PlatformServer,
    build_client,
    config_problems,
    set_secrets,
    source_settings,
    target,
)
from tests.sources._http import Reply, Request, json_reply

KEY = "U4DMV*8nvpm3EOpvf69Rxw(("
TOKEN = "ZUgoHDj0CF*TWkmd4bRBWA))"
OUR_USER = 4711
QUESTION = "79123456"
QUESTION_URL = f"https://stackoverflow.com/questions/{QUESTION}/acme-sdk-login-fails"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def se_error(error_id: int, name: str, message: str) -> Reply:
    return json_reply({"error_id": error_id, "error_message": message, "error_name": name}, 400)


class FakeStackExchange(PlatformServer):
    def __init__(self) -> None:
        super().__init__()
        self.valid_tokens = {TOKEN}
        self.comments: dict[str, list[dict[str, Any]]] = {QUESTION: []}
        self.next_error: Reply | None = None
        self.backoff: int | None = None
        self.drop_after_add = False
        self._ids = itertools.count(140_000_001)

    def wrapper(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"items": items, "has_more": False, "quota_max": 10000, "quota_remaining": 9876}
        if self.backoff is not None:
            body["backoff"] = self.backoff
        return body

    def answer(self, request: Request) -> Reply:
        parts = request.path.split("/")  # "", "2.3", …
        if request.method == "POST" and len(parts) == 6 and parts[2:4] == ["posts", parts[3]] \
                and parts[4:] == ["comments", "add"]:
            return self.add(parts[3], request)
        if request.method == "GET" and request.path == "/2.3/me":
            assert request.param("site") == "stackoverflow" and request.param("key") == KEY
            if request.param("access_token") not in self.valid_tokens:
                return se_error(402, "invalid_access_token", "No matching access token found")
            return json_reply(self.wrapper([{"user_id": OUR_USER, "display_name": "Acme Support", "reputation": 101,
                                             "user_type": "registered", "account_id": 99}]))
        if request.method == "GET" and len(parts) == 5 and parts[2] == "posts" and parts[4] == "comments":
            assert request.param("site") == "stackoverflow" and request.param("filter") == "withbody"
            newest_first = sorted(self.comments.get(parts[3], []), key=lambda c: -c["creation_date"])
            return json_reply(self.wrapper(newest_first))
        return se_error(404, "no_method", f"no method {request.path}")

    def add(self, post_id: str, request: Request) -> Reply:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = {k: v[0] for k, v in request.form().items()}
        assert set(form) == {"body", "site", "key", "access_token", "preview", "filter"}
        assert form["site"] == "stackoverflow" and form["preview"] == "false" and form["filter"] == "withbody"
        if form["key"] != KEY:
            return se_error(400, "bad_parameter", "key is invalid")
        if form["access_token"] not in self.valid_tokens:
            return se_error(402, "invalid_access_token", "No matching access token found")
        if self.next_error is not None:
            error, self.next_error = self.next_error, None
            return error
        if post_id not in self.comments:
            return se_error(400, "bad_parameter", "id is invalid: the post does not exist or was deleted")
        escaped = form["body"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        comment = self.comment(post_id, escaped, OUR_USER)
        self.comments[post_id].append(comment)
        if self.drop_after_add:
            self.drop_after_add = False
            raise DropConnection
        return json_reply(self.wrapper([comment]))

    def comment(self, post_id: str, html_body: str, user_id: int) -> dict[str, Any]:
        comment_id = next(self._ids)
        return {"owner": {"account_id": user_id * 3, "reputation": 101, "user_id": user_id, "user_type": "registered",
                          "display_name": "Acme Support" if user_id == OUR_USER else "someone",
                          "link": f"https://stackoverflow.com/users/{user_id}/x"},
                "edited": False, "score": 0, "creation_date": 1767603600 + comment_id % 1000,
                "post_id": int(post_id), "comment_id": comment_id, "content_license": "CC BY-SA 4.0",
                "body": html_body}


@pytest.fixture
def fake() -> Any:
    with FakeStackExchange() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def block(fake: FakeStackExchange, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> dict[str, Any]:
    set_secrets(monkeypatch, **{"se-key": KEY, "se-token": TOKEN})
    return {"site": "stackoverflow", "base_url": fake.url("/2.3"), "key_secret": "se-key", "reply": True,
            "reply_access_token_secret": "se-token", **extra}


def make(fake: FakeStackExchange, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> Any:
    return build_client("stackexchange", clock, **block(fake, monkeypatch, **extra))


def question() -> Any:
    return target("stackexchange", QUESTION, url=QUESTION_URL, thread_id=QUESTION)


def test_adds_a_comment_to_the_post(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    assert (client.kind, client.max_length, client.markdown, client.idempotent) == ("stackexchange", 600, False, False)
    posted = client.post_reply(question(), "Hi! The SDK 2.3.1 fixes the login <timeout> & retries.", "k1")
    [request] = fake.requests
    assert request.path == f"/2.3/posts/{QUESTION}/comments/add" and request.params == {}
    assert request.form() == {"body": ["Hi! The SDK 2.3.1 fixes the login <timeout> & retries."],
                              "site": ["stackoverflow"], "key": [KEY], "access_token": [TOKEN],
                              "preview": ["false"], "filter": ["withbody"]}
    comment = fake.comments[QUESTION][0]
    assert posted.platform_id == str(comment["comment_id"])
    assert posted.url == f"{QUESTION_URL}#comment{comment['comment_id']}_{QUESTION}"


def test_backoff_is_kept_before_calling_the_method_again(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    fake.backoff = 10
    client.post_reply(question(), "first comment of ours", "k1")
    fake.backoff = None
    clock.advance(timedelta(seconds=4))
    with pytest.raises(ReplyRetryLater, match="backoff") as caught:
        client.post_reply(question(), "second comment of ours", "k2")
    assert caught.value.retry_after == 6
    assert len(fake.requests) == 1  # nothing sent while the backoff lasts
    clock.advance(timedelta(seconds=6))
    client.post_reply(question(), "second comment of ours", "k2")
    assert len(fake.comments[QUESTION]) == 2


@pytest.mark.parametrize("error, expected, words", [
    (se_error(402, "invalid_access_token", "No matching access token found"), ReplyAuthError, "invalid_access_token"),
    (se_error(403, "access_denied", "This method requires an access_token with write_access scope"), ReplyAuthError,
     "access_denied"),
    (se_error(406, "access_token_compromised", "Access token compromised"), ReplyAuthError, "compromised"),
    (se_error(407, "write_failed", "This post has been locked and cannot be commented on"), ReplyRejected, "locked"),
    (se_error(503, "temporarily_unavailable", "The API is temporarily unavailable"), ReplyRetryLater,
     "temporarily_unavailable"),
])
def test_platform_errors(fake, clock, monkeypatch, error, expected, words):
    client = make(fake, clock, monkeypatch)
    fake.next_error = error
    with pytest.raises(expected, match=words) as caught:
        client.post_reply(question(), "a comment long enough", "k")
    assert type(caught.value) is expected
    assert TOKEN not in str(caught.value)


def test_throttle_violation_waits_as_long_as_the_message_says(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    fake.next_error = se_error(502, "throttle_violation",
                               "too many requests from this IP, more requests available in 76 seconds")
    with pytest.raises(ReplyRetryLater) as caught:
        client.post_reply(question(), "a comment long enough", "k")
    assert caught.value.retry_after == 76


def test_a_deleted_post_is_rejected(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    with pytest.raises(ReplyRejected, match="deleted") as caught:
        client.post_reply(target("stackexchange", "79000000"), "a comment long enough", "k")
    assert not isinstance(caught.value, ReplyAuthError)


@pytest.mark.parametrize("text", ["too short", "x" * 601])
def test_length_outside_15_to_600_is_rejected_before_sending(fake, clock, monkeypatch, text):
    client = make(fake, clock, monkeypatch)
    with pytest.raises(ReplyRejected, match="15 to 600 characters"):
        client.post_reply(question(), text, "k")
    assert fake.requests == []


def test_lost_answer_then_find_own_reply(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    fake.comments[QUESTION].append(fake.comment(QUESTION, "Same words &amp; more", 1234))  # someone else's
    fake.drop_after_add = True
    with pytest.raises(ReplyOutcomeUnknown):
        client.post_reply(question(), "Same words & more", "k")
    assert len(fake.comments[QUESTION]) == 2  # posted on the platform

    found = client.find_own_reply(question(), "Same words & more")
    ours = fake.comments[QUESTION][1]
    assert found is not None and found.platform_id == str(ours["comment_id"])
    assert client.find_own_reply(question(), "never sent this one") is None
    assert len([r for r in fake.requests if r.path == "/2.3/me"]) == 1
    [listing, *_] = [r for r in fake.requests if r.path == f"/2.3/posts/{QUESTION}/comments"]
    assert listing.param("sort") == "creation" and listing.param("order") == "desc"
    assert listing.param("access_token") is None  # reading comments needs no token


def test_duplicate_request_means_look_before_sending_again(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch, reply_user_id=OUR_USER)
    # the comment as the site renders our mini-Markdown: *fixed* became <i>fixed</i>
    fake.comments[QUESTION].append(fake.comment(QUESTION, "Thanks, <i>fixed</i> in 2.3.1!", OUR_USER))
    fake.next_error = se_error(409, "duplicate_request", "A request identical to this one was recently made")
    with pytest.raises(ReplyOutcomeUnknown, match="duplicate_request"):
        client.post_reply(question(), "Thanks, *fixed* in 2.3.1!", "k")
    assert client.find_own_reply(question(), "Thanks, *fixed* in 2.3.1!") is not None
    assert not [r for r in fake.requests if r.path == "/2.3/me"]  # reply_user_id given


def test_reply_needs_a_token_and_an_app_key_naming_them():
    assert "reply_access_token_secret" in config_problems("stackexchange", reply=True)["source[0]"]
    problems = config_problems("stackexchange", reply=True, reply_access_token_secret="t")
    assert "reply_key_secret" in problems["source[0]"]
    source_settings("stackexchange", reply=True, reply_access_token_secret="t", key_secret="k")


def test_through_the_outbox_a_lost_answer_is_found_not_posted_again(fake, clock, store, monkeypatch):
    outbox = Outbox(store, clock, "stackexchange", **block(fake, monkeypatch))
    reply_id = outbox.queue(QUESTION, "Hi! SDK 2.3.1 fixes the login timeout.", url=QUESTION_URL, thread_id=QUESTION)
    fake.drop_after_add = True  # posted, answer lost
    outbox.deliver()
    assert outbox.reply(reply_id).in_doubt and len(fake.comments[QUESTION]) == 1
    clock.advance(timedelta(hours=1))
    outbox.deliver()
    reply = outbox.reply(reply_id)
    ours = fake.comments[QUESTION][0]
    assert (reply.status, reply.platform_id) == ("posted", str(ours["comment_id"]))
    assert reply.url == f"{QUESTION_URL}#comment{ours['comment_id']}_{QUESTION}"
    assert len(fake.comments[QUESTION]) == 1 and outbox.task_status(reply_id) == "responded"
