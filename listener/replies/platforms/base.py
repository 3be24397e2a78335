"""The contract between the reply outbox and one platform's write client.

A platform module is `listener/replies/platforms/<kind>.py` (the source kind it answers, e.g. `discourse`). The
registry (`platforms/__init__.py`) finds it by import name, so a new platform plugs in by existing (modules named
`_something.py` are helpers several platforms share, never a kind). It exposes:

    class Settings(ReplySettings):
        # the write keys this kind adds to its [[source]] block: `reply` (inherited), `reply_per_hour`
        # (inherited, override the default if the platform is stricter), and `reply_*_secret` keys that NAME
        # secrets (listener/secrets.py: $CREDENTIALS_DIRECTORY/<name> or $LISTENER_<NAME>), never hold them.
        reply_token_secret: str | None = None

    MAX_LENGTH = 500      # the client's max_length and markdown, also as module constants: the composer shows
    MARKDOWN = False      # the limit without reading any secret (the care inbox may run where secrets are not)

    def make_client(settings: SourceSettings, http: httpx.Client, secrets: Secrets, clock: Clock) -> ReplyClient:
        # `settings` is the source's validated [[source]] block: the source kind's own keys AND this module's
        # `Settings` keys (config.py validates the block with both models combined), so
        # `assert isinstance(settings, Settings)` narrows it and `settings.base_url`, `settings.reply_…` work.
        # `http`: one shared client (timeouts, user agent, no redirects followed for POSTs); `secrets(name)`
        # returns a secret's value or raises listener.secrets.MissingSecret naming where to put it; `clock` is
        # the injected time (JWT iat/exp, token expiry).
        # Read every secret here (a missing one fails `listener doctor` and the reply, not a later request);
        # make no request here.

The outbox (listener/replies/outbox.py) calls `post_reply` once per attempt and maps what it raises:
`ReplyRejected` (and `ReplyAuthError`) → the reply is "failed" with that message shown to the agent, who may edit
and resend; `ReplyRetryLater` → retried with backoff, never sooner than `retry_after`; `ReplyOutcomeUnknown` (a
`ReplyRetryLater`: the request may have reached the platform — read timeout, connection lost after sending) and a
crash mid-post → before anything is sent again the outbox calls `find_own_reply`; if that finds our reply it is
recorded as posted, if it returns None the reply is posted again (with the same idempotency key), and if it raises
`NotImplementedError` (the platform offers no way to look) a non-idempotent reply is parked as "outcome_unknown"
for a person to check. Any other exception is a bug in the client and is treated like `ReplyRetryLater`.

Tests: tests/replies/fakes.py has the loopback platform fakes (a `PlatformFake` base: `posts`, `next_failures`,
`after_post`), tests/replies/helpers.py builds settings and clients the way the daemon does (`ReplyClients`).

`ReplyTarget` is built from the stored mention: `external_id`, `url`, `thread_id`, `parent_id` as the source
stored them, and `extra` = the mention's `reply_ref` column, which a source fills through `Mention.reply_ref`
(str → str, e.g. discourse `post_number`; bluesky `cid`, `root_uri`, `root_cid`). A source that needs more ids to
answer adds them there (small, per-platform; no text).

`post_reply` gets text already checked against `max_length` and placeholders filled; it posts it as given
(Markdown only where `markdown` is True). `PostedReply.platform_id` must be the id under which the platform's own
source would store our reply as a mention's `external_id` (so our post is recognised and not scored when read
back): discourse post id, mastodon status id, reddit fullname `t1_…`, bluesky at-uri, and so on.

Optional: a client may have `verify() -> str`, asking the platform who its credentials are (posting nothing);
`listener doctor` calls it and prints what it returns (e.g. "@acme_care").

Helpers for HTTP clients below: `send` (transport errors → RetryLater / OutcomeUnknown) and `raise_for_answer`
(HTTP status → the error classes, with the platform's own error message).
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field

Secrets = Callable[[str], str]


@dataclass(frozen=True)
class ReplyTarget:
    """Where to answer: built from a stored mention."""

    source_kind: str  # "discourse", "mastodon", ...
    source_name: str  # the [[source]] name
    external_id: str  # the mention's external id as the source stored it
    url: str | None
    thread_id: str | None  # the mention's thread/parent fields as stored (topic id, root post, video id, ...)
    parent_id: str | None
    extra: Mapping[str, str] = field(default_factory=dict)  # further per-platform ids (mentions.reply_ref)


@dataclass(frozen=True)
class PostedReply:
    platform_id: str  # the platform's id of our reply (as its source would store it as external_id)
    url: str | None


class ReplyError(Exception):
    """Base; the message is the platform's error, shown to the agent."""


class ReplyRejected(ReplyError):
    """Permanent: deleted post, locked thread, too long, forbidden — do not retry."""


class ReplyAuthError(ReplyRejected):
    """Expired/invalid token or missing scope — do not retry."""


class ReplyRetryLater(ReplyError):
    """Rate limit / outage — retry with backoff, not sooner than `retry_after` seconds when given."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ReplyOutcomeUnknown(ReplyRetryLater):
    """The request may have reached the platform (no answer read): look for our reply before posting again."""


class ReplyClient(Protocol):
    kind: str
    max_length: int  # platform's documented limit in characters
    markdown: bool  # whether the platform renders Markdown (else plain text)
    idempotent: bool  # True when the platform honours an idempotency key (then find_own_reply may return None)

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply: ...

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None: ...
    # our earlier reply to this target, if the platform lets us look (NotImplementedError: it does not)


class ReplySettings(BaseModel):
    """The write keys every reply-capable source kind adds to its [[source]] block (a platform module subclasses
    it with its `reply_*_secret` keys)."""

    model_config = ConfigDict(extra="forbid")

    reply: bool = Field(default=False,
        description="Post replies from the care inbox through this source's platform (docs/replies.md).")
    reply_per_hour: int = Field(default=30, ge=1, le=10_000,
        description="At most this many replies an hour through this source.")


# ----------------------------------------------------------------------------- helpers for HTTP clients
def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Retry-After (seconds or an HTTP date), else a reset time (X-RateLimit-Reset / RateLimit-Reset)."""
    now = now or datetime.now(UTC)
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, (when.replace(tzinfo=when.tzinfo or UTC) - now).total_seconds())
        except (TypeError, ValueError):
            pass
    for header in ("X-RateLimit-Reset", "RateLimit-Reset", "x-ratelimit-reset"):
        reset = (response.headers.get(header) or "").strip()
        if not reset:
            continue
        try:
            if reset.replace(".", "", 1).isdigit():
                number = float(reset)
                # unix seconds (large) or seconds from now (small)
                return max(0.0, number - now.timestamp()) if number > 1e9 else number
            when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            return max(0.0, (when.replace(tzinfo=when.tzinfo or UTC) - now).total_seconds())
        except (ValueError, OverflowError):
            continue
    return None


def error_text(response: httpx.Response) -> str:
    """The platform's own words for a failed request: common JSON error shapes, else a bit of the body."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    found: list[str] = []
    if isinstance(body, dict):
        for key in ("errors", "error", "message", "error_description", "error_message", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                found.append(value)
            elif isinstance(value, list):
                found += [v if isinstance(v, str) else json.dumps(v)[:300] for v in value[:5]]
            elif isinstance(value, dict) and isinstance(value.get("message"), str):
                found.append(value["message"])
    text = "; ".join(dict.fromkeys(found)) if found else response.text.strip()[:300]
    return f"HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}"


def raise_for_answer(response: httpx.Response, platform: str, now: datetime | None = None) -> None:
    """Nothing for 2xx; else the error class the status means, with the platform's message."""
    status = response.status_code
    if status < 300:
        return
    message = f"{platform}: {error_text(response)}"
    if status == 429:
        raise ReplyRetryLater(message, retry_after_seconds(response, now))
    if status >= 500:
        raise ReplyRetryLater(message, retry_after_seconds(response, now))
    if status == 401:  # a 403 may be a missing scope or a locked thread: clients that can tell refine it
        raise ReplyAuthError(message)
    raise ReplyRejected(message)


def send(http: httpx.Client, method: str, url: str, platform: str, **kwargs: Any) -> httpx.Response:
    """One request. A connection that never opened is RetryLater (nothing was sent); a timeout or a broken
    connection after the request went out is OutcomeUnknown (the platform may have posted it)."""
    try:
        return http.request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise ReplyRetryLater(f"{platform}: cannot reach {httpx.URL(url).host}: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise ReplyOutcomeUnknown(f"{platform}: no answer from {httpx.URL(url).host} "
                                  f"({type(exc).__name__}); the reply may have been posted") from exc
