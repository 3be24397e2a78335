"""Apple App Store customer reviews, from Apple's public customer-reviews feed in JSON.

`GET {base_url}/{country}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json` returns up to 50
reviews per page, newest first, for one storefront; Apple serves at most 10 pages (500 reviews) per country.

Cursor: `{"countries": {"de": {"newest": ISO time, "newest_id": "…"}, …}}`. A first poll of a country reads
page 1 only; later polls read pages until one reaches a review at or before the newest one already seen
(at most `max_pages`). Everything on the pages read is returned — a little overlap, which the store
deduplicates by review id, and which catches reviews that appear late.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator

from listener.domain import Batch, Mention
from listener.sources.kit import (
    BadPayload,
    Source,
    SourceSettings,
    Targets,
    as_dict,
    counts,
    html_to_text,
    iso_time,
    newest_mark,
    read_until_known,
    register,
)

APPLE_PAGES = 10  # Apple's feed stops at page 10


class AppStoreSettings(SourceSettings):
    kind: str = Field(default="appstore",
                      description="\"appstore\": Apple App Store customer reviews (public JSON feed, no key).")
    brand: str = Field(min_length=1, description="Every review is a mention of this [[brand]].")
    app_id: str = Field(pattern=r"^(id)?\d+$",
                        description="The number in apps.apple.com/…/id1234567890 (\"id1234567890\" works too).")
    countries: list[str] = Field(default_factory=lambda: ["us"], min_length=1,
                                 description="Storefronts (two-letter codes); each has its own cursor.")
    base_url: str = Field(default="https://itunes.apple.com",
                          description="Where requests go (mirrors, proxies, tests).")
    max_pages: int = Field(default=APPLE_PAGES, ge=1, le=APPLE_PAGES,
                           description="Pages of 50 reviews per country and poll (Apple serves at most 10).")

    @field_validator("countries")
    @classmethod
    def _storefronts(cls, countries: list[str]) -> list[str]:
        cleaned = [c.strip().lower() for c in countries]
        for code in cleaned:
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"countries: {code!r} is not a two-letter storefront code such as 'de'")
        return list(dict.fromkeys(cleaned))

    @field_validator("app_id")
    @classmethod
    def _bare_id(cls, value: str) -> str:
        return value.removeprefix("id")


def _label(node: Any) -> str | None:
    """Apple's feed wraps every value as {"label": …}."""
    if isinstance(node, dict):
        value = node.get("label")
        return value if isinstance(value, str) else None
    return None


def _reviewer_id(profile: str | None) -> str | None:
    """The reviewer's id from their profile link (`https://itunes.apple.com/us/reviews/id30028668`)."""
    match = re.search(r"/id(\d+)(?:[/?#]|$)", profile or "")
    return match.group(1) if match else None


def _int(value: str | None) -> int | None:
    """A label's number: Apple sends numbers as strings, which fields.as_int leaves out on purpose."""
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def feed_entries(payload: Any) -> list[dict[str, Any]]:
    """The entries of one feed page ([] past the last page); BadPayload when it is not Apple's feed."""
    if not isinstance(payload, dict) or not isinstance(payload.get("feed"), dict):
        raise BadPayload("App Store answer has no 'feed' object")
    entries = payload["feed"].get("entry")
    if entries is None:
        return []
    if isinstance(entries, dict):  # a single entry is not wrapped in a list
        entries = [entries]
    if not isinstance(entries, list):
        raise BadPayload("App Store feed 'entry' is neither a list nor an object")
    return [e for e in entries if isinstance(e, dict)]


@register
class AppStoreSource(Source):
    kind = "appstore"
    settings_model = AppStoreSettings
    settings: AppStoreSettings

    def page_url(self, country: str, page: int) -> str:
        base = self.settings.base_url.rstrip("/")
        return f"{base}/{country}/rss/customerreviews/page={page}/id={self.settings.app_id}/sortby=mostrecent/json"

    def poll(self, cursor: dict[str, Any]) -> Batch:
        previous = cursor.get("countries")
        if not isinstance(previous, dict):
            previous = {}
        items: list[Mention] = []
        countries: dict[str, Any] = {}
        seen: set[str] = set()
        targets = Targets(self.name)
        for country in self.settings.countries:
            state = previous.get(country)
            if not isinstance(state, dict):
                state = {}
            if state:
                countries[country] = state  # kept when this storefront fails: read from here next poll
            with targets.target(country):
                found, countries[country] = self._poll_country(country, state)
                for mention in found:
                    if mention.external_id not in seen:
                        seen.add(mention.external_id)
                        items.append(mention)
        return Batch(items=items, next_cursor={"countries": countries}, failed_targets=targets.failed())

    def _poll_country(self, country: str, state: dict[str, Any]) -> tuple[list[Mention], dict[str, Any]]:
        known = iso_time(state.get("newest"))

        def pages() -> Iterator[list[Mention]]:
            for page in range(1, self.settings.max_pages + 1):
                entries = feed_entries(self.context.http.get_json(self.page_url(country, page)))
                if not entries:
                    return
                yield [m for m in (self._mention(e, country) for e in entries) if m is not None]

        mentions = read_until_known(pages(), known, self.settings.max_pages, self.name, self.kind)
        return mentions, newest_mark(mentions, known) or dict(state)

    def _mention(self, entry: dict[str, Any], country: str) -> Mention | None:
        review_id = _label(entry.get("id"))
        rating = _int(_label(entry.get("im:rating")))
        if not review_id or rating is None:  # old feeds start with an entry describing the app itself
            return None
        content = entry.get("content")
        text = _label(content) or ""
        content_type = (content.get("attributes") or {}).get("type") if isinstance(content, dict) else None
        text = html_to_text(text) if content_type == "html" else text.strip()
        title = (_label(entry.get("title")) or "").strip()
        if not text and not title:
            return None
        author = as_dict(entry.get("author"))
        link = entry.get("link")
        links = link if isinstance(link, list) else [link]
        url = next((lk["attributes"].get("href") for lk in links
                    if isinstance(lk, dict) and isinstance(lk.get("attributes"), dict)
                    and lk["attributes"].get("href")), None)
        return self.mention(
            external_id=review_id,
            text=text or title,
            title=title or None,
            url=url or f"https://apps.apple.com/{country}/app/id{self.settings.app_id}?see-all=reviews",
            author=_label(author.get("name")),
            author_id=_reviewer_id(_label(author.get("uri"))),
            author_url=_label(author.get("uri")),
            published_at=iso_time(_label(entry.get("updated"))),
            rating=float(min(5, max(1, rating))),
            reach=counts(votes=_int(_label(entry.get("im:voteCount"))), likes=_int(_label(entry.get("im:voteSum")))),
            extra={"brand": self.settings.brand, "country": country,
                   "app_version": _label(entry.get("im:version")) or None},
        )
