"""The Google Play write client against a loopback fake of Google's token endpoint and the Play Developer API.

The fake checks the service-account flow as Google documents it (https://developers.google.com/identity/protocols/
oauth2/service-account#httprest): `POST token_uri` as a form with grant_type=urn:ietf:params:oauth:grant-type:
jwt-bearer and an `assertion` JWT — header alg RS256, kid = private_key_id; claims iss = client_email, scope =
androidpublisher, aud = token_uri, iat, exp at most an hour later — whose RS256 signature it verifies with the
public half of the key the test put into a made-up service account key file. Then `reviews.reply`
(https://developers.google.com/android-publisher/api-ref/rest/v3/reviews/reply) as `POST /androidpublisher/v3/
applications/{packageName}/reviews/{reviewId}:reply` with {"replyText"}, answered with {"result": {"replyText",
"lastEdited"}}; `reviews.get` with comments[].userComment / developerComment; Google's error body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from listener.clock import FakeClock
from listener.replies.platforms.base import ReplyAuthError, ReplyOutcomeUnknown, ReplyRejected, ReplyRetryLater
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

PACKAGE = "com.acme.app"
REVIEW = "017452fc-0d4b-471d-b406-bcf0f52387a7"  # an id as the read side stores it
EMAIL = "listener-replies@acme-play.iam.gserviceaccount.com"
KEY_ID = "5b1d3c7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
APP_PATH = f"/androidpublisher/v3/applications/{PACKAGE}/reviews"


def google_error(code: int, status: str, reason: str, message: str) -> Reply:
    return json_reply({"error": {"code": code, "message": message, "status": status,
                                 "errors": [{"message": message, "domain": "androidpublisher", "reason": reason}]}},
                      code)


def key_file(key: rsa.RSAPrivateKey, token_uri: str) -> str:
    """A service account key file as the Cloud console downloads it (made-up account, test key)."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": "acme-play", "private_key_id": KEY_ID,
                       "private_key": pem, "client_email": EMAIL, "client_id": "104729384756102938475",
                       "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
                       "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                       "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/x",
                       "universe_domain": "googleapis.com"})


class FakeGooglePlay(PlatformServer):
    def __init__(self, public_key: rsa.RSAPublicKey, clock: FakeClock) -> None:
        super().__init__()
        self.public_key = public_key
        self.clock = clock
        self.tokens: set[str] = set()
        self.assertions: list[dict[str, Any]] = []
        self.reviews: dict[str, dict[str, Any]] = {REVIEW: {"text": "App stürzt beim Login ab", "reply": None}}
        self.next_error: Reply | None = None
        self.drop_after_reply = False

    def answer(self, request: Request) -> Reply:
        if request.path == "/token":
            return self.token(request)
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            return google_error(401, "UNAUTHENTICATED", "authError",
                                "Request had invalid authentication credentials.")
        if not request.path.startswith(APP_PATH + "/"):
            return google_error(404, "NOT_FOUND", "notFound", f"no route {request.path}")
        name = request.path.removeprefix(APP_PATH + "/")
        if request.method == "POST" and name.endswith(":reply"):
            return self.reply(name.removesuffix(":reply"), request)
        if request.method == "GET":
            return self.review(name)
        return google_error(404, "NOT_FOUND", "notFound", f"no route {request.path}")

    def token(self, request: Request) -> Reply:
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = request.form()
        assert set(form) == {"grant_type", "assertion"}
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        assertion = form["assertion"][0]
        invalid = json_reply({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
        if jwt.get_unverified_header(assertion) != {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}:
            return invalid
        try:
            claims = jwt.decode(assertion, self.public_key, algorithms=["RS256"], audience=self.url("/token"),
                                issuer=EMAIL, options={"verify_exp": False, "verify_iat": False,
                                                       "require": ["iss", "scope", "aud", "iat", "exp"]})
        except jwt.InvalidTokenError:
            return invalid
        now = self.clock.now().timestamp()
        if claims["scope"] != SCOPE or not claims["iat"] <= now + 60 or not now < claims["exp"] \
                or claims["exp"] - claims["iat"] > 3600:
            return json_reply({"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a "
                               "short-lived token (60 minutes) and in a reasonable timeframe."}, 400)
        self.assertions.append(claims)
        token = f"ya29.c.play-{len(self.assertions)}"
        self.tokens.add(token)
        return json_reply({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def reply(self, review_id: str, request: Request) -> Reply:
        assert request.params == {}
        assert request.headers["Content-Type"] == "application/json"
        body = request.json()
        assert set(body) == {"replyText"}
        if self.next_error is not None:
            error, self.next_error = self.next_error, None
            return error
        if review_id not in self.reviews:
            return google_error(404, "NOT_FOUND", "notFound", "No review found for the given ID.")
        edited = {"seconds": str(int(self.clock.now().timestamp())), "nanos": 0}
        self.reviews[review_id]["reply"] = {"text": body["replyText"], "lastModified": edited}
        if self.drop_after_reply:
            self.drop_after_reply = False
            raise DropConnection
        return json_reply({"result": {"replyText": body["replyText"], "lastEdited": edited}})

    def review(self, review_id: str) -> Reply:
        if review_id not in self.reviews:
            return google_error(404, "NOT_FOUND", "notFound", "No review found for the given ID.")
        review = self.reviews[review_id]
        comments: list[dict[str, Any]] = [{"userComment": {
            "text": review["text"], "lastModified": {"seconds": "1783346124", "nanos": 77000000}, "starRating": 1,
            "reviewerLanguage": "de", "device": "a10", "androidOsVersion": 33, "appVersionCode": 2301,
            "appVersionName": "2.3.1", "thumbsUpCount": 2, "thumbsDownCount": 0}}]
        if review["reply"]:
            comments.append({"developerComment": review["reply"]})
        return json_reply({"reviewId": review_id, "authorName": "Formann Ali", "comments": comments})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fake(key, clock) -> Any:
    with FakeGooglePlay(key.public_key(), clock) as server:
        yield server


def block(fake: FakeGooglePlay, monkeypatch: pytest.MonkeyPatch, account: str) -> dict[str, Any]:
    set_secrets(monkeypatch, **{"play-service-account": account})
    return {"brand": "Acme", "app_id": PACKAGE, "reply": True, "reply_service_account_secret": "play-service-account",
            "reply_base_url": fake.url()}


def make(fake: FakeGooglePlay, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, account: str) -> Any:
    return build_client("googleplay", clock, **block(fake, monkeypatch, account))


def review_target(review: str = REVIEW) -> Any:
    return target("googleplay", review,
                  url=f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId={review}")


def test_replies_with_a_token_from_a_signed_service_account_assertion(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key_file(key, fake.url("/token")))
    assert (client.kind, client.max_length, client.markdown, client.idempotent) == ("googleplay", 350, False, True)
    posted = client.post_reply(review_target(), "Danke! Version 2.3.2 behebt den Login-Absturz.", "k1")
    assert posted.platform_id == f"{REVIEW}:reply"
    assert posted.url == review_target().url
    assert fake.reviews[REVIEW]["reply"]["text"] == "Danke! Version 2.3.2 behebt den Login-Absturz."

    (claims,) = fake.assertions
    now = int(START.timestamp())
    assert claims == {"iss": EMAIL, "scope": SCOPE, "aud": fake.url("/token"), "iat": now, "exp": now + 3600}
    [post] = [r for r in fake.requests if r.method == "POST" and r.path != "/token"]
    assert post.path == f"{APP_PATH}/{REVIEW}:reply"
    assert post.json() == {"replyText": "Danke! Version 2.3.2 behebt den Login-Absturz."}
    assert post.headers["Authorization"] == "Bearer ya29.c.play-1"


def test_the_token_is_reused_and_renewed_before_it_expires(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key_file(key, fake.url("/token")))
    client.post_reply(review_target(), "one", "k1")
    client.post_reply(review_target(), "two", "k2")
    clock.advance(timedelta(minutes=58))
    client.post_reply(review_target(), "three", "k3")
    assert len(fake.assertions) == 2
    fake.tokens.clear()  # revoked early: one 401, a new token, the reply goes through
    client.post_reply(review_target(), "four", "k4")
    assert len(fake.assertions) == 3 and fake.reviews[REVIEW]["reply"]["text"] == "four"


def test_a_key_google_does_not_know_is_an_auth_error(fake, clock, monkeypatch):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = make(fake, clock, monkeypatch, key_file(other, fake.url("/token")))
    with pytest.raises(ReplyAuthError, match="Invalid JWT Signature") as caught:
        client.post_reply(review_target(), "hello", "k")
    assert fake.reviews[REVIEW]["reply"] is None
    assert "PRIVATE KEY" not in str(caught.value)


@pytest.mark.parametrize("error, expected, words", [
    (google_error(403, "PERMISSION_DENIED", "permissionDenied",
                  "The current user has insufficient permissions to perform the requested operation."),
     ReplyAuthError, "insufficient permissions"),
    (google_error(400, "INVALID_ARGUMENT", "badRequest", "The reply text is too long."),
     ReplyRejected, "too long"),
    (google_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Quota exceeded for quota metric 'Reviews'."),
     ReplyRetryLater, "Quota exceeded"),
    (google_error(503, "UNAVAILABLE", "backendError", "The service is currently unavailable."),
     ReplyRetryLater, "unavailable"),
])
def test_platform_errors(fake, clock, key, monkeypatch, error, expected, words):
    client = make(fake, clock, monkeypatch, key_file(key, fake.url("/token")))
    fake.next_error = error
    with pytest.raises(expected, match=words) as caught:
        client.post_reply(review_target(), "hello", "k")
    assert type(caught.value) is expected


def test_rate_limit_honours_retry_after(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key_file(key, fake.url("/token")))
    status, headers, body = google_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Quota exceeded.")
    fake.next_error = (status, {**headers, "Retry-After": "60"}, body)
    with pytest.raises(ReplyRetryLater) as caught:
        client.post_reply(review_target(), "hello", "k")
    assert caught.value.retry_after == 60


def test_a_deleted_review_is_rejected(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key_file(key, fake.url("/token")))
    with pytest.raises(ReplyRejected, match="No review found") as caught:
        client.post_reply(review_target("gone-review"), "hello", "k")
    assert not isinstance(caught.value, ReplyAuthError)


def test_over_length_is_rejected_before_sending(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key_file(key, fake.url("/token")))
    with pytest.raises(ReplyRejected, match="351 characters"):
        client.post_reply(review_target(), "x" * 351, "k")
    assert fake.requests == []


def test_lost_answer_then_find_own_reply(fake, clock, key, monkeypatch):
    client = make(fake, clock, monkeypatch, key_file(key, fake.url("/token")))
    assert client.find_own_reply(review_target(), "Thanks!") is None  # no developer comment yet
    fake.drop_after_reply = True
    with pytest.raises(ReplyOutcomeUnknown):
        client.post_reply(review_target(), "Thanks!", "k")
    found = client.find_own_reply(review_target(), "Thanks!")
    assert found is not None and found.platform_id == f"{REVIEW}:reply"
    assert client.find_own_reply(review_target(), "other words") is None
    assert {r.path for r in fake.requests if r.method == "GET"} == {f"{APP_PATH}/{REVIEW}"}


@pytest.mark.parametrize("account, words", [
    ("not json", "not JSON"),
    (json.dumps({"type": "authorized_user", "client_id": "x"}), "service_account"),
    (json.dumps({"type": "service_account", "client_email": EMAIL, "private_key": "-----BEGIN PRIVATE KEY-----\n"
                 "c2VjcmV0\n-----END PRIVATE KEY-----\n"}), "unreadable"),
])
def test_a_secret_that_is_no_service_account_key_fails_when_the_client_is_made(fake, clock, monkeypatch, account,
                                                                                 words):
    with pytest.raises(ReplyAuthError, match=words) as caught:
        make(fake, clock, monkeypatch, account)
    assert "'play-service-account'" in str(caught.value) and "c2VjcmV0" not in str(caught.value)


def test_reply_without_a_service_account_fails_at_config_naming_the_key():
    problems = config_problems("googleplay", brand="Acme", app_id=PACKAGE, reply=True)
    assert "reply_service_account_secret" in problems["source[0]"]


def test_through_the_outbox(fake, clock, key, store, monkeypatch):
    outbox = Outbox(store, clock, "googleplay", **block(fake, monkeypatch, key_file(key, fake.url("/token"))))
    reply_id = outbox.queue(REVIEW, "Danke! Version 2.3.2 behebt den Login-Absturz.", url=review_target().url)
    outbox.deliver()
    reply = outbox.reply(reply_id)
    assert (reply.status, reply.platform_id, reply.url) == ("posted", f"{REVIEW}:reply", review_target().url)
    assert fake.reviews[REVIEW]["reply"]["text"] == "Danke! Version 2.3.2 behebt den Login-Absturz."
    assert outbox.task_status(reply_id) == "responded"
