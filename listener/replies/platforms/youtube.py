"""YouTube: a reply to the mention's top-level comment (`comments.insert`, `POST {base_url}/comments?part=snippet`
with `{"snippet": {"parentId", "textOriginal"}}`), as the channel an OAuth grant with the `youtube.force-ssl`
scope acts for.

The access token comes from a refresh token (`POST https://oauth2.googleapis.com/token`,
grant_type=refresh_token with the OAuth client's id and secret) and is renewed shortly before it expires. The
read side's API key cannot write: comments need OAuth. Each reply costs 50 quota units of the Google Cloud
project the OAuth client belongs to.

YouTube has no idempotency key. After a crash or a lost answer the client looks for our reply first: the
replies to that comment (`comments.list` with `parentId`) written by our channel with our text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import Field, HttpUrl, model_validator

from listener.clock import Clock
from listener.replies.platforms._google import describe, google_error
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
from listener.sources.youtube import seconds_to_pacific_midnight

MAX_LENGTH = 10_000  # comments.insert: snippet.textOriginal, commentTextTooLong beyond
MARKDOWN = False  # plain text (YouTube renders *bold* and _italic_ itself, not Markdown)
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
FIND_PAGES = 5  # pages of 100 replies searched for our own

QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded"}  # until midnight Pacific
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
AUTH_REASONS = {"authError", "insufficientPermissions", "forbidden", "ineligibleAccount",
                "accountDelegationForbidden", "authenticatedUserAccountClosed",
                "authenticatedUserAccountSuspended", "authenticatedUserNotChannel"}
GONE_REASONS = {"parentCommentNotFound", "commentNotFound", "videoNotFound", "parentCommentIsPrivate"}


class Settings(ReplySettings):
    # an OAuth client ("Desktop" or "Web") of the Google Cloud project with the YouTube Data API enabled, and a
    # refresh token the channel's owner granted it with the youtube.force-ssl scope
    reply_client_id_secret: str | None = Field(default=None,
        description=("Names the secret with the OAuth client id (a Google Cloud project with the YouTube Data API "
                     "enabled)."))
    reply_client_secret_secret: str | None = Field(default=None,
        description="Names the secret with that OAuth client's secret.")
    reply_refresh_token_secret: str | None = Field(default=None,
        description="Names the secret with the refresh token the channel's owner granted (scope youtube.force-ssl).")
    reply_token_url: HttpUrl = Field(default=HttpUrl("https://oauth2.googleapis.com/token"),
        description="Google's OAuth token endpoint (tests and proxies).")
    reply_channel_id: str | None = Field(default=None,
        description="Our channel (\"UC…\"); else asked once with channels.list?mine=true.")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.reply and not (self.reply_client_id_secret and self.reply_client_secret_secret
                               and self.reply_refresh_token_secret):
            raise ValueError("reply = true needs reply_client_id_secret, reply_client_secret_secret and "
                             "reply_refresh_token_secret (an OAuth grant with the youtube.force-ssl scope)")
        return self


@dataclass
class YouTubeReplies:
    base: str
    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    http: httpx.Client
    clock: Clock
    channel_id: str | None = None
    kind: str = "youtube"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = False
    tokens: TokenCache = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenCache(self._refresh, self.clock)

    def _refresh(self) -> Token:
        token = request_token(self.http, self.token_url, "youtube", self.clock, data={
            "grant_type": "refresh_token", "client_id": self.client_id, "client_secret": self.client_secret,
            "refresh_token": self.refresh_token}, scope=SCOPE)
        return token

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One Data API request with the current access token; a 401 renews the token and tries once more
        (a refused token posted nothing)."""
        response = self.tokens.send(self.http, method, f"{self.base}{path}", "youtube", **kwargs)
        self._check(response)
        try:
            return response.json()
        except ValueError:
            raise ReplyRetryLater(f"youtube: unreadable answer (HTTP {response.status_code})") from None

    def _check(self, response: httpx.Response) -> None:
        if response.status_code < 300:
            return
        reasons, _ = google_error(response)
        message = describe(response, "youtube")
        if reasons & QUOTA_REASONS:
            raise ReplyRetryLater(f"{message} (the quota resets at midnight Pacific time)",
                                  seconds_to_pacific_midnight(self.clock.now()))
        if reasons & RATE_REASONS:
            raise ReplyRetryLater(message, retry_after_seconds(response, self.clock.now()))
        if response.status_code == 401 or reasons & AUTH_REASONS:
            raise ReplyAuthError(f"{message} (the OAuth grant needs the youtube.force-ssl scope and a channel)")
        if reasons & GONE_REASONS:
            raise ReplyRejected(f"{message} (the comment was deleted, hidden or made private)")
        if "commentsDisabled" in reasons:
            raise ReplyRejected(f"{message} (comments are turned off on this video)")
        if response.status_code == 429 or response.status_code >= 500:
            raise ReplyRetryLater(message, retry_after_seconds(response, self.clock.now()))
        raise ReplyRejected(message)

    def _posted(self, comment: Any, target: ReplyTarget) -> PostedReply:
        reply_id = comment.get("id") if isinstance(comment, dict) else None
        if not isinstance(reply_id, str) or not reply_id:
            raise ReplyRetryLater(f"youtube: answer without a comment id: {str(comment)[:200]}")
        video = target.thread_id or (comment.get("snippet") or {}).get("videoId")
        url = f"https://www.youtube.com/watch?v={video}&lc={reply_id}" if video else None
        return PostedReply(platform_id=reply_id, url=url)

    @staticmethod
    def _parent(target: ReplyTarget) -> str:
        if not target.external_id:
            raise ReplyRejected("youtube: the mention has no comment id to answer")
        # a reply to a reply goes to its thread's top-level comment ("<top>.<reply>"), as YouTube nests one level
        return target.parent_id or target.external_id.split(".", 1)[0]

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        if len(text) > self.max_length:
            raise ReplyRejected(f"youtube: the reply has {len(text)} characters, YouTube takes {self.max_length}")
        body = {"snippet": {"parentId": self._parent(target), "textOriginal": text}}
        return self._posted(self._call("POST", "/comments", params={"part": "snippet"}, json=body), target)

    def _our_channel(self) -> str:
        if not self.channel_id:
            found = self._call("GET", "/channels", params={"part": "id", "mine": "true"})
            items = found.get("items") if isinstance(found, dict) else None
            first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
            if not isinstance(first.get("id"), str):
                raise ReplyAuthError("youtube: the OAuth grant belongs to no YouTube channel")
            self.channel_id = first["id"]
        return self.channel_id

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        channel = self._our_channel()
        wanted = " ".join(text.split())
        params: dict[str, Any] = {"part": "snippet", "parentId": self._parent(target), "maxResults": 100,
                                  "textFormat": "plainText"}
        for _ in range(FIND_PAGES):
            page = self._call("GET", "/comments", params=params)
            items = page.get("items") if isinstance(page, dict) else None
            for comment in items if isinstance(items, list) else []:
                snippet = comment.get("snippet") if isinstance(comment, dict) else None
                if not isinstance(snippet, dict):
                    continue
                author = (snippet.get("authorChannelId") or {}).get("value")
                if author == channel and " ".join(str(snippet.get("textOriginal") or "").split()) == wanted:
                    return self._posted(comment, target)
            token = page.get("nextPageToken") if isinstance(page, dict) else None
            if not isinstance(token, str) or not token:
                return None
            params["pageToken"] = token
        return None


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    base = str(getattr(settings, "base_url", "https://www.googleapis.com/youtube/v3")).rstrip("/")
    return YouTubeReplies(
        base=base, token_url=str(settings.reply_token_url), http=http, clock=clock,
        client_id=secrets(settings.reply_client_id_secret or ""),
        client_secret=secrets(settings.reply_client_secret_secret or ""),
        refresh_token=secrets(settings.reply_refresh_token_secret or ""),
        channel_id=settings.reply_channel_id)
