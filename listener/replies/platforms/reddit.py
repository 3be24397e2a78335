"""Reddit through praw: `Submission.reply` / `Comment.reply` (`POST /api/comment` with `thing_id` and `text`) as
the care team's account — an OAuth refresh token of the source's app (scopes `submit`, `read`, `identity`,
`history`), or a script app's username and password.

Reddit has no idempotency key, and prawcore re-sends a request after a read timeout or a 5xx, which for a
comment could post it twice. So the HTTP session handed to praw never lets a comment POST be retried: such a
failure is "outcome unknown", and before posting again the client reads the account's newest comments
(`/user/{name}/comments`) for our reply to that post.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import praw
import prawcore
import requests
from pydantic import Field, HttpUrl, model_validator

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
)
from listener.sources.kit import SourceSettings

MAX_LENGTH = 10_000  # a comment's body
MARKDOWN = True
PERMALINK_BASE = "https://www.reddit.com"
RETRYABLE_STATUSES = {500, 502, 503, 504, 520, 522, 408}
WAIT = re.compile(r"(\d+)\s*(second|minute|millisecond)")
# Reddit's refusals that no retry changes (the rest of its error codes are read as "retry later" only for RATELIMIT)
REFUSALS = {"THREAD_LOCKED", "DELETED_COMMENT", "TOO_OLD", "SUBREDDIT_NOTALLOWED", "NO_TEXT", "TOO_LONG",
            "USER_REQUIRED", "INVALID_USER", "BANNED_FROM_SUBREDDIT", "COMMENT_GUIDANCE_VALIDATION_FAILED"}


class Settings(ReplySettings):
    # The app is the source's (client_id_secret / client_secret_secret); the account that answers is one of:
    reply_refresh_token_secret: str | None = Field(default=None,
        description="OAuth refresh token: scopes submit, read, identity, history.")
    reply_username_secret: str | None = Field(default=None,
        description="… or a script app's account name and password.")
    reply_password_secret: str | None = Field(default=None, description="… and the password of that account.")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        password = bool(self.reply_username_secret and self.reply_password_secret)
        if self.reply and not (self.reply_refresh_token_secret or password):
            raise ValueError("reply = true needs reply_refresh_token_secret, or reply_username_secret and "
                             "reply_password_secret (the account that answers)")
        return self


class CommentMayHavePosted(Exception):
    """A comment POST without a readable answer (read timeout, broken connection, a 5xx): Reddit may have
    created the comment, so prawcore must not simply send it again."""


class NoCommentRetries(requests.Session):
    """praw's HTTP session: comment POSTs that fail ambiguously raise instead of being retried by prawcore."""

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        commenting = str(method).upper() == "POST" and "/api/comment" in str(url)
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise  # never sent: prawcore may retry
        except (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ConnectionError) as exc:
            if commenting:
                raise CommentMayHavePosted(f"{type(exc).__name__}: no answer from Reddit") from exc
            raise
        if commenting and response.status_code in RETRYABLE_STATUSES:
            raise CommentMayHavePosted(f"HTTP {response.status_code} from Reddit")
        return response


def _wait_seconds(message: str) -> float | None:
    match = WAIT.search(message)
    if not match:
        return None
    amount = int(match.group(1))
    return amount * 60.0 if match.group(2) == "minute" else (0.0 if match.group(2) == "millisecond" else float(amount))


@contextmanager
def reddit_errors() -> Iterator[None]:
    """praw's and prawcore's exceptions as reply errors, with Reddit's own words."""
    try:
        yield
    except praw.exceptions.RedditAPIException as exc:
        items = [(i.error_type, i.message) for i in exc.items]
        message = "reddit: " + "; ".join(f"{t}: {m}" for t, m in items)
        limit = next((m for t, m in items if t == "RATELIMIT"), None)
        if limit is not None:
            raise ReplyRetryLater(message, _wait_seconds(limit)) from exc
        raise ReplyRejected(message) from exc
    except prawcore.RequestException as exc:
        if isinstance(exc.original_exception, CommentMayHavePosted):
            raise ReplyOutcomeUnknown(f"reddit: {exc.original_exception}; the reply may have been posted") from exc
        raise ReplyRetryLater(f"reddit: cannot reach Reddit: {exc.original_exception}") from exc
    except prawcore.TooManyRequests as exc:
        after = exc.response.headers.get("retry-after") or exc.response.headers.get("x-ratelimit-reset")
        raise ReplyRetryLater("reddit: rate limited (429)",
                              float(after) if after and after.replace(".", "", 1).isdigit() else None) from exc
    except prawcore.ServerError as exc:
        raise ReplyRetryLater(f"reddit: server error {exc.response.status_code}") from exc
    except (prawcore.OAuthException, prawcore.InvalidToken, prawcore.InsufficientScope) as exc:
        raise ReplyAuthError(f"reddit: the account's credentials were refused: {exc}") from exc
    except prawcore.ResponseException as exc:  # Forbidden (locked, banned, private), NotFound (deleted) …
        status = exc.response.status_code
        if status == 401:
            raise ReplyAuthError("reddit: the account's credentials were refused (401)") from exc
        raise ReplyRejected(f"reddit: HTTP {status} ({type(exc).__name__}): {exc.response.text[:200]}") from exc
    except prawcore.PrawcoreException as exc:
        raise ReplyRejected(f"reddit: {exc}") from exc
    except praw.exceptions.PRAWException as exc:
        raise ReplyRejected(f"reddit: {exc}") from exc


@dataclass
class RedditReplies:
    reddit: praw.Reddit
    kind: str = "reddit"
    max_length: int = MAX_LENGTH
    markdown: bool = MARKDOWN
    idempotent: bool = False
    _me: str | None = field(default=None, repr=False)

    def _thing(self, target: ReplyTarget) -> Any:
        prefix, _, base36 = target.external_id.partition("_")
        if prefix == "t3" and base36:
            return self.reddit.submission(id=base36)
        if prefix == "t1" and base36:
            return self.reddit.comment(id=base36)
        raise ReplyRejected(f"reddit: {target.external_id!r} is neither a post (t3_) nor a comment (t1_)")

    @staticmethod
    def _posted(comment: Any) -> PostedReply:
        data = vars(comment)
        permalink = data.get("permalink")
        url = PERMALINK_BASE + permalink if isinstance(permalink, str) and permalink.startswith("/") else None
        return PostedReply(platform_id=comment.fullname, url=url)

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        with reddit_errors():
            comment = self._thing(target).reply(text)
        if comment is None:  # quarantined subreddit: created, but Reddit did not say as what
            raise ReplyOutcomeUnknown("reddit: the comment was accepted without its id; looking for it")
        return self._posted(comment)

    def verify(self) -> str:
        with reddit_errors():
            me = self.reddit.user.me()
        if me is None:
            raise ReplyAuthError("reddit: these credentials act for no account (read-only)")
        return f"posts as u/{me.name}"

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        wanted = text.strip()
        with reddit_errors():
            me = self.reddit.user.me()
            if me is None:
                raise ReplyAuthError("reddit: no account to look under (read-only credentials)")
            for comment in me.comments.new(limit=100):
                data = vars(comment)
                if data.get("parent_id") == target.external_id and str(data.get("body") or "").strip() == wanted:
                    return self._posted(comment)
        return None


def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
    assert isinstance(settings, Settings)
    base = getattr(settings, "base_url", None)
    oauth_url = str(base or getattr(settings, "oauth_url", HttpUrl("https://oauth.reddit.com"))).rstrip("/")
    reddit_url = str(base or getattr(settings, "reddit_url", HttpUrl("https://www.reddit.com"))).rstrip("/")
    client_secret_name = getattr(settings, "client_secret_secret", None)
    credentials: dict[str, Any] = {
        "client_id": secrets(str(getattr(settings, "client_id_secret", "reddit-client-id"))),
        "client_secret": secrets(client_secret_name) if client_secret_name else None,
    }
    if settings.reply_refresh_token_secret:
        credentials["refresh_token"] = secrets(settings.reply_refresh_token_secret)
    else:
        credentials["username"] = secrets(settings.reply_username_secret or "")
        credentials["password"] = secrets(settings.reply_password_secret or "")
    timeout = http.timeout.read or 20.0
    reddit = praw.Reddit(site_name=None, user_agent=getattr(settings, "user_agent", None) or http.headers["User-Agent"],
                         oauth_url=oauth_url, reddit_url=reddit_url, timeout=max(1, int(timeout)),
                         check_for_updates=False, check_for_async=False, ratelimit_seconds=0,
                         requestor_kwargs={"session": NoCommentRetries()}, **credentials)
    return RedditReplies(reddit)
