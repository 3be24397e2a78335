"""OAuth 2 access tokens for the write clients that need one (YouTube, Google Play, Trustpilot): one token
request, its errors mapped to the reply errors, and a cache that renews the token shortly before it expires.

Not a platform module (the leading underscore keeps the registry from taking it for a source kind).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from listener.clock import Clock
from listener.replies.platforms.base import (
    ReplyAuthError,
    ReplyOutcomeUnknown,
    ReplyRetryLater,
    error_text,
    retry_after_seconds,
    send,
)

RENEW_BEFORE = timedelta(minutes=2)  # a token this close to its end is renewed before use


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: datetime


def request_token(http: httpx.Client, url: str, platform: str, clock: Clock, *, data: dict[str, str],
                  headers: dict[str, str] | None = None, scope: str | None = None) -> Token:
    """POST a form to a token endpoint and read `access_token` / `expires_in` (a number or a numeric string).

    Refused credentials (400/401/403, RFC 6749's `invalid_grant`, `invalid_client`, …) are ReplyAuthError: the
    agent sees the platform's words and a person renews the grant. Nothing is posted by a token request, so a
    lost answer is a plain RetryLater, never OutcomeUnknown. With `scope`, a token whose granted `scope` (when the
    endpoint says) lacks it is refused here, before a request fails for it."""
    try:
        response = send(http, "POST", url, platform, data=data,
                        headers={"Accept": "application/json", **(headers or {})})
    except ReplyOutcomeUnknown as exc:
        raise ReplyRetryLater(f"{platform}: no answer from the token endpoint: {exc}") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise ReplyRetryLater(f"{platform}: token endpoint: {error_text(response)}",
                              retry_after_seconds(response, clock.now()))
    if status >= 300:
        raise ReplyAuthError(f"{platform}: the access token was refused ({error_text(response)}); "
                             "renew the write credentials")
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    value = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise ReplyRetryLater(f"{platform}: token endpoint answered without an access_token")
    granted = body.get("scope") if isinstance(body, dict) else None
    if scope and isinstance(granted, str) and scope not in granted.split():
        raise ReplyAuthError(f"{platform}: the grant lacks the {scope} scope (it has: {granted}); "
                             "grant it again with that scope")
    lifetime = body.get("expires_in") if isinstance(body, dict) else None
    try:
        seconds = float(lifetime) if lifetime is not None else 3600.0
    except (TypeError, ValueError):
        seconds = 3600.0
    return Token(value=value, expires_at=clock.now() + timedelta(seconds=seconds))


class TokenCache:
    """The current access token, fetched on first use and again when it nears its end or was refused."""

    def __init__(self, fetch: Callable[[], Token], clock: Clock):
        self._fetch = fetch
        self._clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or self._token.expires_at - RENEW_BEFORE <= self._clock.now():
                self._token = self._fetch()
            return self._token.value

    def drop(self, value: str) -> None:
        """Forget `value` (the platform answered 401 to it): the next `get` asks for a new token."""
        with self._lock:
            if self._token is not None and self._token.value == value:
                self._token = None

    def send(self, http: httpx.Client, method: str, url: str, platform: str, **kwargs: Any) -> httpx.Response:
        """One request with the current token as Bearer; a 401 renews the token and tries once more (a refused
        token posted nothing). The answer, whatever its status, is the caller's to check."""
        for attempt in (1, 2):
            token = self.get()
            response = send(http, method, url, platform,
                            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, **kwargs)
            if response.status_code != 401 or attempt == 2:
                return response
            self.drop(token)
        raise AssertionError("unreachable")
