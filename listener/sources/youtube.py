"""YouTube comments through the Data API v3 `commentThreads.list`, quota-aware.

Targets: a channel (`allThreadsRelatedToChannelId`: comments on all of its videos) and/or single videos
(`videoId`). Each request asks for the 100 newest threads (`order=time`); a poll pages back until it reaches
the newest comment it saw last time, at most `max_pages` pages per target. The first poll of a target reads
one page. Every request costs 1 quota unit: the units spent today (the quota day is the Pacific-time day, as
Google's) are counted in the cursor and the source stops at `daily_quota`; a `quotaExceeded` answer ends the
poll as RateLimited until midnight Pacific.

Cursor: `{"newest": {"channel:<id>" | "video:<id>": ISO time of the newest comment seen},
"quota": {"day": "YYYY-MM-DD" (Pacific), "used": units}}`.

The API key is sent in the `X-Goog-Api-Key` header, so it never appears in a URL (or a log line quoting one).
Only top-level comments are read (`part=snippet`); replies would cost one `comments.list` unit per thread.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, HttpUrl, field_validator, model_validator

from listener.domain import Batch, Mention
from listener.sources.kit import (
    BadPayload,
    ClientError,
    RateLimited,
    Source,
    SourceSettings,
    Targets,
    as_dict,
    as_text,
    counts,
    html_to_text,
    iso_time,
    parse_json,
    register,
    source_secret,
)

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")  # YouTube quotas reset at midnight Pacific time
UNITS_PER_REQUEST = 1  # commentThreads.list
PAGE_SIZE = 100  # the API's maximum for commentThreads.list
SKIPPABLE_REASONS = {"commentsDisabled", "videoNotFound", "channelNotFound"}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded"}


class YouTubeSettings(SourceSettings):
    kind: str = Field(default="youtube",
                      description="\"youtube\": top-level comments through the YouTube Data API v3 (commentThreads), "
                                  "within a daily quota.")
    channel_id: str | None = Field(default=None, description="Comments on every video of this channel (\"UC…\") …")
    video_ids: list[str] = Field(default_factory=list,
                                 description="… and/or on these videos (at least one of the two).")
    api_key_secret: str = Field(default="youtube-api-key",
                                description="Name of the secret holding the API key ($LISTENER_YOUTUBE_API_KEY).")
    daily_quota: int = Field(default=10_000, ge=1,
                             description="Quota units this source may spend per Pacific day (1 per request).")
    max_pages: int = Field(default=5, ge=1, le=100, description="Pages of 100 comment threads per target and poll.")
    base_url: HttpUrl = Field(default=HttpUrl("https://www.googleapis.com/youtube/v3"),
                              description="Where requests go (mirrors, proxies, tests).")

    @field_validator("video_ids")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        if any(not i.strip() for i in ids):
            raise ValueError("video ids must not be blank")
        return list(dict.fromkeys(i.strip() for i in ids))

    @model_validator(mode="after")
    def _has_target(self) -> YouTubeSettings:
        if not self.channel_id and not self.video_ids:
            raise ValueError("set channel_id or video_ids (or both)")
        return self


def quota_day(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


def seconds_to_pacific_midnight(now: datetime) -> float:
    midnight = datetime.combine(quota_day(now) + timedelta(days=1), time(0), tzinfo=PACIFIC)
    return max(1.0, (midnight - now).total_seconds())


@dataclass
class Quota:
    """The units this source may still spend today (a request costs them whatever the answer)."""

    limit: int
    used: int

    def left(self) -> bool:
        return self.used + UNITS_PER_REQUEST <= self.limit

    def spend(self) -> None:
        self.used += UNITS_PER_REQUEST


def error_reasons(exc: ClientError) -> set[str]:
    """The `error.errors[].reason` values of a Google API error body (ClientError keeps the 4xx body)."""
    if not exc.body:
        return set()
    try:
        data = json.loads(exc.body)
        return {str(e.get("reason")) for e in data["error"]["errors"] if isinstance(e, dict)}
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()


@register
class YouTubeSource(Source):
    kind = "youtube"
    settings_model = YouTubeSettings
    settings: YouTubeSettings

    def targets(self) -> list[tuple[str, dict[str, str]]]:
        found = []
        if self.settings.channel_id:
            found.append((f"channel:{self.settings.channel_id}",
                          {"allThreadsRelatedToChannelId": self.settings.channel_id}))
        found.extend((f"video:{v}", {"videoId": v}) for v in self.settings.video_ids)
        return found

    def poll(self, cursor: dict[str, Any]) -> Batch:
        now = self.context.clock.now()
        day = quota_day(now).isoformat()
        spent = cursor.get("quota") or {}
        quota = Quota(self.settings.daily_quota, int(spent.get("used", 0)) if spent.get("day") == day else 0)
        if not quota.left():
            raise RateLimited(f"daily quota of {self.settings.daily_quota} units used up for {day} (Pacific)",
                              retry_after=seconds_to_pacific_midnight(now))
        headers = {"X-Goog-Api-Key": source_secret(self.settings.api_key_secret), "Accept": "application/json"}
        targets = self.targets()
        newest: dict[str, str] = {k: v for k, v in (cursor.get("newest") or {}).items()
                                  if isinstance(v, str) and k in dict(targets)}
        items: list[Mention] = []
        seen: set[str] = set()
        failures = Targets(self.name)  # a failing channel or video is listed in the health; the others go on
        for target, selector in targets:
            with failures.target(target):
                found, target_newest = self._poll_target(target, selector, iso_time(newest.get(target)), quota,
                                                         headers, now)
                for mention in found:
                    if mention.external_id not in seen:
                        seen.add(mention.external_id)
                        items.append(mention)
                if target_newest is not None:
                    newest[target] = target_newest.isoformat()
            if not quota.left():
                log.warning("event=youtube_quota_used_up source=%s day=%s used=%d", self.name, day, quota.used)
                break  # the remaining targets wait for the next quota day
        return Batch(items=items, next_cursor={"newest": newest, "quota": {"day": day, "used": quota.used}},
                     failed_targets=failures.failed())

    def _poll_target(self, target: str, selector: dict[str, str], mark: datetime | None, quota: Quota,
                     headers: dict[str, str], now: datetime) -> tuple[list[Mention], datetime | None]:
        """The comments of one channel or video newer than `mark` (paging back until it), and the newest time."""
        url = str(self.settings.base_url).rstrip("/") + "/commentThreads"
        found: list[Mention] = []
        target_newest = mark
        page_token: str | None = None
        pages = self.settings.max_pages if mark else 1
        for page in range(pages):
            if not quota.left():
                break
            params: dict[str, Any] = {"part": "snippet", "order": "time", "maxResults": PAGE_SIZE, **selector}
            if page_token:
                params["pageToken"] = page_token
            quota.spend()  # a request costs its units whatever the answer
            data = self._fetch(url, params, headers, now, skippable=page == 0)
            if data is None:
                break  # comments disabled or video gone: the other targets go on
            threads = data.get("items")
            if not isinstance(threads, list):
                raise BadPayload(f"commentThreads answer without an items list: {str(data)[:200]}")
            reached_mark = False
            for thread in threads:
                mention = self._mention(thread, now)
                if mark and mention.published_at and mention.published_at <= mark:
                    reached_mark = True  # the newest comment seen last time: no need for older pages
                    if mention.published_at < mark:
                        continue  # (one at the very second is kept: publishedAt has 1 s resolution)
                if mention.published_at and (target_newest is None or mention.published_at > target_newest):
                    target_newest = mention.published_at
                found.append(mention)
            token = data.get("nextPageToken")
            page_token = token if isinstance(token, str) and token else None
            if reached_mark or page_token is None:
                break
            if mark and page == pages - 1:
                log.warning("event=youtube_gap source=%s target=%s pages=%d: more new comments than max_pages "
                            "reads; older ones of this stretch are skipped", self.name, target, pages)
        return found, target_newest

    def _fetch(self, url: str, params: dict[str, Any], headers: dict[str, str], now: datetime,
               skippable: bool) -> dict[str, Any] | None:
        try:
            response = self.context.http.get(url, params=params, headers=headers)
        except ClientError as exc:
            reasons = error_reasons(exc)
            if exc.status in (403, 429) and reasons & QUOTA_REASONS:
                raise RateLimited(f"YouTube quota exhausted ({', '.join(sorted(reasons))}); "
                                  "resets at midnight Pacific", retry_after=seconds_to_pacific_midnight(now)) from exc
            if skippable and exc.status in (403, 404) and reasons & SKIPPABLE_REASONS:
                target = params.get("videoId") or params.get("allThreadsRelatedToChannelId")
                log.warning("event=youtube_target_skipped source=%s target=%s reasons=%s",
                            self.name, target, ",".join(sorted(reasons)))
                return None
            if reasons:
                raise ClientError(f"{exc} ({', '.join(sorted(reasons))})", status=exc.status) from exc
            raise
        data = parse_json(response)
        if not isinstance(data, dict):
            raise BadPayload(f"expected a JSON object from commentThreads, got {type(data).__name__}")
        return data

    def _mention(self, thread: Any, now: datetime) -> Mention:
        try:
            top = thread["snippet"]["topLevelComment"]
            comment_id = top["id"]
            snippet = top["snippet"]
            video_id = snippet.get("videoId") or thread["snippet"].get("videoId")
        except (KeyError, TypeError) as exc:
            raise BadPayload(f"comment thread without topLevelComment id/snippet: {str(thread)[:200]}") from exc
        if not isinstance(comment_id, str) or not isinstance(snippet, dict):
            raise BadPayload(f"comment thread with a malformed top-level comment: {str(thread)[:200]}")
        display = snippet.get("textDisplay")
        original = snippet.get("textOriginal")
        text = html_to_text(display) if isinstance(display, str) and display else (
            " ".join(original.split()) if isinstance(original, str) else "")
        url = None
        if isinstance(video_id, str) and video_id:
            url = f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}"
        return self.mention(
            external_id=comment_id,
            text=text,
            fetched_at=now,
            url=url,
            author=snippet.get("authorDisplayName") if isinstance(snippet.get("authorDisplayName"), str) else None,
            author_id=as_text(as_dict(snippet.get("authorChannelId")).get("value")),
            author_url=as_text(snippet.get("authorChannelUrl")),
            published_at=iso_time(snippet.get("publishedAt")),
            reach=counts(likes=snippet.get("likeCount"), replies=thread["snippet"].get("totalReplyCount")),
            thread_id=video_id if isinstance(video_id, str) else None,
            extra={"channel_id": snippet.get("channelId")} if snippet.get("channelId") else {},
        )
