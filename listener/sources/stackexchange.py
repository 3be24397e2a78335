"""Questions on a Stack Exchange site (Stack Overflow, Super User, …) that mention the brands.

`/2.3/search/advanced` with `q=<term>`, `fromdate`, `sort=creation`, `filter=withbody`, one query per brand
term, paging while `has_more`. Answers come gzip-compressed (httpx decodes them).

Politeness: the API's `backoff` field ("do not call this method again for N seconds") ends the poll at once;
the cursor remembers until when, and a poll before that raises `RateLimited` without asking. An empty
`quota_remaining` does the same until the quota resets (midnight UTC). Without a key the quota is 300
requests a day per IP; with `key_secret` it is 10,000.

Cursor: `{"fromdate": <newest creation_date seen>, "not_before": <unix seconds, when throttled>,
"quota_remaining": <last reported>}`. When a poll is cut short, `fromdate` stays where it was, so the next
poll fetches what was missed (the store drops the repeats).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field, HttpUrl

from listener.domain import Batch, Mention
from listener.durations import Duration
from listener.sources.kit import (
    BadPayload,
    ClientError,
    RateLimited,
    Source,
    SourceSettings,
    as_int,
    as_text,
    counts,
    html_to_text,
    register,
    search_terms,
    source_secret,
    unix_time,
)

log = logging.getLogger(__name__)

THROTTLE_ERRORS = {502: "throttle_violation"}  # error_id → name; the API answers these with HTTP 400
_MORE_IN = re.compile(r"available in (\d+) seconds")


class StackExchangeSettings(SourceSettings):
    kind: str = Field(default="stackexchange",
                      description="\"stackexchange\": questions and answers of one Stack Exchange site that mention "
                                  "the brand terms.")
    site: str = Field(default="stackoverflow", min_length=1, pattern=r"^[a-z0-9.-]+$",
                      description="The site's API name (api_site_parameter): stackoverflow, superuser, askubuntu, "
                                  "de.stackoverflow …")
    base_url: HttpUrl = Field(default=HttpUrl("https://api.stackexchange.com/2.3"),
                              description="Where requests go (mirrors, proxies, tests).")
    key_secret: str | None = Field(default=None,
                                   description="Name of the secret holding a stackapps.com app key (raises the quota "
                                               "to 10,000 requests a day).")
    first_window: Duration = Field(default=timedelta(hours=24), description="How far back the first poll looks.")
    page_size: int = Field(default=100, ge=1, le=100, description="Items per request (at most 100).")
    max_pages: int = Field(default=3, ge=1, le=25, description="Pages per term and poll.")
    min_quota: int = Field(default=10, ge=0, description="Stop for the day when the remaining quota falls to this.")


class _Stop(Exception):
    """The platform asked us to stop until `until` (unix seconds); carries what the term found so far."""

    def __init__(self, found: list[dict[str, Any]], has_more: bool, until: int, reason: str):
        super().__init__(reason)
        self.found, self.has_more, self.until, self.reason = found, has_more, until, reason


@register
class StackExchangeSource(Source):
    kind = "stackexchange"
    settings_model = StackExchangeSettings
    settings: StackExchangeSettings

    def poll(self, cursor: dict[str, Any]) -> Batch:
        now = self.context.clock.now()
        now_ts = int(now.timestamp())
        not_before = as_int(cursor.get("not_before"))
        if not_before and not_before > now_ts:
            raise RateLimited(f"Stack Exchange asked us to wait until {unix_time(not_before):%H:%M:%S} UTC",
                              retry_after=float(not_before - now_ts))
        previous = as_int(cursor.get("fromdate"))
        fromdate = previous if previous is not None else int((now - self.settings.first_window).timestamp())
        key = self._key()

        items: dict[str, Mention] = {}
        newest = fromdate
        state: dict[str, Any] = {"quota_remaining": cursor.get("quota_remaining")}
        next_cursor: dict[str, Any] = {}
        terms = search_terms(self.context.brands)
        for index, term in enumerate(terms):
            stop: _Stop | None = None
            try:
                questions = self._search(term, fromdate, key, state, now_ts)
            except _Stop as caught:
                stop, questions = caught, caught.found
            for question in questions:
                mention = self._mention(question, now)
                items.setdefault(mention.external_id, mention)
                newest = max(newest, as_int(question.get("creation_date")) or 0)
            if stop is not None:
                cut_short = stop.has_more or index < len(terms) - 1
                log.warning("event=stackexchange_throttled source=%s reason=%s until=%d cut_short=%s",
                            self.name, stop.reason, stop.until, cut_short)
                next_cursor["not_before"] = stop.until
                if cut_short:
                    newest = fromdate  # fetch the rest next time; the store drops the repeats
                break
        next_cursor["fromdate"] = newest
        if state.get("quota_remaining") is not None:
            next_cursor["quota_remaining"] = state["quota_remaining"]
        return Batch(items=list(items.values()), next_cursor=next_cursor)

    def _key(self) -> str | None:
        return source_secret(self.settings.key_secret) if self.settings.key_secret else None

    def _search(self, term: str, fromdate: int, key: str | None, state: dict[str, Any],
                now_ts: int) -> list[dict[str, Any]]:
        url = str(self.settings.base_url).rstrip("/") + "/search/advanced"
        found: list[dict[str, Any]] = []
        for page in range(1, self.settings.max_pages + 1):
            params: dict[str, Any] = {
                "site": self.settings.site, "q": term, "fromdate": fromdate, "sort": "creation",
                "order": "desc", "filter": "withbody", "pagesize": self.settings.page_size, "page": page,
            }
            if key:
                params["key"] = key
            data = self._get(url, params)
            found += _questions(data)
            has_more = bool(data.get("has_more"))
            quota = as_int(data.get("quota_remaining"))
            if quota is not None:
                state["quota_remaining"] = quota
            backoff = as_int(data.get("backoff"))
            if quota is not None and quota <= self.settings.min_quota:
                tomorrow = (datetime.fromtimestamp(now_ts, UTC) + timedelta(days=1)).replace(
                    hour=0, minute=0, second=0, microsecond=0)
                raise _Stop(found, has_more, int(tomorrow.timestamp()), "quota")
            if backoff:  # any further request now (next page, next term) would violate it
                raise _Stop(found, has_more, now_ts + backoff, "backoff")
            if not has_more:
                return found
        log.warning("event=stackexchange_truncated source=%s term=%r reason=max_pages", self.name, term)
        return found

    def _get(self, url: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            data = self.context.http.get_json(url, params=params)
        except ClientError as exc:
            raise _api_error(exc) from exc
        if not isinstance(data, dict):
            raise BadPayload("Stack Exchange answer is not an object")
        if "error_id" in data:
            raise _error_from(data, None)
        if not isinstance(data.get("items"), list):
            raise BadPayload("Stack Exchange answer has no 'items' list")
        return data

    def _mention(self, question: dict[str, Any], now: datetime) -> Mention:
        qid = str(question["question_id"])
        owner = question.get("owner")
        owner = owner if isinstance(owner, dict) else {}
        title = html_to_text(str(question.get("title") or ""))
        text = html_to_text(str(question.get("body") or "")) or title
        tags = question.get("tags")
        tags = tags if isinstance(tags, list) else []
        return self.mention(
            external_id=qid, text=text, fetched_at=now,
            url=question.get("link") if isinstance(question.get("link"), str) else None,
            author=html_to_text(owner["display_name"]) if isinstance(owner.get("display_name"), str) else None,
            author_id=as_text(owner.get("user_id")),
            author_url=as_text(owner.get("link")),
            title=title or None,
            published_at=unix_time(question.get("creation_date")),
            reach=counts(score=question.get("score"), replies=question.get("answer_count"),
                         views=question.get("view_count"), reputation=owner.get("reputation")),
            thread_id=qid,
            extra={"site": self.settings.site, "tags": [t for t in tags if isinstance(t, str)],
                   "is_answered": bool(question.get("is_answered"))},
        )


def _questions(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = [i for i in data["items"] if isinstance(i, dict)]
    questions = [i for i in items if isinstance(i.get("question_id"), int)]
    if items and not questions:
        raise BadPayload("Stack Exchange answer holds no questions (wrong method or filter?)")
    return questions


def _error_from(data: dict[str, Any], status: int | None) -> Exception:
    error_id = as_int(data.get("error_id"))
    name = str(data.get("error_name") or "error")
    message = str(data.get("error_message") or "")
    text = f"Stack Exchange error {error_id} {name}: {message}".strip()
    if error_id in THROTTLE_ERRORS or name == "throttle_violation":
        more = _MORE_IN.search(message)
        return RateLimited(text, retry_after=float(more.group(1)) if more else None)
    return ClientError(text, status=status or error_id)


def _api_error(exc: ClientError) -> Exception:
    """A 4xx whose body is Stack Exchange's error JSON: throttle violations become RateLimited."""
    body = exc.body
    if not body:
        return exc
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return exc
    if isinstance(data, dict) and "error_id" in data:
        return _error_from(data, exc.status)
    return exc
