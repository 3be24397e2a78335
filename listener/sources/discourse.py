"""Posts of any Discourse forum: the latest posts (`/posts.json`) and a search for the brand terms
(`/search.json`, `order:latest`).

The latest-posts feed sees everything new on the forum (the matcher keeps what mentions a brand); the
search also finds mentions in posts the feed has scrolled past on a busy forum. Search hits only carry a
short blurb, so their full text is fetched per topic (`/t/{id}/posts.json?post_ids[]=…`), falling back to
the blurb when that is refused.

Cursor: `{"last_post_id": <highest post id seen>}` — Discourse post ids grow over the whole forum. The
first poll reads one page of latest posts and the search hits of the last `first_window`.
Private forums: an API key (`api_key_secret`) and the user it acts as (`api_username`), sent as the
`Api-Key` / `Api-Username` headers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field, HttpUrl, model_validator

from listener.domain import Batch, Mention
from listener.durations import Duration
from listener.sources.kit import (
    BadPayload,
    ClientError,
    Source,
    SourceSettings,
    counts,
    html_to_text,
    iso_time,
    register,
    search_terms,
    source_secret,
)

log = logging.getLogger(__name__)

SMALL_ACTION, WHISPER = 3, 4  # post types: "closed this topic" … (no words of a person); staff-only notes


class DiscourseSettings(SourceSettings):
    kind: str = Field(default="discourse",
                      description="\"discourse\": a Discourse forum's latest posts and a search for the brand terms.")
    base_url: HttpUrl = Field(description="The forum, e.g. \"https://community.example.com\".")
    latest: bool = Field(default=True, description="Read /posts.json (every new public post of the forum).")
    search: bool = Field(default=True, description="Search the forum for the brand terms.")
    api_key_secret: str | None = Field(default=None,
                                       description="Name of the secret holding an API key, for private forums.")
    api_username: str | None = Field(default=None, description="The user the API key acts as (required with a key).")
    max_pages: int = Field(default=5, ge=1, le=100, description="Pages of 50 latest posts per poll.")
    max_topics: int = Field(default=20, ge=0, le=200,
                            description="Topics whose full posts are fetched for search hits, per poll.")
    first_window: Duration = Field(default=timedelta(hours=24), description="How far back the first search looks.")

    @model_validator(mode="after")
    def _key_needs_username(self) -> DiscourseSettings:
        if self.api_key_secret and not self.api_username:
            raise ValueError("api_username is required with api_key_secret (the user the key acts as)")
        if not (self.latest or self.search):
            raise ValueError("at least one of latest and search must be true")
        return self


@register
class DiscourseSource(Source):
    kind = "discourse"
    settings_model = DiscourseSettings
    settings: DiscourseSettings

    @property
    def base(self) -> str:
        return str(self.settings.base_url).rstrip("/")

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.settings.api_key_secret:
            headers["Api-Key"] = source_secret(self.settings.api_key_secret)
            headers["Api-Username"] = self.settings.api_username or ""
        return headers

    def poll(self, cursor: dict[str, Any]) -> Batch:
        now = self.context.clock.now()
        last = cursor.get("last_post_id")
        last = last if isinstance(last, int) and not isinstance(last, bool) else None
        headers = self._headers()
        posts: dict[int, Mention] = {}
        newest = last or 0
        if self.settings.latest:
            for post in self._latest_posts(last, headers):
                mention = self._mention(post, now)
                if mention is not None:
                    posts.setdefault(post["id"], mention)
                newest = max(newest, post["id"])
        if self.settings.search:
            for post in self._search_hits(last, now, headers, known=set(posts)):
                mention = self._mention(post, now)
                if mention is not None:
                    posts.setdefault(post["id"], mention)
                newest = max(newest, post["id"])
        next_cursor = {"last_post_id": newest} if newest else {}
        return Batch(items=list(posts.values()), next_cursor=next_cursor)

    # ------------------------------------------------------------------------- latest posts
    def _latest_posts(self, last: int | None, headers: dict[str, str]) -> list[dict[str, Any]]:
        """Posts newer than `last`, newest first, paging back with `before` (the first poll: one page)."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        for _ in range(self.settings.max_pages):
            data = self.context.http.get_json(self.base + "/posts.json", params=params, headers=headers)
            if not isinstance(data, dict) or not isinstance(data.get("latest_posts"), list):
                raise BadPayload("Discourse /posts.json answer has no 'latest_posts' list")
            page = [p for p in data["latest_posts"] if _has_id(p)]
            found += [p for p in page if last is None or p["id"] > last]
            if last is None or not page:
                return found
            oldest = min(p["id"] for p in page)
            if oldest <= last + 1:
                return found
            params = {"before": oldest - 1}
        log.warning("event=discourse_truncated source=%s reason=max_pages pages=%d", self.name,
                    self.settings.max_pages)
        return found

    # ------------------------------------------------------------------------- search
    def _search_hits(self, last: int | None, now: datetime, headers: dict[str, str],
                     known: set[int]) -> list[dict[str, Any]]:
        """Search hits newer than `last` that the latest feed did not bring, with their full posts."""
        hits: dict[int, dict[str, Any]] = {}
        topics: dict[int, dict[str, Any]] = {}
        after = "" if last is not None else f" after:{(now - self.settings.first_window).date().isoformat()}"
        for term in search_terms(self.context.brands):
            query = (f'"{term}"' if " " in term else term) + " order:latest" + after
            data = self.context.http.get_json(self.base + "/search.json", params={"q": query}, headers=headers)
            if not isinstance(data, dict):
                raise BadPayload("Discourse /search.json answer is not an object")
            grouped = data.get("grouped_search_result")
            if isinstance(grouped, dict) and grouped.get("error"):
                log.warning("event=discourse_search_refused source=%s term=%r error=%r", self.name, term,
                            grouped["error"])
            found, topic_list = data.get("posts") or [], data.get("topics") or []
            if not isinstance(found, list) or not isinstance(topic_list, list):
                raise BadPayload("Discourse /search.json answer has no 'posts'/'topics' lists")
            topics.update({t["id"]: t for t in topic_list if _has_id(t)})
            for post in found:
                if _has_id(post) and post["id"] not in known and (last is None or post["id"] > last):
                    hits.setdefault(post["id"], post)
        if not hits:
            return []

        by_topic: dict[int, list[int]] = defaultdict(list)
        for post in hits.values():
            if isinstance(post.get("topic_id"), int):
                by_topic[post["topic_id"]].append(post["id"])
        full: dict[int, dict[str, Any]] = {}
        for topic_id, ids in list(by_topic.items())[: self.settings.max_topics]:
            full.update(self._topic_posts(topic_id, ids, headers))

        posts = []
        for post_id, hit in hits.items():
            post = dict(full.get(post_id) or hit)
            topic = topics.get(post.get("topic_id"))  # type: ignore[arg-type]
            if topic:
                post.setdefault("topic_title", topic.get("title"))
                post.setdefault("topic_slug", topic.get("slug"))
                post.setdefault("category_id", topic.get("category_id"))
            posts.append(post)
        return posts

    def _topic_posts(self, topic_id: int, ids: list[int], headers: dict[str, str]) -> dict[int, dict[str, Any]]:
        params = [("post_ids[]", str(i)) for i in ids]
        try:
            data = self.context.http.get_json(f"{self.base}/t/{topic_id}/posts.json", params=params,
                                              headers=headers)
        except ClientError as exc:  # deleted, moved to a private category …: keep the blurb
            log.info("event=discourse_topic_posts_refused source=%s topic=%s status=%s", self.name, topic_id,
                     exc.status)
            return {}
        stream = data.get("post_stream") if isinstance(data, dict) else None
        posts = stream.get("posts") if isinstance(stream, dict) else None
        if not isinstance(posts, list):
            raise BadPayload(f"Discourse /t/{topic_id}/posts.json answer has no post_stream.posts list")
        return {p["id"]: p for p in posts if _has_id(p)}

    # ------------------------------------------------------------------------- mapping
    def _mention(self, post: dict[str, Any], now: datetime) -> Mention | None:
        if post.get("deleted_at") or post.get("post_type") in (SMALL_ACTION, WHISPER):
            return None
        raw = post.get("raw")
        raw = raw if isinstance(raw, str) else ""  # a string, or a parsed tree on some endpoints
        text = html_to_text(str(post.get("cooked") or "")) or " ".join(raw.split())
        if not text:
            text = html_to_text(str(post.get("blurb") or ""))
        if not text:
            return None
        post_id, topic_id, number = str(post["id"]), post.get("topic_id"), post.get("post_number")
        slug = post.get("topic_slug")
        if isinstance(topic_id, int) and isinstance(number, int):
            url = f"{self.base}/t/{slug}/{topic_id}/{number}" if slug else f"{self.base}/t/{topic_id}/{number}"
        else:
            url = f"{self.base}/p/{post_id}"
        topic_title = post.get("topic_title") or post.get("topic_title_headline")
        topic_title = html_to_text(str(topic_title)) if topic_title else None
        likes = post.get("like_count")
        if likes is None:
            likes = next((a.get("count") for a in post.get("actions_summary") or []
                          if isinstance(a, dict) and a.get("id") == 2), None)
        extra = {
            "topic_title": topic_title,
            "post_number": number,
            "reply_to_post_number": post.get("reply_to_post_number"),
            "category_id": post.get("category_id"),
            "excerpt_only": True if "cooked" not in post and "raw" not in post else None,
        }
        return self.mention(
            external_id=post_id, text=text, fetched_at=now,
            url=url, author=post.get("username") if isinstance(post.get("username"), str) else None,
            title=topic_title if number == 1 else None,  # replies are not about their topic's title
            published_at=iso_time(post.get("created_at")),
            reach=counts(likes=likes, replies=post.get("reply_count"), reads=post.get("reads")),
            thread_id=str(topic_id) if topic_id is not None else None,
            extra={k: v for k, v in extra.items() if v is not None},
            # the post a reply answers (reply_to_post_number, listener/replies/platforms/discourse.py)
            reply_ref={"post_number": str(number)} if isinstance(number, int) else {},
        )


def _has_id(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), int) and not isinstance(value["id"], bool)
