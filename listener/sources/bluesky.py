"""Bluesky post search (`app.bsky.feed.searchPosts`) for the brand terms, with an app password.

Anonymous search is refused since 2025, so the source logs in with `com.atproto.server.createSession`
(handle + app password), keeps the access token in memory only (never in the cursor or a log), renews it
with `refreshSession` shortly before it expires, and logs in again when the server refuses it.

Bluesky's search treats words as AND and ignores `OR`, so each brand term is its own query (multi-word terms and
terms with punctuation are quoted as phrases); `queries = [...]` replaces the derived list. Each query is read
newest first (`sort=latest`) with `since` = the newest post time seen minus `overlap` (the search indexes posts by
`sortAt`, the earlier of createdAt and indexedAt, and indexing lags a little: the store drops the overlap's
duplicates). A poll reads at most `max_pages` pages of 100 per query; when more is new, the cursor remembers
how far down it got (`until`) and the next poll continues the same stretch before moving the mark, so a burst
loses nothing.

Cursor: `{"queries": {query: {"since": ISO} | {"floor": ISO, "until": ISO, "pending": ISO}}}`, plus
`rate_limited_until` when a RateLimit-Remaining header said the allowance is used up.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field, HttpUrl, field_validator

from listener.domain import Batch, Mention
from listener.durations import Duration
from listener.sources.kit import (
    BadPayload,
    ClientError,
    RateLimited,
    Source,
    SourceContext,
    SourceSettings,
    Targets,
    as_dict,
    as_text,
    counts,
    iso_time,
    parse_json,
    register,
    search_terms,
    source_secret,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # searchPosts' maximum
TOKEN_MARGIN = timedelta(seconds=60)  # renew a token this long before it expires
DEFAULT_RATE_WINDOW = timedelta(minutes=5)
REFUSED_TOKEN_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}


class BlueskySettings(SourceSettings):
    kind: str = Field(default="bluesky",
                      description="\"bluesky\": Bluesky searchPosts, one query per brand term, signed in with an app "
                                  "password.")
    handle: str = Field(min_length=3, description="The account that searches, e.g. \"acme-listener.bsky.social\".")
    app_password_secret: str = Field(default="bluesky-app-password",
                                     description="Name of the secret holding its app password "
                                                 "($LISTENER_BLUESKY_APP_PASSWORD).")
    queries: list[str] = Field(default_factory=list, description="Own search strings; default: one per brand term.")
    base_url: HttpUrl = Field(default=HttpUrl("https://bsky.social/xrpc"),
                              description="The account's PDS (it proxies the app.bsky.* calls).")
    max_pages: int = Field(default=5, ge=1, le=100,
                           description="Pages of 100 per query and poll; a bigger burst continues next poll.")
    overlap: Duration = Field(default=timedelta(minutes=5),
                              description="Re-read this much before the newest post seen (indexing lag).")
    initial_window: Duration = Field(default=timedelta(hours=24), description="How far back the first poll looks.")

    @field_validator("handle")
    @classmethod
    def _bare_handle(cls, handle: str) -> str:
        return handle.strip().lstrip("@")

    @field_validator("queries")
    @classmethod
    def _not_blank(cls, queries: list[str]) -> list[str]:
        if any(not q.strip() for q in queries):
            raise ValueError("queries must not be blank")
        return list(dict.fromkeys(q.strip() for q in queries))


def iso(value: datetime) -> str:
    """UTC with milliseconds and a Z, the form atproto uses."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def term_query(term: str) -> str:
    """A brand term as a search string: a bare word stays bare, anything else becomes a "phrase"."""
    cleaned = " ".join(term.replace('"', " ").split())
    return cleaned if cleaned.isalnum() else f'"{cleaned}"'


def token_expiry(token: str) -> datetime | None:
    """The `exp` claim of a JWT (read, not verified: only to renew in time)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def error_name(exc: ClientError) -> str | None:
    """The XRPC error name of a 4xx answer (`{"error": "ExpiredToken", ...}`)."""
    if not exc.body:
        return None
    try:
        name = json.loads(exc.body).get("error")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


@register
class BlueskySource(Source):
    kind = "bluesky"
    settings_model = BlueskySettings
    settings: BlueskySettings

    def __init__(self, settings: BlueskySettings, context: SourceContext):
        super().__init__(settings, context)
        self._access: str | None = None
        self._refresh: str | None = None

    @property
    def xrpc(self) -> str:
        return str(self.settings.base_url).rstrip("/")

    def search_queries(self) -> list[str]:
        if self.settings.queries:
            return list(self.settings.queries)
        found: dict[str, str] = {}
        for term in search_terms(self.context.brands):  # competitors too (share of voice)
            query = term_query(term)
            found.setdefault(query.casefold(), query)  # terms that differ only in quotes give one query
        return list(found.values())

    # ------------------------------------------------------------------------- session
    def _password(self) -> str:
        return source_secret(self.settings.app_password_secret)

    def _store_session(self, data: Any) -> str:
        access = data.get("accessJwt") if isinstance(data, dict) else None
        if not isinstance(access, str) or not access:
            raise BadPayload("session answer without an accessJwt")
        refresh = data.get("refreshJwt")
        self._access, self._refresh = access, refresh if isinstance(refresh, str) and refresh else None
        return access

    def _login(self) -> str:
        response = self.context.http.request(
            "POST", f"{self.xrpc}/com.atproto.server.createSession",
            json={"identifier": self.settings.handle, "password": self._password()},
        )
        log.info("event=bluesky_login source=%s handle=%s", self.name, self.settings.handle)
        return self._store_session(parse_json(response))

    def _renew(self, now: datetime) -> str | None:
        refresh = self._refresh
        expiry = token_expiry(refresh) if refresh else None
        if refresh is None or (expiry is not None and expiry - TOKEN_MARGIN <= now):
            return None
        try:
            response = self.context.http.request(
                "POST", f"{self.xrpc}/com.atproto.server.refreshSession",
                headers={"Authorization": f"Bearer {refresh}"},
            )
            return self._store_session(parse_json(response))
        except (ClientError, BadPayload):
            return None  # refresh token refused: log in again

    def _token(self, now: datetime) -> str:
        if self._access:
            expiry = token_expiry(self._access)
            if expiry is None or expiry - TOKEN_MARGIN > now:
                return self._access
        return self._renew(now) or self._login()

    def _search(self, params: dict[str, Any], now: datetime) -> httpx.Response:
        url = f"{self.xrpc}/app.bsky.feed.searchPosts"
        token = self._token(now)
        try:
            return self.context.http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
        except ClientError as exc:
            refused = exc.status == 401 or (exc.status == 400 and error_name(exc) in REFUSED_TOKEN_ERRORS)
            if not refused:
                raise
        # The token was refused (expired early, revoked): one fresh session, one retry.
        self._access = None
        token = self._renew(now) or self._login()
        return self.context.http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})

    # ------------------------------------------------------------------------- poll
    def poll(self, cursor: dict[str, Any]) -> Batch:
        now = self.context.clock.now()
        held = iso_time(cursor.get("rate_limited_until"))
        if held is not None and held > now:
            raise RateLimited(f"Bluesky rate limit used up until {held.isoformat()}",
                              retry_after=(held - now).total_seconds())
        queries = self.search_queries()
        if not queries:
            raise ClientError("nothing to search for: give the brands terms or set `queries`")
        states: dict[str, dict[str, str]] = {
            q: dict(s) for q, s in (cursor.get("queries") or {}).items() if isinstance(s, dict) and q in queries
        }
        self._token(now)  # logged in once before the queries: a refused password fails the source, not each query
        items: list[Mention] = []
        seen: set[str] = set()
        exhausted_until: datetime | None = None
        targets = Targets(self.name)  # a failing query is listed in the health and keeps its state; the others go on
        for query in queries:
            if exhausted_until is not None:
                break
            with targets.target(query):
                states[query], exhausted_until = self._poll_query(query, states.get(query, {}), now, items, seen)
        next_cursor: dict[str, Any] = {"queries": states}
        if exhausted_until is not None:
            next_cursor["rate_limited_until"] = exhausted_until.isoformat()
            log.warning("event=bluesky_rate_limit_used_up source=%s until=%s", self.name, exhausted_until.isoformat())
        return Batch(items=items, next_cursor=next_cursor, failed_targets=targets.failed())

    def _poll_query(self, query: str, state: dict[str, str], now: datetime, items: list[Mention],
                    seen: set[str]) -> tuple[dict[str, str], datetime | None]:
        since = iso_time(state.get("since"))
        floor = iso_time(state.get("floor"))
        if floor is None:
            floor = since - self.settings.overlap if since else now - self.settings.initial_window
        until = iso_time(state.get("until"))
        newest = iso_time(state.get("pending")) or since
        oldest: datetime | None = None
        page_cursor: str | None = None
        finished = False
        exhausted_until: datetime | None = None
        for _ in range(self.settings.max_pages):
            params: dict[str, Any] = {"q": query, "sort": "latest", "since": iso(floor), "limit": PAGE_SIZE}
            if until is not None:
                params["until"] = iso(until)
            if page_cursor:
                params["cursor"] = page_cursor
            response = self._search(params, now)
            data = parse_json(response)
            posts = data.get("posts") if isinstance(data, dict) else None
            if not isinstance(posts, list):
                raise BadPayload(f"searchPosts answer without a posts list: {str(data)[:200]}")
            below_floor = False
            for post in posts:
                mention, sort_at = self._mention(post, now)
                if sort_at is not None:
                    if sort_at < floor:
                        below_floor = True  # a server that ignores `since`: stop here
                        continue
                    newest = sort_at if newest is None or sort_at > newest else newest
                    oldest = sort_at if oldest is None or sort_at < oldest else oldest
                if mention is not None and mention.external_id not in seen:
                    seen.add(mention.external_id)
                    items.append(mention)
            exhausted_until = self._exhausted_until(response, now)
            next_page = data.get("cursor")
            page_cursor = next_page if isinstance(next_page, str) and next_page else None
            if page_cursor is None or below_floor or len(posts) < PAGE_SIZE:
                finished = True
                break
            if exhausted_until is not None:
                break
        if finished or oldest is None:
            # Caught up. With nothing ever found, the mark moves to now (the overlap covers indexing lag).
            return {"since": iso(newest or now)}, exhausted_until
        # More is new than this poll read: continue below the oldest post read, keep the floor and the mark.
        log.info("event=bluesky_backlog source=%s query=%r until=%s", self.name, query, iso(oldest))
        pending = {"floor": iso(floor), "until": iso(oldest + timedelta(milliseconds=1))}
        if newest is not None:
            pending["pending"] = iso(newest)
        return pending, exhausted_until

    def _exhausted_until(self, response: httpx.Response, now: datetime) -> datetime | None:
        remaining = (response.headers.get("RateLimit-Remaining") or "").strip()
        if not remaining.isdigit() or int(remaining) > 0:
            return None
        reset = (response.headers.get("RateLimit-Reset") or "").strip()
        if reset.isdigit():
            when = datetime.fromtimestamp(int(reset), tz=UTC)
            if when > now:
                return when
        return now + DEFAULT_RATE_WINDOW

    def _mention(self, post: Any, now: datetime) -> tuple[Mention | None, datetime | None]:
        if not isinstance(post, dict):
            raise BadPayload(f"post is not an object: {str(post)[:200]}")
        uri, author, record = post.get("uri"), post.get("author"), post.get("record")
        if not isinstance(uri, str) or not uri.startswith("at://") or not isinstance(author, dict) \
                or not isinstance(record, dict):
            raise BadPayload(f"post without uri/author/record: {str(post)[:200]}")
        created = iso_time(record.get("createdAt"))
        indexed = iso_time(post.get("indexedAt"))
        known = [t for t in (created, indexed) if t is not None]
        sort_at = min(known) if known else None
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            return None, sort_at  # images only: nothing to read
        handle = author.get("handle") if isinstance(author.get("handle"), str) else None
        did = author.get("did") if isinstance(author.get("did"), str) else None
        profile = handle if handle and handle != "handle.invalid" else did
        rkey = uri.rstrip("/").rsplit("/", 1)[-1]
        reply = as_dict(record.get("reply"))
        parent, root = as_dict(reply.get("parent")), as_dict(reply.get("root"))
        langs = record.get("langs")
        return self.mention(
            external_id=uri,
            text=" ".join(text.split()),
            fetched_at=now,
            url=f"https://bsky.app/profile/{profile}/post/{rkey}" if profile else None,
            author=handle or did,
            author_id=did,
            author_name=as_text(author.get("displayName")),
            published_at=created or indexed,
            reach=counts(likes=post.get("likeCount"), reposts=post.get("repostCount"),
                         replies=post.get("replyCount"), quotes=post.get("quoteCount")),
            thread_id=root.get("uri") if isinstance(root.get("uri"), str) else None,
            parent_id=parent.get("uri") if isinstance(parent.get("uri"), str) else None,
            lang_hint=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
            reply_ref=_reply_ref(post.get("cid"), root),
        ), sort_at


def _reply_ref(cid: Any, root: dict[str, Any]) -> dict[str, str]:
    """The strong refs a reply to this post needs (listener/replies/platforms/bluesky.py): the post's own cid and,
    when it is itself a reply, its thread's root."""
    ref = {"cid": cid} if isinstance(cid, str) and cid else {}
    if isinstance(root.get("uri"), str) and isinstance(root.get("cid"), str):
        ref.update(root_uri=root["uri"], root_cid=root["cid"])
    return ref
