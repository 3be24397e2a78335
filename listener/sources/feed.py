"""RSS, Atom, RDF (through feedparser) and JSON Feed, with conditional GET.

Cursor: `{"etag": …, "last_modified": …}`. A 304 answer costs no parse. Entries of feeds that feedparser
flags as malformed ("bozo") but still parses are kept; a document with no recognisable feed is a BadPayload.
Entry ids are stable: guid, else link, else a hash of the content. feedparser 6 does not read JSON Feed
(jsonfeed.org), so its items are mapped onto the same entry keys here and go through the same code.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import feedparser
import httpx
from pydantic import Field, HttpUrl

from listener.domain import Batch
from listener.sources.kit import BadPayload, Source, SourceSettings, html_to_text, register, validators_of

log = logging.getLogger(__name__)


class FeedSettings(SourceSettings):
    kind: str = Field(default="feed",
                      description="\"feed\": RSS, Atom, RDF or JSON Feed, fetched with conditional GET (ETag / "
                                  "Last-Modified).")
    url: HttpUrl = Field(description="The feed's URL.")
    brand: str | None = Field(default=None,
                              description="Tie every entry to this [[brand]] without term matching (e.g. a feed of "
                                          "reviews of your own product).")


def entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            # feedparser normalises to UTC struct_time
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def entry_text(entry: Any) -> str:
    contents = entry.get("content") or []
    for content in contents:
        if content.get("value"):
            return html_to_text(content["value"])
    return html_to_text(entry.get("summary") or entry.get("description") or "")


def entry_id(entry: Any, title: str, text: str) -> str:
    for key in ("id", "link"):
        value = (entry.get(key) or "").strip()
        if value:
            return value
    return "sha256:" + hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def json_feed(content: bytes) -> tuple[list[dict[str, Any]], str | None] | None:
    """Entries (with feedparser's key names) and language of a JSON Feed; None if `content` is not one."""
    if not content.lstrip()[:1] == b"{":
        return None
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith("https://jsonfeed.org/version/"):
        return None
    items = data.get("items")
    if not isinstance(items, list):
        raise BadPayload("JSON Feed without an items list")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        names = [str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")]
        body = item.get("content_html") or item.get("content_text") or ""
        entry: dict[str, Any] = {
            "id": str(item.get("id") or ""), "link": item.get("url"), "title": item.get("title"),
            "content": [{"value": body}] if body else [], "summary": item.get("summary"),
            "author": ", ".join(names) or None, "language": item.get("language"),
        }
        for key, field in (("published_parsed", "date_published"), ("updated_parsed", "date_modified")):
            try:
                when = datetime.fromisoformat(str(item.get(field) or "").replace("Z", "+00:00"))
            except ValueError:
                continue
            entry[key] = (when if when.tzinfo else when.replace(tzinfo=UTC)).utctimetuple()
        entries.append(entry)
    return entries, data.get("language")


@register
class FeedSource(Source):
    kind = "feed"
    settings_model = FeedSettings
    settings: FeedSettings

    def poll(self, cursor: dict[str, Any]) -> Batch:
        url = str(self.settings.url)
        accept = {"Accept": "application/atom+xml, application/rss+xml, application/feed+json, "
                            "application/xml;q=0.9, */*;q=0.8"}
        response = self.context.http.get_if_changed(url, cursor, headers=accept)
        if response.status_code == 304:
            return Batch(items=[], next_cursor=cursor, not_modified=True)

        entries, feed_language = json_feed(response.content) or self._parse_xml(response)
        now = self.context.clock.now()
        items = []
        for entry in entries:
            title = html_to_text(entry.get("title") or "")
            text = entry_text(entry)
            if not title and not text:
                continue
            items.append(self.mention(
                external_id=entry_id(entry, title, text),
                url=entry.get("link"),
                author=entry.get("author"),
                title=title or None,
                text=text or title,
                published_at=entry_time(entry),
                fetched_at=now,
                lang_hint=(entry.get("language") or feed_language or None),
                extra={"brand": self.settings.brand} if self.settings.brand else {},
            ))
        return Batch(items=items, next_cursor=validators_of(response))

    def _parse_xml(self, response: httpx.Response) -> tuple[list[Any], str | None]:
        response_headers = {k.lower(): v for k, v in response.headers.items()}
        response_headers.setdefault("content-location", str(response.url))
        parsed = feedparser.parse(response.content, response_headers=response_headers)
        if parsed.get("bozo") and not parsed.entries and not parsed.get("version"):
            raise BadPayload(f"not a feed: {parsed.get('bozo_exception')}")
        if parsed.get("bozo"):
            log.warning("event=feed_malformed source=%s entries=%d reason=%r",
                        self.name, len(parsed.entries), str(parsed.get("bozo_exception")))
        return parsed.entries, parsed.feed.get("language")
