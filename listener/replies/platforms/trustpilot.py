"""Trustpilot: the company reply to a service review (`POST {base_url}/v1/private/reviews/{reviewId}/reply` with
`{"authorBusinessUserId", "message"}`, answered 201), with a business-user OAuth token.

The token comes from `POST {base_url}/v1/oauth/oauth-business-users-for-applications/accesstoken` with HTTP Basic
authentication by the API key and secret, and either the password grant (a Trustpilot Business user's login) or
the client-credentials grant (the key alone; then `authorBusinessUserId` names the user). Tokens live 100 hours;
a new one is asked for the same way shortly before. The API key is the read side's (`api_key_secret`): Trustpilot
uses one key per application for reading and for OAuth.

A review has one company reply. `find_own_reply` reads the public review (`GET {base_url}/v1/reviews/{reviewId}`
with the API key) and its `companyReply`. A reply has no id of its own; `platform_id` is "<review id>:reply".
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import Field, model_validator

from listener.clock import Clock
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
    error_text,
    retry_after_seconds,
    send,
)
from listener.sources.kit import SourceSettings

MAX_LENGTH = 2_048  # Trustpilot documents no limit for a reply; listener keeps answers to this by default
MARKDOWN = False
TOKEN_PATH = "/v1/oauth/oauth-business-users-for-applications/accesstoken"
WEB = "https://www.trustpilot.com"


class Settings(ReplySettings):
    reply_api_secret_secret: str | None = Field(default=None,
        description="The API secret belonging to the source's API key.")
    reply_grant: Literal["password", "client_credentials"] = Field(default="password",
        description="How the Business user signs in: password (with the two secrets below) or client_credentials.")
    reply_username_secret: str | None = Field(default=None,
        description="Password grant: the Trustpilot Business user's login e-mail …")
    reply_password_secret: str | None = Field(default=None, description="… and password.")
    reply_business_user_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]+$",
        description="The replying user's id.")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if not self.reply:
            return self
        missing = [key for key in ("reply_api_secret_secret", "reply_business_user_id") if not getattr(self, key)]
        if self.reply_grant == "password":
            missing += [key for key in ("reply_username_secret", "reply_password_secret") if not getattr(self, key)]
        if missing:
            raise ValueError(f"reply = true (grant {self.reply_grant}) needs {', '.join(missing)}")
        return self


def trustpilot_error(response: httpx.Response) -> str:
    """Trustpilot's words: its API gateway answers `{"fault": {"faultstring", "detail": {"errorcode"}}}` (refused
    tokens and keys, rate limits), the API itself `{"message", "details"}`-like bodies."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    fault = body.get("fault") if isinstance(body, dict) else None
    if isinstance(fault, dict) and fault.get("faultstring"):
        code = (fault.get("detail") or {}).get("errorcode") if isinstance(fault.get("detail"), dict) else None
        return f"HTTP {response.status_code}: {fault['faultstring']}" + (f" ({code})" if code else "")
    if isinstance(body, dict) and isinstance(body.get("details"), str) and body["details"]:
        return f"HTTP {response.status_code}: {body.get('message') or 'error'}: {body['details']}"
    return error_text(response)


@dataclass
class TrustpilotReplies:
    base: str
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    grant: dict[str, str] = field(repr=False)  # grant_type and, for the password grant, username and password
    business_user_id: str
    http: httpx.Client
    clock: Clock
    kind: str = "trustpilot"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = False
    tokens: TokenCache = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenCache(self._token, self.clock)

    def _token(self) -> Token:
        basic = base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode()
        return request_token(self.http, f"{self.base}{TOKEN_PATH}", "trustpilot", self.clock, data=self.grant,
                             headers={"Authorization": f"Basic {basic}"})

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        message = f"trustpilot: {trustpilot_error(response)}"
        if status in (401, 403):
            raise ReplyAuthError(f"{message} (the business user must be allowed to reply for this business unit, "
                                 "on a plan with API access)")
        if status == 404:
            raise ReplyRejected(f"{message} (the review is gone or belongs to another business)")
        if status == 429 or status >= 500:
            raise ReplyRetryLater(message, retry_after_seconds(response, self.clock.now()))
        raise ReplyRejected(message)

    @staticmethod
    def _review_id(target: ReplyTarget) -> str:
        if not target.external_id:
            raise ReplyRejected("trustpilot: the mention has no review id to answer")
        return quote(target.external_id, safe="")

    @staticmethod
    def _posted(target: ReplyTarget) -> PostedReply:
        return PostedReply(platform_id=f"{target.external_id}:reply",
                           url=target.url or f"{WEB}/reviews/{target.external_id}")

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        if len(text) > self.max_length:
            raise ReplyRejected(f"trustpilot: the reply has {len(text)} characters, listener sends at most "
                                f"{self.max_length}")
        url = f"{self.base}/v1/private/reviews/{self._review_id(target)}/reply"
        body = {"authorBusinessUserId": self.business_user_id, "message": text}
        self._check(self.tokens.send(self.http, "POST", url, "trustpilot", json=body))
        return self._posted(target)

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        response = send(self.http, "GET", f"{self.base}/v1/reviews/{self._review_id(target)}", "trustpilot",
                        headers={"apikey": self.api_key, "Accept": "application/json"})
        if response.status_code == 404:
            return None
        self._check(response)
        try:
            review: Any = response.json()
        except ValueError:
            return None
        reply = review.get("companyReply") if isinstance(review, dict) else None
        if isinstance(reply, dict) and " ".join(str(reply.get("text") or "").split()) == " ".join(text.split()):
            return self._posted(target)
        return None


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    grant: dict[str, str] = {"grant_type": settings.reply_grant}
    if settings.reply_grant == "password":
        grant |= {"username": secrets(settings.reply_username_secret or ""),
                  "password": secrets(settings.reply_password_secret or "")}
    return TrustpilotReplies(
        base=str(getattr(settings, "base_url", "https://api.trustpilot.com")).rstrip("/"),
        api_key=secrets(str(getattr(settings, "api_key_secret", "trustpilot-api-key"))),
        api_secret=secrets(settings.reply_api_secret_secret or ""), grant=grant,
        business_user_id=settings.reply_business_user_id or "", http=http, clock=clock)
