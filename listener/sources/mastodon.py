"""Mastodon hashtag timelines: `GET /api/v1/timelines/tag/{hashtag}` on one instance, incrementally.

Cursor: `{"min_id": {hashtag: newest status id seen}}`, plus `rate_limited_until` (ISO time) when a response
said the instance's rate limit was used up. With a `min_id`, Mastodon answers with the statuses immediately
newer than it, so paging forward with the newest id of each page walks the gap oldest-first and a poll cut short
(page limit, rate limit) loses nothing: the next poll continues where this one stopped. The first poll (no id
for a hashtag yet) takes only the newest page. Status HTML is turned into plain text; reach is what the
instance says (replies, reblogs, favourites, the author's followers).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field, HttpUrl, field_validator

from listener.domain import Batch, Mention
from listener.sources.kit import (
    BadPayload,
    RateLimited,
    Source,
    SourceSettings,
    Targets,
    as_text,
    counts,
    html_to_text,
    iso_time,
    parse_json,
    register,
    source_secret,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 40  # Mastodon's maximum for timelines
DEFAULT_RATE_WINDOW = timedelta(minutes=5)  # Mastodon's API limit: 300 requests per 5 minutes


class MastodonSettings(SourceSettings):
    kind: str = Field(default="mastodon", description="\"mastodon\": hashtag timelines of one Mastodon instance.")
    instance: HttpUrl = Field(
        description="The instance to read, e.g. https://mastodon.social; status ids belong to it.")
    hashtags: list[str] = Field(min_length=1, description="Hashtags to follow, with or without the leading \"#\".")
    token_secret: str | None = Field(default=None,
                                     description="Name of the secret holding an access token (read:statuses), for "
                                                 "instances that require login.")
    base_url: HttpUrl | None = Field(default=None,
                                     description="Send requests here instead of `instance` (mirror, proxy, tests).")
    max_pages: int = Field(default=5, ge=1, le=100,
                           description="Pages of 40 per hashtag and poll; a bigger backlog continues next poll.")

    @field_validator("hashtags")
    @classmethod
    def _clean_hashtags(cls, tags: list[str]) -> list[str]:
        cleaned: list[str] = []
        for tag in tags:
            name = tag.strip().lstrip("#")
            if not name or any(c.isspace() or c in "#/?&" for c in name):
                raise ValueError(f"not a hashtag: {tag!r}")
            if name.casefold() not in {c.casefold() for c in cleaned}:
                cleaned.append(name)
        return cleaned


def id_key(status_id: str) -> tuple[int, str]:
    """Order of status ids: numeric snowflakes (Mastodon) and fixed-width flake ids (Pleroma) alike."""
    return (len(status_id), status_id)


def newest_id(ids: list[str]) -> str | None:
    return max(ids, key=id_key) if ids else None


@register
class MastodonSource(Source):
    kind = "mastodon"
    settings_model = MastodonSettings
    settings: MastodonSettings

    @property
    def api_root(self) -> str:
        return str(self.settings.base_url or self.settings.instance).rstrip("/")

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.settings.token_secret:
            headers["Authorization"] = f"Bearer {source_secret(self.settings.token_secret)}"
        return headers

    def poll(self, cursor: dict[str, Any]) -> Batch:
        now = self.context.clock.now()
        held = iso_time(cursor.get("rate_limited_until"))
        if held is not None and held > now:
            raise RateLimited(f"rate limit of {self.api_root} used up until {held.isoformat()}",
                              retry_after=(held - now).total_seconds())
        min_ids: dict[str, str] = {k: v for k, v in (cursor.get("min_id") or {}).items()
                                   if isinstance(v, str) and k in self.settings.hashtags}
        headers = self._headers()
        items: list[Mention] = []
        seen: set[str] = set()
        exhausted_until: datetime | None = None

        targets = Targets(self.name)
        for tag in self.settings.hashtags:
            if exhausted_until is not None:
                break  # the remaining hashtags keep their ids and are read next time
            with targets.target(f"#{tag}"):
                exhausted_until = self._poll_hashtag(tag, min_ids, headers, now, items, seen)

        next_cursor: dict[str, Any] = {"min_id": min_ids}
        if exhausted_until is not None:
            next_cursor["rate_limited_until"] = exhausted_until.isoformat()
            log.warning("event=mastodon_rate_limit_used_up source=%s until=%s", self.name,
                        exhausted_until.isoformat())
        return Batch(items=items, next_cursor=next_cursor, failed_targets=targets.failed())

    def _poll_hashtag(self, tag: str, min_ids: dict[str, str], headers: dict[str, str], now: datetime,
                      items: list[Mention], seen: set[str]) -> datetime | None:
        """Read one hashtag forwards from its min_id (advanced page by page, with the items of each page);
        returns when the rate limit is used up, if it is."""
        exhausted_until: datetime | None = None
        url = f"{self.api_root}/api/v1/timelines/tag/{quote(tag, safe='')}"
        since = min_ids.get(tag)
        first_poll = since is None
        for _ in range(self.settings.max_pages):
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if since:
                params["min_id"] = since
            response = self.context.http.get(url, params=params, headers=headers)
            statuses = parse_json(response)
            if not isinstance(statuses, list):
                raise BadPayload(f"expected a list of statuses from {url}, got {type(statuses).__name__}")
            ids = []
            for status in statuses:
                ids.append(self._status_id(status))
                mention = self._mention(status, tag, now)
                if mention is not None and mention.external_id not in seen:
                    seen.add(mention.external_id)
                    items.append(mention)
            exhausted_until = self._exhausted_until(response, now)
            page_newest = newest_id(ids)
            if page_newest is not None and (since is None or id_key(page_newest) > id_key(since)):
                since = min_ids[tag] = page_newest
            if first_poll or exhausted_until is not None or len(statuses) < PAGE_SIZE:
                break  # a first poll starts from the newest page; a short page means caught up
        else:
            log.info("event=mastodon_backlog source=%s hashtag=%s pages=%d (continuing next poll)",
                     self.name, tag, self.settings.max_pages)
        return exhausted_until

    # ------------------------------------------------------------------------- helpers
    @staticmethod
    def _status_id(status: Any) -> str:
        if not isinstance(status, dict) or not isinstance(status.get("id"), str) or not status["id"]:
            raise BadPayload(f"status without an id: {str(status)[:200]}")
        return str(status["id"])

    def _exhausted_until(self, response: httpx.Response, now: datetime) -> datetime | None:
        """When X-RateLimit-Remaining says nothing is left: the time X-RateLimit-Reset names."""
        remaining = (response.headers.get("X-RateLimit-Remaining") or "").strip()
        if not remaining.lstrip("-").isdigit() or int(remaining) > 0:
            return None
        reset = iso_time(response.headers.get("X-RateLimit-Reset"))
        return reset if reset is not None and reset > now else now + DEFAULT_RATE_WINDOW

    def _mention(self, status: Any, tag: str, now: datetime) -> Mention | None:
        status_id = self._status_id(status)
        original = status.get("reblog") if isinstance(status.get("reblog"), dict) else status
        account = original.get("account")
        if not isinstance(account, dict):
            raise BadPayload(f"status {status_id} has no account")
        content = original.get("content")
        if content is not None and not isinstance(content, str):
            raise BadPayload(f"status {status_id} has content of type {type(content).__name__}")
        text = html_to_text(content or "")
        spoiler = original.get("spoiler_text")
        title = html_to_text(spoiler) if isinstance(spoiler, str) and spoiler.strip() else None
        if not text and not title:
            return None  # media only: nothing to read
        parent = original.get("in_reply_to_id")
        language = original.get("language")
        return self.mention(
            external_id=str(original.get("id") or status_id),
            text=text or (title or ""),
            fetched_at=now,
            url=original.get("url") or original.get("uri"),
            author=account.get("acct") or account.get("username"),
            author_url=as_text(account.get("url")),
            author_name=as_text(account.get("display_name")),
            title=title,
            published_at=iso_time(original.get("created_at")),
            reach=counts(replies=original.get("replies_count"), reposts=original.get("reblogs_count"),
                         likes=original.get("favourites_count"), followers=account.get("followers_count")),
            parent_id=str(parent) if parent else None,
            lang_hint=language if isinstance(language, str) else None,
            extra={"hashtag": tag},
            # whom a reply must @mention to reach (listener/replies/platforms/mastodon.py)
            reply_ref={"acct": str(account["acct"])} if isinstance(account.get("acct"), str) else {},
        )
