"""Hacker News stories and comments that mention the brands, through the Algolia HN Search API.

One `search_by_date` query per brand term (newest first), restricted to `created_at_i > cursor`. Algolia
returns at most 1,000 hits per query, so a poll walks backwards in time slices: each request asks for hits
up to the oldest creation time of the previous page (`created_at_i<=…`), until a short page says the slice
is exhausted or the per-poll request budget is spent.

Cursor: `{"created_at_i": <unix seconds of the newest hit seen>}`. Each poll re-reads a short `overlap`
before it, because Algolia indexes some items a little late; the store drops the repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, HttpUrl

from listener.domain import Batch, Mention
from listener.durations import Duration
from listener.sources.kit import (
    BadPayload,
    Source,
    SourceSettings,
    counts,
    html_to_text,
    iso_time,
    register,
    search_terms,
    unix_time,
)

log = logging.getLogger(__name__)

ITEM_URL = "https://news.ycombinator.com/item?id="


class HackerNewsSettings(SourceSettings):
    kind: str = Field(default="hackernews",
                      description="\"hackernews\": Hacker News stories and comments with the brand terms, via "
                                  "Algolia's search API.")
    base_url: HttpUrl = Field(default=HttpUrl("https://hn.algolia.com/api/v1"),
                              description="Where requests go (mirrors, proxies, tests).")
    tags: list[Literal["story", "comment"]] = Field(default=["story", "comment"], min_length=1,
                                                    description="Item types to search.")
    first_window: Duration = Field(default=timedelta(hours=24), description="How far back the first poll looks.")
    overlap: Duration = Field(default=timedelta(minutes=5),
                              description="Re-read this much before the cursor: Algolia indexes some items late.")
    hits_per_page: int = Field(default=100, ge=1, le=1000, description="Items per search request.")
    max_requests: int = Field(default=30, ge=1, le=500, description="Request budget per poll, over all terms.")


@register
class HackerNewsSource(Source):
    kind = "hackernews"
    settings_model = HackerNewsSettings
    settings: HackerNewsSettings

    def poll(self, cursor: dict[str, Any]) -> Batch:
        now = self.context.clock.now()
        previous = cursor.get("created_at_i")
        if isinstance(previous, int) and not isinstance(previous, bool):
            lower = previous - int(self.settings.overlap.total_seconds())
        else:
            previous = None
            lower = int((now - self.settings.first_window).timestamp())
        newest = previous if previous is not None else lower

        terms = search_terms(self.context.brands)
        if not terms:
            log.warning("event=no_search_terms source=%s", self.name)
        budget = [self.settings.max_requests]
        items: dict[str, Mention] = {}
        for term in terms:
            for hit in self._walk(term, lower, budget):
                mention = self._mention(hit, now)
                if mention is not None and mention.external_id not in items:
                    items[mention.external_id] = mention
                    created = hit.get("created_at_i")
                    if isinstance(created, int) and created > newest:
                        newest = created
        return Batch(items=list(items.values()), next_cursor={"created_at_i": newest})

    def _walk(self, term: str, lower: int, budget: list[int]) -> Iterable[dict[str, Any]]:
        """All hits for `term` newer than `lower`, newest first, one time slice per request."""
        url = str(self.settings.base_url).rstrip("/") + "/search_by_date"
        query = f'"{term}"' if " " in term else term
        tags = ",".join(self.settings.tags)
        upper: str | None = None
        while True:
            if budget[0] <= 0:
                log.warning("event=hackernews_truncated source=%s term=%r reason=request_budget", self.name, term)
                return
            budget[0] -= 1
            filters = f"created_at_i>{lower}" + (f",{upper}" if upper else "")
            data = self.context.http.get_json(url, params={
                "query": query,
                "tags": f"({tags})",
                "numericFilters": filters,
                "hitsPerPage": self.settings.hits_per_page,
                "advancedSyntax": "true",
            })
            hits = _hits(data)
            yield from hits
            if len(hits) < self.settings.hits_per_page:
                return
            times = [h["created_at_i"] for h in hits if isinstance(h.get("created_at_i"), int)]
            if not times:
                return
            oldest = min(times)
            if oldest <= lower:
                return
            # `<=` keeps hits that share the oldest second; when a whole page shares it, step past it.
            step = f"created_at_i<={oldest}"
            upper = step if step != upper else f"created_at_i<{oldest}"

    def _mention(self, hit: dict[str, Any], now: datetime) -> Mention | None:
        object_id = hit.get("objectID")
        if not isinstance(object_id, str | int) or not str(object_id).strip():
            log.warning("event=hackernews_hit_without_id source=%s", self.name)
            return None
        object_id = str(object_id)
        tags = hit.get("_tags")
        tags = tags if isinstance(tags, list) else []
        is_comment = "comment" in tags or hit.get("comment_text") is not None
        published = unix_time(hit.get("created_at_i")) or iso_time(hit.get("created_at"))
        author = hit.get("author") if isinstance(hit.get("author"), str) else None
        if is_comment:
            text = html_to_text(str(hit.get("comment_text") or ""))
            if not text:
                return None  # deleted or flagged comment
            story_id, parent_id = hit.get("story_id"), hit.get("parent_id")
            return self.mention(
                external_id=object_id, text=text,
                fetched_at=now, url=ITEM_URL + object_id, author=author, published_at=published,
                reach=counts(score=hit.get("points")),
                thread_id=str(story_id) if story_id is not None else None,
                parent_id=str(parent_id) if parent_id is not None else None,
                extra={k: v for k, v in {"type": "comment", "story_title": hit.get("story_title"),
                                         "story_url": hit.get("story_url")}.items() if v},
            )
        title = html_to_text(str(hit.get("title") or ""))
        text = html_to_text(str(hit.get("story_text") or "")) or title
        if not text:
            return None
        return self.mention(
            external_id=object_id, text=text, fetched_at=now,
            url=ITEM_URL + object_id, author=author, title=title or None, published_at=published,
            reach=counts(score=hit.get("points"), replies=hit.get("num_comments")),
            thread_id=object_id,
            extra={k: v for k, v in {"type": "story", "link": hit.get("url")}.items() if v},
        )


def _hits(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise BadPayload("Algolia HN answer has no 'hits' list")
    return [h for h in data["hits"] if isinstance(h, dict)]
