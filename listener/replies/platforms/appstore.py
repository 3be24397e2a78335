"""App Store: the developer response to a customer review, through the App Store Connect API
(`POST https://api.appstoreconnect.apple.com/v1/customerReviewResponses`, a JSON:API document naming the review).

Authentication is a JWT signed with an App Store Connect API key (ES256 with the key's .p8 private key; header
`kid` = key id, claims `iss` = issuer id, `iat`, `exp` at most 20 minutes later, `aud` = "appstoreconnect-v1").
A token is made when needed and reused until shortly before it expires. The key needs the Admin, App Manager or
Customer Support role.

A review has at most one response, and posting again replaces it: a repeated post cannot make a second answer
(`idempotent`). `find_own_reply` reads the review's response (`GET /v1/customerReviews/{id}/response`).

The review id is the one the read side stores: the `id` of the customer-reviews feed entry, which App Store
Connect uses as the `customerReviews` resource id as well.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field, HttpUrl, model_validator

from listener.clock import Clock
from listener.replies.platforms._keys import UnusableSecret
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
    send,
)
from listener.sources.kit import SourceSettings

MAX_LENGTH = 5_970  # App Store Connect's limit for responseBody
MARKDOWN = False
AUDIENCE = "appstoreconnect-v1"
TOKEN_LIFETIME = timedelta(minutes=15)  # Apple refuses tokens that live longer than 20 minutes
RENEW_BEFORE = timedelta(minutes=1)


class Settings(ReplySettings):
    # an App Store Connect API key (Users and Access → Integrations → App Store Connect API), role Admin, App
    # Manager or Customer Support: its key id, the team's issuer id, and a secret holding the .p8 file's text
    reply_key_id: str | None = Field(default=None, pattern=r"^[A-Z0-9]{6,20}$",
        description="The App Store Connect API key id (role Admin, App Manager or Customer Support).")
    reply_issuer_id: str | None = Field(default=None, min_length=1, description="The team's issuer id of that key.")
    reply_private_key_secret: str | None = Field(default=None,
        description="Names the secret holding the key's .p8 file text.")
    reply_base_url: HttpUrl = Field(default=HttpUrl("https://api.appstoreconnect.apple.com"),
        description="The App Store Connect API (tests and proxies).")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.reply and not (self.reply_key_id and self.reply_issuer_id and self.reply_private_key_secret):
            raise ValueError("reply = true needs reply_key_id, reply_issuer_id and reply_private_key_secret "
                             "(an App Store Connect API key)")
        return self


def load_key(pem: str, secret_name: str) -> ec.EllipticCurvePrivateKey:
    """The .p8 file's P-256 private key; a clear error (never the key itself) when it is something else."""
    try:
        key = load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise UnusableSecret(f"appstore: secret {secret_name!r} is not the .p8 private key of an App Store Connect "
                             f"API key (PEM, -----BEGIN PRIVATE KEY-----): {type(exc).__name__}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise UnusableSecret(f"appstore: secret {secret_name!r} holds no P-256 (ES256) key")
    return key


def apple_error(response: httpx.Response) -> tuple[set[str], str]:
    """The `errors[].code` values and "title - detail" of App Store Connect's error document."""
    try:
        body: Any = response.json()
    except ValueError:
        return set(), response.text.strip()[:300]
    errors = body.get("errors") if isinstance(body, dict) else None
    items = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    codes = {str(e.get("code")) for e in items if e.get("code")}
    text = "; ".join(" - ".join(str(e[k]) for k in ("title", "detail") if e.get(k)) for e in items)
    return codes, text or response.text.strip()[:300]


@dataclass
class AppStoreReplies:
    base: str
    key_id: str
    issuer_id: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    http: httpx.Client
    clock: Clock
    kind: str = "appstore"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = True  # one response per review: posting again overwrites, never adds
    _token: tuple[str, datetime] | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _jwt(self) -> str:
        with self._lock:
            now = self.clock.now()
            if self._token is None or self._token[1] - RENEW_BEFORE <= now:
                expires = now + TOKEN_LIFETIME
                claims = {"iss": self.issuer_id, "iat": int(now.timestamp()), "exp": int(expires.timestamp()),
                          "aud": AUDIENCE}
                token = jwt.encode(claims, self.private_key, algorithm="ES256",
                                   headers={"kid": self.key_id, "typ": "JWT"})
                self._token = (token, expires)
            return self._token[0]

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return send(self.http, method, f"{self.base}{path}", "appstore",
                    headers={"Authorization": f"Bearer {self._jwt()}", "Accept": "application/json"}, **kwargs)

    def _check(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status >= 300:
            codes, text = apple_error(response)
            message = f"appstore: HTTP {status} {','.join(sorted(codes))}: {text}"
            if status in (401, 403):
                raise ReplyAuthError(f"{message} (check the API key, its issuer id and its role)")
            if status == 404:
                raise ReplyRejected(f"{message} (the review is gone or belongs to another app)")
            if status == 429 or status >= 500:
                raise ReplyRetryLater(message, retry_after_seconds(response, self.clock.now()))
            raise ReplyRejected(message)
        try:
            return response.json()
        except ValueError:
            raise ReplyRetryLater(f"appstore: unreadable answer (HTTP {status})") from None

    @staticmethod
    def _posted(document: Any, target: ReplyTarget) -> PostedReply:
        data = document.get("data") if isinstance(document, dict) else None
        response_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(response_id, str) or not response_id:
            raise ReplyRetryLater(f"appstore: answer without a customerReviewResponses id: {str(document)[:200]}")
        return PostedReply(platform_id=response_id, url=target.url)  # a response has no page of its own

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        if not target.external_id:
            raise ReplyRejected("appstore: the mention has no review id to answer")
        if len(text) > self.max_length:
            raise ReplyRejected(f"appstore: the response has {len(text)} characters, Apple takes {self.max_length}")
        body = {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": text},
                         "relationships": {"review": {"data": {"type": "customerReviews",
                                                               "id": target.external_id}}}}}
        response = self._request("POST", "/v1/customerReviewResponses", json=body)
        return self._posted(self._check(response), target)

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        response = self._request("GET", f"/v1/customerReviews/{target.external_id}/response")
        if response.status_code == 404:
            return None  # no response (yet)
        document = self._check(response)
        data = document.get("data") if isinstance(document, dict) else None
        attributes = data.get("attributes") if isinstance(data, dict) else None
        if not isinstance(attributes, dict):
            return None
        if " ".join(str(attributes.get("responseBody") or "").split()) != " ".join(text.split()):
            return None  # an older, other response: posting ours replaces it
        return self._posted(document, target)


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    secret_name = settings.reply_private_key_secret or ""
    return AppStoreReplies(base=str(settings.reply_base_url).rstrip("/"), key_id=settings.reply_key_id or "",
                           issuer_id=settings.reply_issuer_id or "",
                           private_key=load_key(secrets(secret_name), secret_name), http=http, clock=clock)
