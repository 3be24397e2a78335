"""The App Store write client against a loopback fake of the App Store Connect API.

The fake checks the request as Apple documents it: `POST /v1/customerReviewResponses` with the JSON:API document
{"data": {"type": "customerReviewResponses", "attributes": {"responseBody"}, "relationships": {"review": {"data":
{"type": "customerReviews", "id"}}}}} (https://developer.apple.com/documentation/appstoreconnectapi/
post-v1-customerreviewresponses), and a bearer JWT as "Generating Tokens for API Requests" describes it: header
alg ES256, kid = key id, typ JWT; claims iss = issuer id, iat, exp at most 20 minutes after iat, aud
"appstoreconnect-v1" — its ES256 signature verified with the public half of a key the test generates. Answers are
201 with the customerReviewResponses document, `GET /v1/customerReviews/{id}/response`, and Apple's error
document {"errors": [{"id", "status", "code", "title", "detail"}]}.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from listener.clock import FakeClock
from listener.replies.platforms.base import ReplyAuthError, ReplyOutcomeUnknown, ReplyRejected, ReplyRetryLater
from listener.secrets import MissingSecret
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

KEY_ID = "2X9R4HXF34"
ISSUER = "57246542-96fe-1a63-e053-0824d011072a"
REVIEW = "8378849231"  # an id as the customer-reviews feed gives it (entry.id.label)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def apple_error(status: int, code: str, title: str, detail: str) -> Reply:
    return json_reply({"errors": [{"id": "6b5b2d7c-0000-4000-8000-000000000001", "status": str(status),
                                   "code": code, "title": title, "detail": detail}]}, status)


NOT_AUTHORIZED = apple_error(401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.",
                             "Provide a properly configured and signed bearer token, and make sure that it has "
                             "not expired.")


def new_key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return key, pem


class FakeAppStoreConnect(PlatformServer):
    def __init__(self, public_key: ec.EllipticCurvePublicKey, clock: FakeClock) -> None:
        super().__init__()
        self.public_key = public_key
        self.clock = clock
        self.reviews: dict[str, dict[str, Any] | None] = {REVIEW: None}  # review id → its response
        self.claims_seen: list[dict[str, Any]] = []
        self.next_error: Reply | None = None
        self.drop_after_post = False
        self._ids = itertools.count(1)

    def verified(self, request: Request) -> bool:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return False
        token = auth.removeprefix("Bearer ")
        header = jwt.get_unverified_header(token)
        if header != {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}:
            return False
        try:  # the signature, issuer and audience; the times against this fake's own clock
            claims = jwt.decode(token, self.public_key, algorithms=["ES256"], audience="appstoreconnect-v1",
                                issuer=ISSUER, options={"verify_exp": False, "verify_iat": False,
                                                        "require": ["iss", "iat", "exp", "aud"]})
        except jwt.InvalidTokenError:
            return False
        now = self.clock.now().timestamp()
        self.claims_seen.append(claims)
        return claims["iat"] <= now + 60 and now < claims["exp"] and claims["exp"] - claims["iat"] <= 20 * 60

    def answer(self, request: Request) -> Reply:
        if not self.verified(request):
            return NOT_AUTHORIZED
        if request.method == "POST" and request.path == "/v1/customerReviewResponses":
            return self.respond(request)
        if request.method == "GET" and request.path.startswith("/v1/customerReviews/") \
                and request.path.endswith("/response"):
            review = request.path.split("/")[3]
            response = self.reviews.get(review)
            if response is None:
                return apple_error(404, "NOT_FOUND", "The specified resource does not exist",
                                   f"There is no resource of type 'customerReviewResponses' for review '{review}'")
            return json_reply({"data": response, "links": {"self": self.url(request.path)}})
        return apple_error(404, "NOT_FOUND", "The specified resource does not exist", f"no path {request.path}")

    def respond(self, request: Request) -> Reply:
        assert request.headers["Content-Type"] == "application/json"
        body = request.json()
        assert set(body) == {"data"} and set(body["data"]) == {"type", "attributes", "relationships"}
        assert body["data"]["type"] == "customerReviewResponses"
        assert set(body["data"]["attributes"]) == {"responseBody"}
        review = body["data"]["relationships"]["review"]["data"]
        assert set(review) == {"type", "id"} and review["type"] == "customerReviews"
        if self.next_error is not None:
            error, self.next_error = self.next_error, None
            return error
        if review["id"] not in self.reviews:
            return apple_error(404, "NOT_FOUND", "The specified resource does not exist",
                               f"There is no resource of type 'customerReviews' with id '{review['id']}'")
        existing = self.reviews[review["id"]]
        response_id = existing["id"] if existing else f"00000000-resp-{next(self._ids):04d}"
        self.reviews[review["id"]] = {
            "type": "customerReviewResponses", "id": response_id,
            "attributes": {"responseBody": body["data"]["attributes"]["responseBody"],
                           "lastModifiedDate": self.clock.now().isoformat(), "state": "PENDING_PUBLISH"},
            "relationships": {"review": {"links": {"self": self.url(f"/v1/customerReviewResponses/{response_id}"
                                                                    "/relationships/review")}}},
            "links": {"self": self.url(f"/v1/customerReviewResponses/{response_id}")}}
        if self.drop_after_post:
            self.drop_after_post = False
            raise DropConnection
        return json_reply({"data": self.reviews[review["id"]],
                           "links": {"self": self.url(f"/v1/customerReviewResponses/{response_id}")}}, 201)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def key() -> tuple[ec.EllipticCurvePrivateKey, str]:
    return new_key()


@pytest.fixture
def fake(key, clock) -> Any:
    with FakeAppStoreConnect(key[0].public_key(), clock) as server:
        yield server


def block(fake: FakeAppStoreConnect, monkeypatch: pytest.MonkeyPatch, pem: str) -> dict[str, Any]:
    set_secrets(monkeypatch, **{"asc-key": pem})
    return {"brand": "Acme", "app_id": "811377230", "reply": True, "reply_key_id": KEY_ID, "reply_issuer_id": ISSUER,
            "reply_private_key_secret": "asc-key", "reply_base_url": fake.url()}


def make(fake: FakeAppStoreConnect, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, pem: str) -> Any:
    return build_client("appstore", clock, **block(fake, monkeypatch, pem))


def review_target() -> Any:
    return target("appstore", REVIEW, url="https://itunes.apple.com/us/review?id=811377230&type=Purple%20Software")


def test_posts_the_response_with_a_signed_short_lived_jwt(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key[1])
    assert (client.kind, client.max_length, client.markdown, client.idempotent) == ("appstore", 5970, False, True)
    posted = client.post_reply(review_target(), "Danke! Das Update 2.3 behebt den Absturz.", "k1")
    assert posted.platform_id == fake.reviews[REVIEW]["id"]
    assert posted.url == review_target().url
    assert fake.reviews[REVIEW]["attributes"]["responseBody"] == "Danke! Das Update 2.3 behebt den Absturz."
    (claims,) = fake.claims_seen
    assert claims == {"iss": ISSUER, "iat": int(START.timestamp()), "exp": int(START.timestamp()) + 15 * 60,
                      "aud": "appstoreconnect-v1"}
    [post] = [r for r in fake.requests if r.method == "POST"]
    assert post.json() == {"data": {"type": "customerReviewResponses",
                                    "attributes": {"responseBody": "Danke! Das Update 2.3 behebt den Absturz."},
                                    "relationships": {"review": {"data": {"type": "customerReviews",
                                                                          "id": REVIEW}}}}}


def test_the_jwt_is_reused_then_renewed_before_it_expires(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key[1])
    client.post_reply(review_target(), "one", "k1")
    clock.advance(timedelta(minutes=10))
    client.post_reply(review_target(), "two", "k2")
    clock.advance(timedelta(minutes=4, seconds=30))  # 30 s before the first token's end: a new one is made
    client.post_reply(review_target(), "three", "k3")
    tokens = [r.headers["Authorization"] for r in fake.requests]
    assert tokens[0] == tokens[1] != tokens[2]
    assert [c["iat"] - int(START.timestamp()) for c in fake.claims_seen] == [0, 0, 870]


def test_posting_again_replaces_the_one_response(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key[1])
    first = client.post_reply(review_target(), "first words", "k1")
    second = client.post_reply(review_target(), "better words", "k2")
    assert first.platform_id == second.platform_id
    assert fake.reviews[REVIEW]["attributes"]["responseBody"] == "better words"


def test_a_key_apple_does_not_know_is_an_auth_error(fake, clock, monkeypatch):
    client = make(fake, clock, monkeypatch, new_key()[1])  # signed with another key: the signature fails
    with pytest.raises(ReplyAuthError, match="NOT_AUTHORIZED"):
        client.post_reply(review_target(), "hello", "k")
    assert fake.reviews[REVIEW] is None


@pytest.mark.parametrize("error, expected, words", [
    (apple_error(403, "FORBIDDEN_ERROR", "This request is forbidden for security reasons",
                 "The API key in use does not allow this request"), ReplyAuthError, "FORBIDDEN_ERROR"),
    (apple_error(409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "An attribute value is invalid.",
                 "The response body is invalid."), ReplyRejected, "ENTITY_ERROR"),
    (apple_error(429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.",
                 "We've received too many requests for this API. Please wait and try again."),
     ReplyRetryLater, "RATE_LIMIT_EXCEEDED"),
    (apple_error(503, "SERVICE_UNAVAILABLE", "Service Unavailable", "The service is temporarily unavailable."),
     ReplyRetryLater, "SERVICE_UNAVAILABLE"),
])
def test_platform_errors(fake, clock, key, monkeypatch, error, expected, words):
    client = make(fake, clock, monkeypatch, key[1])
    fake.next_error = error
    with pytest.raises(expected, match=words) as caught:
        client.post_reply(review_target(), "hello", "k")
    assert type(caught.value) is expected


def test_rate_limit_honours_retry_after(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key[1])
    status, headers, body = apple_error(429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.", "")
    fake.next_error = (status, {**headers, "Retry-After": "120", "X-Rate-Limit": "user-hour-lim:3600;user-hour-rem:0;"},
                       body)
    with pytest.raises(ReplyRetryLater) as caught:
        client.post_reply(review_target(), "hello", "k")
    assert caught.value.retry_after == 120


def test_a_deleted_review_is_rejected(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key[1])
    with pytest.raises(ReplyRejected, match="customerReviews' with id '999'") as caught:
        client.post_reply(target("appstore", "999"), "hello", "k")
    assert not isinstance(caught.value, ReplyAuthError)


def test_over_length_is_rejected_before_sending(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key[1])
    with pytest.raises(ReplyRejected, match="5971 characters"):
        client.post_reply(review_target(), "x" * 5971, "k")
    client.post_reply(review_target(), "x" * 5970, "k")  # the limit itself is fine
    assert len(fake.requests) == 1


def test_lost_answer_then_find_own_reply(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key[1])
    assert client.find_own_reply(review_target(), "Thanks!") is None  # no response yet (404)
    fake.drop_after_post = True
    with pytest.raises(ReplyOutcomeUnknown):
        client.post_reply(review_target(), "Thanks!", "k")
    found = client.find_own_reply(review_target(), "Thanks!")
    assert found is not None and found.platform_id == fake.reviews[REVIEW]["id"]
    assert client.find_own_reply(review_target(), "Some other text") is None  # not ours: posting replaces it
    gets = [r for r in fake.requests if r.method == "GET"]
    assert {r.path for r in gets} == {f"/v1/customerReviews/{REVIEW}/response"}


def test_a_private_key_that_is_not_a_p8_key_fails_when_the_client_is_made(fake, clock, monkeypatch):
    with pytest.raises(ReplyAuthError, match="'asc-key' is not the .p8 private key") as caught:
        make(fake, clock, monkeypatch, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    assert "bm90IGEga2V5" not in str(caught.value)
    assert isinstance(caught.value, MissingSecret)  # so the outbox fails the reply with it (below)


def test_reply_without_the_api_key_fails_at_config_naming_the_keys():
    problems = config_problems("appstore", brand="Acme", app_id="1", reply=True, reply_key_id=KEY_ID)
    assert "reply_issuer_id" in problems["source[0]"]


def test_through_the_outbox(fake, clock, key, store, monkeypatch):
    outbox = Outbox(store, clock, "appstore", **block(fake, monkeypatch, key[1]))
    reply_id = outbox.queue(REVIEW, "Danke! Das Update 2.3 behebt den Absturz.", url=review_target().url)
    outbox.deliver()
    reply = outbox.reply(reply_id)
    assert (reply.status, reply.platform_id, reply.url) == ("posted", fake.reviews[REVIEW]["id"], review_target().url)
    assert outbox.task_status(reply_id) == "responded"


def test_through_the_outbox_an_unusable_key_fails_the_reply_with_its_reason(fake, clock, key, store, monkeypatch):
    outbox = Outbox(store, clock, "appstore", **block(fake, monkeypatch, "not a key"))
    reply_id = outbox.queue(REVIEW, "Danke!", url=review_target().url)
    outbox.deliver()
    reply = outbox.reply(reply_id)
    assert reply.status == "failed" and "'asc-key' is not the .p8 private key" in (reply.last_error or "")
    assert fake.requests == [] and outbox.task_status(reply_id) != "responded"
