"""The YouTube write client against a loopback fake of Google's token endpoint and the Data API v3.

The fake checks what the documentation asks for: `POST /token` (https://developers.google.com/identity/protocols/
oauth2/web-server#offline) as a form with grant_type=refresh_token, client_id, client_secret, refresh_token, and
answers {"access_token", "expires_in", "scope", "token_type"} or {"error": "invalid_grant", ...};
`comments.insert` (https://developers.google.com/youtube/v3/docs/comments/insert) as `POST /youtube/v3/comments
?part=snippet` with a Bearer token and {"snippet": {"parentId", "textOriginal"}}, answered with a youtube#comment
resource; `comments.list?parentId=` and `channels.list?mine=true` for finding our own reply; errors in Google's
{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}} shape.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from listener.clock import FakeClock
from listener.replies.platforms.base import (
    ReplyAuthError,
    ReplyOutcomeUnknown,
    ReplyRejected,
    ReplyRetryLater,
)
from tests.replies._platform_kit import (
    DropConnection,
    Outbox,
    PlatformServer,
    build_client,
    config_problems,
    set_secrets,
    target,
)
from tests.sources._http import Reply, Request, json_reply

SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
CLIENT_ID = "1234567890-abc.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-not-a-real-secret"
REFRESH = "1//0refresh-not-real"
OUR_CHANNEL = "UCourchannel0000000000000"
PARENT = "UgzTopLevelComment0001"
VIDEO = "dQw4w9WgXcQ"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 01:00 in Los Angeles: 23 h to the quota reset


def google_error(code: int, reason: str, message: str, domain: str = "youtube.comment") -> Reply:
    return json_reply({"error": {"code": code, "message": message,
                                 "errors": [{"message": message, "domain": domain, "reason": reason}]}}, code)


class FakeYouTube(PlatformServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.refresh_valid = True
        self.granted_scope = SCOPE
        self.replies: list[dict[str, Any]] = []  # every comment the fake has stored, in order
        self.next_error: Reply | None = None  # the next comments.insert answers this instead
        self.drop_after_insert = False
        self._ids = itertools.count(1)
        self._token_ids = itertools.count(1)

    def answer(self, request: Request) -> Reply:
        if request.path == "/token":
            return self.token(request)
        if request.path.startswith("/youtube/v3/"):
            if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
                return google_error(401, "authError", "Request had invalid authentication credentials.",
                                    domain="global")
            if request.method == "POST" and request.path == "/youtube/v3/comments":
                return self.insert(request)
            if request.method == "GET" and request.path == "/youtube/v3/comments":
                return self.list_replies(request)
            if request.method == "GET" and request.path == "/youtube/v3/channels":
                assert request.params == {"part": ["id"], "mine": ["true"]}
                return json_reply({"kind": "youtube#channelListResponse", "items": [
                    {"kind": "youtube#channel", "etag": "e", "id": OUR_CHANNEL}]})
        return google_error(404, "notFound", f"no route {request.path}", domain="global")

    def token(self, request: Request) -> Reply:
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = request.form()
        assert form == {"grant_type": ["refresh_token"], "client_id": [CLIENT_ID],
                        "client_secret": [CLIENT_SECRET], "refresh_token": [REFRESH]}
        if not self.refresh_valid:
            return json_reply({"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                              400)
        token = f"ya29.token-{next(self._token_ids)}"
        self.tokens.add(token)
        return json_reply({"access_token": token, "expires_in": 3599, "scope": self.granted_scope,
                           "token_type": "Bearer"})

    def insert(self, request: Request) -> Reply:
        assert request.params == {"part": ["snippet"]}
        assert request.headers["Content-Type"] == "application/json"
        body = request.json()
        assert set(body) == {"snippet"} and set(body["snippet"]) == {"parentId", "textOriginal"}
        if self.next_error is not None:
            error, self.next_error = self.next_error, None
            return error
        comment = self.comment(body["snippet"]["parentId"], body["snippet"]["textOriginal"], OUR_CHANNEL)
        self.replies.append(comment)
        if self.drop_after_insert:
            self.drop_after_insert = False
            raise DropConnection
        return json_reply(comment)

    def comment(self, parent: str, text: str, author: str) -> dict[str, Any]:
        reply_id = f"{parent}.9reply{next(self._ids):04d}"
        return {"kind": "youtube#comment", "etag": f"etag-{reply_id}", "id": reply_id, "snippet": {
            "channelId": "UCvideochannel", "textDisplay": text, "textOriginal": text, "parentId": parent,
            "authorDisplayName": "Acme Support", "authorProfileImageUrl": "https://yt3.ggpht.com/x",
            "authorChannelUrl": f"http://www.youtube.com/channel/{author}", "authorChannelId": {"value": author},
            "canRate": True, "viewerRating": "none", "likeCount": 0,
            "publishedAt": "2026-01-05T09:00:00Z", "updatedAt": "2026-01-05T09:00:00Z"}}

    def list_replies(self, request: Request) -> Reply:
        assert request.param("part") == "snippet" and request.param("textFormat") == "plainText"
        parent = request.param("parentId")
        mine = [c for c in self.replies if c["snippet"]["parentId"] == parent]
        start = int(request.param("pageToken") or 0)
        page = mine[start:start + 2]  # small pages, so that paging is exercised
        body: dict[str, Any] = {"kind": "youtube#commentListResponse", "items": page}
        if start + 2 < len(mine):
            body["nextPageToken"] = str(start + 2)
        return json_reply(body)


@pytest.fixture
def fake() -> Any:
    with FakeYouTube() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def block(fake: FakeYouTube, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> dict[str, Any]:
    """The [[source]] block of a reply-enabled YouTube source, its secrets in the environment."""
    set_secrets(monkeypatch, **{"yt-client-id": CLIENT_ID, "yt-client-secret": CLIENT_SECRET,
                                "yt-refresh": REFRESH})
    return {"channel_id": "UCvideochannel", "base_url": fake.url("/youtube/v3"), "reply": True,
            "reply_client_id_secret": "yt-client-id", "reply_client_secret_secret": "yt-client-secret",
            "reply_refresh_token_secret": "yt-refresh", "reply_token_url": fake.url("/token"), **extra}


def make(fake: FakeYouTube, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> Any:
    return build_client("youtube", clock, **block(fake, monkeypatch, **extra))


def comment_target() -> Any:
    return target("youtube", PARENT, url=f"https://www.youtube.com/watch?v={VIDEO}&lc={PARENT}", thread_id=VIDEO)


def test_posts_a_reply_to_the_top_level_comment_with_a_refreshed_token(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    assert (client.kind, client.max_length, client.markdown, client.idempotent) == ("youtube", 10_000, False, False)
    posted = client.post_reply(comment_target(), "Sorry about that & thanks <3 — we're on it.", "key-1")

    token_calls = [r for r in fake.requests if r.path == "/token"]
    inserts = [r for r in fake.requests if r.path == "/youtube/v3/comments"]
    assert len(token_calls) == 1 and len(inserts) == 1
    assert inserts[0].headers["Authorization"] == "Bearer ya29.token-1"
    assert inserts[0].json() == {"snippet": {"parentId": PARENT,
                                             "textOriginal": "Sorry about that & thanks <3 — we're on it."}}
    assert posted.platform_id == fake.replies[0]["id"]
    assert posted.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={posted.platform_id}"

    client.post_reply(comment_target(), "A second answer.", "key-2")  # the token is reused while valid
    assert len([r for r in fake.requests if r.path == "/token"]) == 1
    clock.advance(timedelta(seconds=3599))  # expired: renewed before use, not after a 401
    client.post_reply(comment_target(), "A third answer.", "key-3")
    inserts = [r for r in fake.requests if r.path == "/youtube/v3/comments"]
    assert len([r for r in fake.requests if r.path == "/token"]) == 2 and len(inserts) == 3
    assert inserts[2].headers["Authorization"] == "Bearer ya29.token-2"


def test_a_token_the_platform_no_longer_accepts_is_renewed_once(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    client.post_reply(comment_target(), "first", "k1")
    fake.tokens.clear()  # revoked on Google's side before its expiry
    client.post_reply(comment_target(), "second", "k2")
    assert len([r for r in fake.requests if r.path == "/token"]) == 2
    assert [c["snippet"]["textOriginal"] for c in fake.replies] == ["first", "second"]


def test_an_expired_refresh_token_is_an_auth_error_and_posts_nothing(fake, clock, monkeypatch):
    fake.refresh_valid = False
    client = make(fake, clock, monkeypatch)
    with pytest.raises(ReplyAuthError, match="Token has been expired or revoked") as caught:
        client.post_reply(comment_target(), "hello", "k")
    assert not fake.replies
    assert REFRESH not in str(caught.value) and CLIENT_SECRET not in str(caught.value)


def test_a_grant_without_the_force_ssl_scope_is_refused_before_posting(fake, clock, monkeypatch):
    fake.granted_scope = "https://www.googleapis.com/auth/youtube.readonly"
    client = make(fake, clock, monkeypatch)
    with pytest.raises(ReplyAuthError, match="youtube.force-ssl"):
        client.post_reply(comment_target(), "hello", "k")
    assert not [r for r in fake.requests if r.path == "/youtube/v3/comments"]


@pytest.mark.parametrize("error, expected, words", [
    (google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.",
                  domain="youtube.quota"), ReplyRetryLater, "quotaExceeded"),
    (google_error(404, "parentCommentNotFound", "The specified parent comment could not be found."),
     ReplyRejected, "deleted"),
    (google_error(403, "commentsDisabled", "The video identified by the videoId parameter has disabled comments.",
                  domain="youtube.commentThread"), ReplyRejected, "turned off"),
    (google_error(400, "processingFailure", "The API server failed to successfully process the request."),
     ReplyRejected, "processingFailure"),
    (google_error(403, "forbidden", "The comment cannot be created due to insufficient permissions."),
     ReplyAuthError, "forbidden"),
])
def test_platform_errors(fake, clock, monkeypatch, error, expected, words):
    client = make(fake, clock, monkeypatch)
    fake.next_error = error
    with pytest.raises(expected, match=words) as caught:
        client.post_reply(comment_target(), "hello", "k")
    assert type(caught.value) is expected
    assert not fake.replies


def test_quota_exhausted_waits_until_midnight_pacific(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    fake.next_error = google_error(403, "quotaExceeded", "You have exceeded your quota.", domain="youtube.quota")
    with pytest.raises(ReplyRetryLater) as caught:
        client.post_reply(comment_target(), "hello", "k")
    assert caught.value.retry_after == 23 * 3600


def test_rate_limit_honours_retry_after(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    status, headers, body = google_error(429, "rateLimitExceeded", "Too many requests.", domain="usageLimits")
    fake.next_error = (status, {**headers, "Retry-After": "30"}, body)
    with pytest.raises(ReplyRetryLater) as caught:
        client.post_reply(comment_target(), "hello", "k")
    assert caught.value.retry_after == 30


def test_over_length_is_rejected_before_sending(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    with pytest.raises(ReplyRejected, match="10001 characters"):
        client.post_reply(comment_target(), "x" * 10_001, "k")
    assert fake.requests == []


def test_lost_answer_then_find_own_reply_finds_the_one_posted(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    for text in ("an older reply", "one more"):  # our other replies in the thread, so paging is needed
        fake.replies.append(fake.comment(PARENT, text, OUR_CHANNEL))
    fake.replies.append(fake.comment(PARENT, "Thanks, fixed in 2.3!", "UCsomeoneelse"))  # same text, not ours
    fake.drop_after_insert = True
    with pytest.raises(ReplyOutcomeUnknown):
        client.post_reply(comment_target(), "Thanks, fixed in 2.3!", "k")
    assert len(fake.replies) == 4  # the platform did post it

    found = client.find_own_reply(comment_target(), "Thanks,  fixed in 2.3!\n")
    assert found is not None and found.platform_id == fake.replies[-1]["id"]
    assert found.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={found.platform_id}"
    lists = [r for r in fake.requests if r.method == "GET" and r.path == "/youtube/v3/comments"]
    assert [r.param("parentId") for r in lists] == [PARENT, PARENT] and lists[1].param("pageToken") == "2"
    assert len([r for r in fake.requests if r.path == "/youtube/v3/channels"]) == 1

    assert client.find_own_reply(comment_target(), "never sent") is None
    assert len([r for r in fake.requests if r.path == "/youtube/v3/channels"]) == 1  # asked once


def test_configured_channel_needs_no_channels_call(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch, reply_channel_id=OUR_CHANNEL)
    client.post_reply(comment_target(), "hi there", "k")
    assert client.find_own_reply(comment_target(), "hi there") is not None
    assert not [r for r in fake.requests if r.path == "/youtube/v3/channels"]


def test_reply_without_credentials_fails_at_config_naming_the_keys():
    problems = config_problems("youtube", channel_id="UCx", reply=True, reply_client_id_secret="a")
    assert "reply_refresh_token_secret" in problems["source[0]"]



def test_through_the_outbox_a_lost_answer_is_found_not_posted_again(fake, clock, store, monkeypatch):
    outbox = Outbox(store, clock, "youtube", **block(fake, monkeypatch))
    reply_id = outbox.queue(PARENT, "Sorry! The upload bug is fixed in 2.3.", thread_id=VIDEO,
                            url=f"https://www.youtube.com/watch?v={VIDEO}&lc={PARENT}")
    fake.drop_after_insert = True  # YouTube stored the reply; its answer never arrived
    outbox.deliver()
    reply = outbox.reply(reply_id)
    assert (reply.status, reply.in_doubt, len(fake.replies)) == ("queued", True, 1)
    clock.advance(timedelta(hours=1))
    outbox.deliver()
    reply = outbox.reply(reply_id)
    assert (reply.status, reply.platform_id) == ("posted", fake.replies[0]["id"])
    assert reply.url == f"https://www.youtube.com/watch?v={VIDEO}&lc={fake.replies[0]['id']}"
    assert len(fake.replies) == 1 and outbox.task_status(reply_id) == "responded"
