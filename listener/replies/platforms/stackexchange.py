"""Stack Exchange: a comment on the mention's post (`POST {base_url}/posts/{id}/comments/add`, a form with `body`,
`site`, `key`, `access_token`, `preview=false`), as the user whose access token has the `write_access` scope.

Writing needs an app registered on stackapps.com (its key, sent with every write) and a user's access token; a
token made with `no_expiry` does not expire. Every error comes as HTTP 400 with `error_id`, `error_name` and
`error_message` (api.stackexchange.com/docs/error-handling). A `backoff` field in an answer forbids calling the
same method again for that many seconds: the client keeps to it and says when to retry.

Stack Exchange has no idempotency key (`duplicate_request` only refuses an identical request made moments ago).
After a crash or a lost answer the client looks for our comment first: the post's comments
(`/posts/{id}/comments`) by our user (`/me`, or `reply_user_id`) with our text.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import Field, model_validator

from listener.clock import Clock
from listener.replies.platforms.base import (
    PostedReply,
    ReplyAuthError,
    ReplyClient,
    ReplyOutcomeUnknown,
    ReplyRejected,
    ReplyRetryLater,
    ReplySettings,
    ReplyTarget,
    Secrets,
    retry_after_seconds,
    send,
)
from listener.sources.kit import SourceSettings, html_to_text

MAX_LENGTH = 600  # a comment is 15 to 600 characters
MIN_LENGTH = 15
MARKDOWN = False  # comments know a little Markdown (bold, italic, code, links); listener sends plain text
AUTH_ERRORS = {401: "access_token_required", 402: "invalid_access_token", 403: "access_denied",
               405: "key_required", 406: "access_token_compromised"}
RETRY_ERRORS = {500: "internal_error", 502: "throttle_violation", 503: "temporarily_unavailable"}
DUPLICATE = 409  # duplicate_request: the same request was just made, so it may have gone through
_MORE_IN = re.compile(r"(\d+) seconds")
_MARKUP = re.compile(r"[*_`]")


class Settings(ReplySettings):
    reply_access_token_secret: str | None = Field(default=None,
        description="A user's access token with the write_access scope (no_expiry).")
    reply_key_secret: str | None = Field(default=None,
        description="The app's key (stackapps.com); default: the source's key_secret.")
    reply_user_id: int | None = Field(default=None, ge=1,
        description="That user's id on the site; default: asked via /me.")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.reply and not self.reply_access_token_secret:
            raise ValueError("reply = true needs reply_access_token_secret (an access token with write_access)")
        if self.reply and not (self.reply_key_secret or getattr(self, "key_secret", None)):
            raise ValueError("reply = true needs an app key: reply_key_secret (or the source's key_secret)")
        return self


def _plain(text: str) -> str:
    """Text as comparable across our plain text and the HTML Stack Exchange renders from it."""
    return " ".join(_MARKUP.sub("", text).split())


@dataclass
class StackExchangeReplies:
    base: str
    site: str
    key: str
    access_token: str = field(repr=False)
    http: httpx.Client
    clock: Clock
    user_id: int | None = None
    kind: str = "stackexchange"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = False
    _not_before: dict[str, datetime] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _call(self, method: str, path: str, name: str, **kwargs: Any) -> dict[str, Any]:
        """One API call, keeping to the `backoff` an earlier answer of the same method (`name`) asked for."""
        with self._lock:
            until = self._not_before.get(name)
        now = self.clock.now()
        if until is not None and until > now:
            raise ReplyRetryLater(f"stackexchange: asked to wait before calling {name} again (backoff)",
                                  (until - now).total_seconds())
        response = send(self.http, method, f"{self.base}{path}", "stackexchange",
                        headers={"Accept": "application/json"}, **kwargs)
        try:
            data: Any = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("backoff"), int):
            with self._lock:
                self._not_before[name] = self.clock.now() + timedelta(seconds=data["backoff"])
        if isinstance(data, dict) and "error_id" in data:
            raise self._error(data, response)
        if response.status_code >= 300 or not isinstance(data, dict):
            if response.status_code == 429 or response.status_code >= 500:
                raise ReplyRetryLater(f"stackexchange: HTTP {response.status_code}",
                                      retry_after_seconds(response, self.clock.now()))
            raise ReplyRejected(f"stackexchange: HTTP {response.status_code}: {response.text.strip()[:200]}")
        return data

    def _error(self, data: dict[str, Any], response: httpx.Response) -> Exception:
        error_id = data.get("error_id")
        message = (f"stackexchange: error {error_id} {data.get('error_name') or ''}: "
                   f"{data.get('error_message') or ''}").rstrip(": ")
        if error_id in AUTH_ERRORS:
            return ReplyAuthError(f"{message} (the access token needs the write_access scope, with the app's key)")
        if error_id in RETRY_ERRORS:
            wait = retry_after_seconds(response, self.clock.now())
            more = _MORE_IN.search(str(data.get("error_message") or ""))
            return ReplyRetryLater(message, float(more.group(1)) if more else wait)
        if error_id == DUPLICATE:
            return ReplyOutcomeUnknown(f"{message} (an identical comment was just sent; looking for it)")
        return ReplyRejected(message)  # write_failed (locked or deleted post, …), bad_parameter, no_method

    def _post_id(self, target: ReplyTarget) -> str:
        if not target.external_id.isdigit():
            raise ReplyRejected(f"stackexchange: the mention has no post id to comment on ({target.external_id!r})")
        return target.external_id

    @staticmethod
    def _posted(comment: Any, target: ReplyTarget) -> PostedReply:
        comment_id = comment.get("comment_id") if isinstance(comment, dict) else None
        if not isinstance(comment_id, int):
            raise ReplyRetryLater(f"stackexchange: answer without a comment id: {str(comment)[:200]}")
        post_id = comment.get("post_id") or target.external_id
        url = f"{target.url.split('#')[0]}#comment{comment_id}_{post_id}" if target.url else None
        return PostedReply(platform_id=str(comment_id), url=url)

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        length = len(text.strip())
        if not MIN_LENGTH <= length <= self.max_length:
            raise ReplyRejected(f"stackexchange: a comment has {MIN_LENGTH} to {self.max_length} characters, "
                                f"this one {length}")
        form = {"body": text, "site": self.site, "key": self.key, "access_token": self.access_token,
                "preview": "false", "filter": "withbody"}
        data = self._call("POST", f"/posts/{self._post_id(target)}/comments/add", "comments/add", data=form)
        items = data.get("items")
        return self._posted(items[0] if isinstance(items, list) and items else None, target)

    def _me(self) -> int:
        if self.user_id is None:
            data = self._call("GET", "/me", "me", params={"site": self.site, "key": self.key,
                                                            "access_token": self.access_token})
            items = data.get("items")
            user = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
            if not isinstance(user.get("user_id"), int):
                raise ReplyAuthError(f"stackexchange: the access token's user has no account on {self.site}")
            self.user_id = user["user_id"]
        return self.user_id

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        me = self._me()
        data = self._call("GET", f"/posts/{self._post_id(target)}/comments", "posts/comments", params={
            "site": self.site, "key": self.key, "filter": "withbody", "sort": "creation", "order": "desc",
            "pagesize": 100})
        wanted = _plain(text)
        for comment in data.get("items") or []:
            if not isinstance(comment, dict) or (comment.get("owner") or {}).get("user_id") != me:
                continue
            if _plain(html_to_text(str(comment.get("body") or ""))) == wanted:
                return self._posted(comment, target)
        return None


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    key_name = settings.reply_key_secret or str(getattr(settings, "key_secret", "") or "")
    return StackExchangeReplies(
        base=str(getattr(settings, "base_url", "https://api.stackexchange.com/2.3")).rstrip("/"),
        site=str(getattr(settings, "site", "stackoverflow")), key=secrets(key_name),
        access_token=secrets(settings.reply_access_token_secret or ""), http=http, clock=clock,
        user_id=settings.reply_user_id)
