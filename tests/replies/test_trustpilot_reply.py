"""The Trustpilot write client against a loopback fake of Trustpilot's OAuth endpoint and Service Reviews API.

The fake checks the requests as https://developers.trustpilot.com documents them: the access token from
`POST /v1/oauth/oauth-business-users-for-applications/accesstoken` with `Authorization: Basic
base64(API_KEY:API_SECRET)` and a form body (grant_type=password with username and password, or
grant_type=client_credentials), answered {"access_token", "refresh_token", "expires_in": "359999"} (a string);
"Reply to a review" as `POST /v1/private/reviews/{reviewId}/reply` with a Bearer token and {"authorBusinessUserId",
"message"}, answered 201; the public review `GET /v1/reviews/{reviewId}` (apikey header) with `companyReply`.
Refused tokens and rate limits come in the API gateway's {"fault": {"faultstring", "detail": {"errorcode"}}} shape.
"""

from __future__ import annotations

import base64
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

API_KEY = "tp-api-key-not-real"
API_SECRET = "tp-api-secret-not-real"
USER = "care@acme.example"
PASSWORD = "correct horse battery staple"
BUSINESS_USER = "507f191e810c19729de860eb"
REVIEW = "5e3de1b45fb06f0001790b51"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def fault(status: int, text: str, code: str) -> Reply:
    return json_reply({"fault": {"faultstring": text, "detail": {"errorcode": code}}}, status)


class FakeTrustpilot(PlatformServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.token_forms: list[dict[str, list[str]]] = []
        self.reviews: dict[str, dict[str, Any]] = {REVIEW: {"text": "Lieferung kam nie an.", "reply": None}}
        self.next_error: Reply | None = None
        self.drop_after_reply = False
        self.refuse_every_token = False

    def answer(self, request: Request) -> Reply:
        if request.path == "/v1/oauth/oauth-business-users-for-applications/accesstoken":
            return self.token(request)
        if request.method == "POST" and request.path.startswith("/v1/private/reviews/") \
                and request.path.endswith("/reply"):
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.tokens or self.refuse_every_token:
                return fault(401, "Invalid access token", "oauth.v2.InvalidAccessToken")
            return self.reply(request.path.split("/")[4], request)
        if request.method == "GET" and request.path.startswith("/v1/reviews/"):
            if request.headers.get("apikey") != API_KEY:
                return fault(401, "Invalid ApiKey", "oauth.v2.InvalidApiKey")
            return self.review(request.path.split("/")[3])
        return json_reply({"message": "Not found", "details": f"no route {request.path}"}, 404)

    def token(self, request: Request) -> Reply:
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        expected = "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return fault(401, "Invalid client identifier", "oauth.v2.InvalidClientIdentifier")
        form = request.form()
        self.token_forms.append(form)
        if form["grant_type"] == ["password"]:
            assert set(form) == {"grant_type", "username", "password"}
            if form["username"] != [USER] or form["password"] != [PASSWORD]:
                return json_reply({"error": "invalid_grant", "error_description": "Invalid username or password"},
                                  400)
        else:
            assert form == {"grant_type": ["client_credentials"]}
        token = f"tp-access-{len(self.token_forms)}"
        self.tokens.add(token)
        return json_reply({"access_token": token, "refresh_token": f"tp-refresh-{len(self.token_forms)}",
                           "expires_in": "359999"})

    def reply(self, review_id: str, request: Request) -> Reply:
        assert request.headers["Content-Type"] == "application/json"
        body = request.json()
        assert set(body) == {"authorBusinessUserId", "message"} and body["authorBusinessUserId"] == BUSINESS_USER
        if self.next_error is not None:
            error, self.next_error = self.next_error, None
            return error
        if review_id not in self.reviews:
            return json_reply({"message": "NotFound", "details": f"Review {review_id} was not found"}, 404)
        self.reviews[review_id]["reply"] = {"text": body["message"], "createdAt": "2026-01-05T09:00:00Z"}
        if self.drop_after_reply:
            self.drop_after_reply = False
            raise DropConnection
        return 201, {}, b""

    def review(self, review_id: str) -> Reply:
        if review_id not in self.reviews:
            return json_reply({"message": "NotFound", "details": f"Review {review_id} was not found"}, 404)
        review = self.reviews[review_id]
        body: dict[str, Any] = {"id": review_id, "stars": 1, "title": "Nie wieder", "text": review["text"],
                                "language": "de", "createdAt": "2026-01-04T10:15:00Z", "isVerified": True,
                                "numberOfLikes": 0, "consumer": {"id": "5e3de1b45fb06f0001790b50",
                                                                 "displayName": "Jana K.", "numberOfReviews": 3},
                                "businessUnit": {"id": "46d6a890ffa235a75b00021d", "identifyingName": "acme.de"}}
        if review["reply"]:
            body["companyReply"] = review["reply"]
        return json_reply(body)


@pytest.fixture
def fake() -> Any:
    with FakeTrustpilot() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def block(fake: FakeTrustpilot, monkeypatch: pytest.MonkeyPatch, password: str = PASSWORD,
          **extra: Any) -> dict[str, Any]:
    set_secrets(monkeypatch, **{"trustpilot-api-key": API_KEY, "tp-api-secret": API_SECRET, "tp-user": USER,
                                "tp-password": password})
    return {"brand": "Acme", "business_unit_id": "46d6a890ffa235a75b00021d", "base_url": fake.url(), "reply": True,
            "reply_api_secret_secret": "tp-api-secret", "reply_business_user_id": BUSINESS_USER,
            "reply_username_secret": "tp-user", "reply_password_secret": "tp-password", **extra}


def make(fake: FakeTrustpilot, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, password: str = PASSWORD,
         **extra: Any) -> Any:
    return build_client("trustpilot", clock, **block(fake, monkeypatch, password, **extra))


def review_target(review: str = REVIEW) -> Any:
    return target("trustpilot", review, url=f"https://www.trustpilot.com/reviews/{review}")


def test_replies_as_the_business_user_with_a_password_grant_token(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    assert (client.kind, client.max_length, client.markdown, client.idempotent) == ("trustpilot", 2048, False, False)
    posted = client.post_reply(review_target(), "Das tut uns leid – wir melden uns per E-Mail.", "k1")
    assert posted.platform_id == f"{REVIEW}:reply" and posted.url == f"https://www.trustpilot.com/reviews/{REVIEW}"
    assert fake.token_forms == [{"grant_type": ["password"], "username": [USER], "password": [PASSWORD]}]
    [post] = [r for r in fake.requests if r.path == f"/v1/private/reviews/{REVIEW}/reply"]
    assert post.headers["Authorization"] == "Bearer tp-access-1"
    assert post.json() == {"authorBusinessUserId": BUSINESS_USER,
                           "message": "Das tut uns leid – wir melden uns per E-Mail."}
    assert fake.reviews[REVIEW]["reply"]["text"] == "Das tut uns leid – wir melden uns per E-Mail."


def test_the_token_lasts_100_hours_then_a_new_one_is_asked_for(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    client.post_reply(review_target(), "one", "k1")
    clock.advance(timedelta(hours=99))
    client.post_reply(review_target(), "two", "k2")
    assert len(fake.token_forms) == 1  # "expires_in": "359999" (a string) was read as 100 hours
    clock.advance(timedelta(hours=1))
    client.post_reply(review_target(), "three", "k3")
    assert len(fake.token_forms) == 2


def test_client_credentials_grant(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch, reply_grant="client_credentials", reply_username_secret=None,
                  reply_password_secret=None)
    client.post_reply(review_target(), "Danke für Ihre Bewertung!", "k1")
    assert fake.token_forms == [{"grant_type": ["client_credentials"]}]


def test_an_expired_access_token_is_renewed_once(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    client.post_reply(review_target(), "one", "k1")
    fake.tokens.clear()  # expired or revoked on Trustpilot's side
    client.post_reply(review_target(), "two", "k2")
    assert len(fake.token_forms) == 2 and fake.reviews[REVIEW]["reply"]["text"] == "two"


def test_a_token_refused_again_after_renewal_is_an_auth_error(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    fake.refuse_every_token = True
    with pytest.raises(ReplyAuthError, match="Invalid access token .oauth.v2.InvalidAccessToken"):
        client.post_reply(review_target(), "hello", "k")
    assert len(fake.token_forms) == 2  # renewed once, then given up
    assert fake.reviews[REVIEW]["reply"] is None


def test_refused_login_is_an_auth_error_without_the_password(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch, password="wrong")
    with pytest.raises(ReplyAuthError, match="Invalid username or password") as caught:
        client.post_reply(review_target(), "hello", "k")
    assert "wrong" not in str(caught.value) and API_SECRET not in str(caught.value)
    assert fake.reviews[REVIEW]["reply"] is None


@pytest.mark.parametrize("error, expected, words", [
    (json_reply({"message": "Forbidden", "details": "The business user has no access to this business unit"}, 403),
     ReplyAuthError, "no access"),
    (json_reply({"message": "BadRequest", "details": "Message must not be empty"}, 400), ReplyRejected, "empty"),
    (fault(429, "Spike arrest violation", "policies.ratelimit.SpikeArrestViolation"), ReplyRetryLater,
     "Spike arrest"),
    (json_reply({"message": "ServiceUnavailable"}, 503), ReplyRetryLater, "503"),
])
def test_platform_errors(fake, clock, monkeypatch, error, expected, words):
    client = make(fake, clock, monkeypatch)
    fake.next_error = error
    with pytest.raises(expected, match=words) as caught:
        client.post_reply(review_target(), "hello", "k")
    assert type(caught.value) is expected
    assert fake.reviews[REVIEW]["reply"] is None


def test_rate_limit_honours_retry_after(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    status, headers, body = fault(429, "Spike arrest violation", "policies.ratelimit.SpikeArrestViolation")
    fake.next_error = (status, {**headers, "Retry-After": "10"}, body)
    with pytest.raises(ReplyRetryLater) as caught:
        client.post_reply(review_target(), "hello", "k")
    assert caught.value.retry_after == 10


def test_a_deleted_review_is_rejected(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    with pytest.raises(ReplyRejected, match="was not found") as caught:
        client.post_reply(review_target("5e3de1b45fb06f000179dead"), "hello", "k")
    assert not isinstance(caught.value, ReplyAuthError)


def test_over_length_is_rejected_before_sending(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    with pytest.raises(ReplyRejected, match="2049 characters"):
        client.post_reply(review_target(), "x" * 2049, "k")
    assert fake.requests == []


def test_lost_answer_then_find_own_reply(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch)
    assert client.find_own_reply(review_target(), "Sorry!") is None
    fake.drop_after_reply = True
    with pytest.raises(ReplyOutcomeUnknown):
        client.post_reply(review_target(), "Sorry!", "k")
    found = client.find_own_reply(review_target(), "Sorry!")
    assert found is not None and found.platform_id == f"{REVIEW}:reply"
    assert client.find_own_reply(review_target(), "something else") is None
    assert client.find_own_reply(review_target("5e3de1b45fb06f000179dead"), "Sorry!") is None
    gets = [r for r in fake.requests if r.method == "GET"]
    assert all(r.headers["apikey"] == API_KEY and "Authorization" not in r.headers for r in gets)


def test_reply_needs_the_secret_the_user_and_the_login_naming_them():
    problems = config_problems("trustpilot", brand="Acme", domain="acme.de", reply=True)
    assert ("reply_api_secret_secret, reply_business_user_id, reply_username_secret, reply_password_secret"
            in problems["source[0]"])
    source_settings("trustpilot", brand="Acme", domain="acme.de", reply=True, reply_grant="client_credentials",
                    reply_api_secret_secret="s", reply_business_user_id="507f191e810c19729de860eb")


def test_through_the_outbox(fake, clock, store, monkeypatch):
    outbox = Outbox(store, clock, "trustpilot", **block(fake, monkeypatch))
    reply_id = outbox.queue(REVIEW, "Das tut uns leid – wir melden uns per E-Mail.", url=review_target().url)
    outbox.deliver()
    reply = outbox.reply(reply_id)
    assert (reply.status, reply.platform_id, reply.url) == ("posted", f"{REVIEW}:reply", review_target().url)
    assert fake.reviews[REVIEW]["reply"]["text"] == "Das tut uns leid – wir melden uns per E-Mail."
    assert outbox.task_status(reply_id) == "responded"
