"""Google Play: the developer reply to a review, through the Google Play Developer API
(`POST https://androidpublisher.googleapis.com/androidpublisher/v3/applications/{packageName}/reviews/{reviewId}:reply`
with `{"replyText": …}`), as a service account invited to the Play Console with the "Reply to reviews" permission.

The access token comes from the service account's key (its JSON key file, held by a secret): a JWT assertion
(RS256, `iss` = client_email, `scope` = androidpublisher, `aud` = token_uri, one hour) exchanged at its
`token_uri` with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, renewed before it expires.

A review has one developer reply, and replying again replaces it: a repeated post cannot answer twice
(`idempotent`). `find_own_reply` reads the review (`GET …/reviews/{reviewId}`) and its `developerComment`.
Play gives a reply no id of its own; `platform_id` is "<review id>:reply".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field, HttpUrl, model_validator

from listener.clock import Clock
from listener.replies.platforms._google import describe, google_error
from listener.replies.platforms._keys import UnusableSecret
from listener.replies.platforms._oauth import Token, TokenCache, request_token
from listener.replies.platforms.base import (
    PostedReply,
    ReplyAuthError,
    ReplyClient,
    ReplyRejected,
    ReplyRetryLater,
    ReplySettings,
    ReplyTarget,
    Secrets,
    retry_after_seconds,
)
from listener.sources.kit import SourceSettings

MAX_LENGTH = 350  # "Replies of more than approximately 350 characters will be rejected."
MARKDOWN = False  # plain text; Play strips HTML tags
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # Google takes assertions of at most one hour
AUTH_REASONS = {"PERMISSION_DENIED", "UNAUTHENTICATED", "forbidden", "insufficientPermissions",
                "permissionDenied", "authError"}
GONE_REASONS = {"NOT_FOUND", "notFound", "reviewNotFound"}


class Settings(ReplySettings):
    # the JSON key file of a service account that the Play Console (Users and permissions) lets reply to reviews
    reply_service_account_secret: str | None = Field(default=None,
        description=("Names the secret holding the JSON key file of a service account the Play Console lets reply to "
                     "reviews."))
    reply_base_url: HttpUrl = Field(default=HttpUrl("https://androidpublisher.googleapis.com"),
        description="The Google Play Developer API (tests and proxies).")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.reply and not self.reply_service_account_secret:
            raise ValueError("reply = true needs reply_service_account_secret (a service account's JSON key file)")
        return self


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key_id: str | None
    private_key: rsa.RSAPrivateKey = field(repr=False)
    token_uri: str


def service_account(text: str, secret_name: str) -> ServiceAccount:
    """The key file's fields that sign the assertion; a clear error (never the key) when the secret is not one."""
    problem = f"googleplay: secret {secret_name!r} is not a service account's JSON key file"
    try:
        data = json.loads(text)
    except ValueError:
        raise UnusableSecret(f"{problem} (not JSON)") from None
    if not isinstance(data, dict) or data.get("type") != "service_account":
        raise UnusableSecret(f"{problem} (\"type\" is not \"service_account\")")
    email, pem = data.get("client_email"), data.get("private_key")
    if not isinstance(email, str) or not email or not isinstance(pem, str):
        raise UnusableSecret(f"{problem} (client_email or private_key missing)")
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise UnusableSecret(f"{problem} (private_key is unreadable: {type(exc).__name__})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnusableSecret(f"{problem} (private_key is not an RSA key)")
    key_id = data.get("private_key_id")
    token_uri = data.get("token_uri") or "https://oauth2.googleapis.com/token"
    return ServiceAccount(client_email=email, private_key_id=key_id if isinstance(key_id, str) else None,
                          private_key=key, token_uri=str(token_uri))


@dataclass
class GooglePlayReplies:
    base: str
    package: str
    account: ServiceAccount
    http: httpx.Client
    clock: Clock
    kind: str = "googleplay"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = True  # one developer reply per review: replying again replaces it
    tokens: TokenCache = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenCache(self._token, self.clock)

    def _assertion(self) -> str:
        now = int(self.clock.now().timestamp())
        claims = {"iss": self.account.client_email, "scope": SCOPE, "aud": self.account.token_uri,
                  "iat": now, "exp": now + ASSERTION_LIFETIME}
        headers = {"kid": self.account.private_key_id} if self.account.private_key_id else None
        return jwt.encode(claims, self.account.private_key, algorithm="RS256", headers=headers)

    def _token(self) -> Token:
        return request_token(self.http, self.account.token_uri, "googleplay", self.clock,
                             data={"grant_type": JWT_BEARER, "assertion": self._assertion()})

    def _review_path(self, target: ReplyTarget) -> str:
        if not target.external_id:
            raise ReplyRejected("googleplay: the mention has no review id to answer")
        return (f"/androidpublisher/v3/applications/{quote(self.package, safe='')}"
                f"/reviews/{quote(target.external_id, safe='')}")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request with the current access token; a 401 renews the token and tries once more."""
        response = self.tokens.send(self.http, method, f"{self.base}{path}", "googleplay", **kwargs)
        self._check(response)
        try:
            return response.json()
        except ValueError:
            raise ReplyRetryLater(f"googleplay: unreadable answer (HTTP {response.status_code})") from None

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        reasons, _ = google_error(response)
        message = describe(response, "googleplay")
        if status == 429 or status >= 500:
            raise ReplyRetryLater(message, retry_after_seconds(response, self.clock.now()))
        if status in (401, 403) or reasons & AUTH_REASONS:
            raise ReplyAuthError(f"{message} (the service account needs the Play Console's \"Reply to reviews\" "
                                 "permission for this app)")
        if status == 404 or reasons & GONE_REASONS:
            raise ReplyRejected(f"{message} (the review is gone, has no text, or is older than the API shows)")
        raise ReplyRejected(message)

    def _posted(self, target: ReplyTarget) -> PostedReply:
        return PostedReply(platform_id=f"{target.external_id}:reply", url=target.url)

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        if len(text) > self.max_length:
            raise ReplyRejected(f"googleplay: the reply has {len(text)} characters, Google Play takes "
                                f"{self.max_length}")
        answer = self._call("POST", f"{self._review_path(target)}:reply", json={"replyText": text})
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, dict) or "replyText" not in result:
            raise ReplyRetryLater(f"googleplay: answer without a reply result: {str(answer)[:200]}")
        return self._posted(target)

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        review = self._call("GET", self._review_path(target))
        comments = review.get("comments") if isinstance(review, dict) else None
        wanted = " ".join(text.split())
        for comment in comments if isinstance(comments, list) else []:
            developer = comment.get("developerComment") if isinstance(comment, dict) else None
            if isinstance(developer, dict) and " ".join(str(developer.get("text") or "").split()) == wanted:
                return self._posted(target)
        return None  # no reply, or an older other one (replying replaces it)


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    secret_name = settings.reply_service_account_secret or ""
    package = str(getattr(settings, "app_id", ""))
    return GooglePlayReplies(base=str(settings.reply_base_url).rstrip("/"), package=package,
                             account=service_account(secrets(secret_name), secret_name), http=http, clock=clock)
