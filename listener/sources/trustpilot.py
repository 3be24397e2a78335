"""Trustpilot service reviews of one business, through the Trustpilot Business Units API (needs an API key).

`GET {base_url}/v1/business-units/find?name={domain}` resolves a domain to its business unit id (once; the
id is kept in the cursor), then `GET {base_url}/v1/business-units/{id}/reviews?orderBy=createdat.desc&
perPage=100&page=N` lists the public reviews newest first. The key goes in the `apikey` header.

Written to the response shape Trustpilot documents (reviews[].id, stars, title, text, language, createdAt,
consumer.displayName, numberOfLikes, companyReply, links); no recorded answer was available.

Cursor: `{"business_unit_id": "…", "newest": ISO time, "newest_id": "…"}`. A first poll reads one page;
later polls read pages until one reaches a review created at or before the newest one seen (at most
`max_pages`). Everything on the pages read is returned; the store deduplicates by review id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pydantic import Field, model_validator

from listener.domain import Batch, Mention
from listener.secrets import MissingSecret, get_secret
from listener.sources.kit import (
    BadPayload,
    ClientError,
    Source,
    SourceSettings,
    as_dict,
    as_text,
    counts,
    iso_time,
    newest_mark,
    read_until_known,
    register,
)

log = logging.getLogger(__name__)

WEB = "https://www.trustpilot.com"


class TrustpilotSettings(SourceSettings):
    kind: str = Field(default="trustpilot",
                      description="\"trustpilot\": reviews through Trustpilot's Business Units API (needs an API key, "
                                  "a paid plan).")
    brand: str = Field(min_length=1, description="Every review is a mention of this [[brand]].")
    domain: str | None = Field(default=None,
                               description="The business's domain, e.g. \"acme.de\": resolved to the business unit id "
                                           "on the first poll …")
    business_unit_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]+$",
                                         description="… or give the business unit id and skip the lookup.")
    api_key_secret: str = Field(default="trustpilot-api-key", min_length=1,
                                description="Name of the secret holding the API key ($LISTENER_TRUSTPILOT_API_KEY), "
                                            "never the key itself.")
    base_url: str = Field(default="https://api.trustpilot.com",
                          description="Where requests go (mirrors, proxies, tests).")
    language: str | None = Field(default=None,
                                 description="Only reviews in this language (ISO 639-1); default: all languages.")
    per_page: int = Field(default=100, ge=1, le=100, description="Reviews per request (at most 100).")
    max_pages: int = Field(default=10, ge=1, le=100, description="Pages read per poll when catching up.")

    @model_validator(mode="after")
    def _one_way_to_find_the_business(self) -> TrustpilotSettings:
        if not self.domain and not self.business_unit_id:
            raise ValueError("give `domain` or `business_unit_id`")
        return self


@register
class TrustpilotSource(Source):
    kind = "trustpilot"
    settings_model = TrustpilotSettings
    settings: TrustpilotSettings

    def _headers(self) -> dict[str, str]:
        try:
            key = get_secret(self.settings.api_key_secret)
        except MissingSecret as exc:
            raise ClientError(f"Trustpilot API key missing: {exc}", status=None) from exc
        return {"apikey": key, "Accept": "application/json"}

    def _url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    def business_unit_id(self, cursor: dict[str, Any], headers: dict[str, str]) -> str:
        if self.settings.business_unit_id:
            return self.settings.business_unit_id
        cached = cursor.get("business_unit_id")
        if isinstance(cached, str) and cached and cursor.get("domain") == self.settings.domain:
            return cached
        try:
            found = self.context.http.get_json(self._url("/v1/business-units/find"),
                                               params={"name": self.settings.domain}, headers=headers)
        except ClientError as exc:
            if exc.status == 404:
                raise ClientError(f"Trustpilot knows no business unit for {self.settings.domain!r}",
                                  status=404) from exc
            raise
        unit_id = as_dict(found).get("id")
        if not isinstance(unit_id, str) or not unit_id:
            raise BadPayload("Trustpilot business-units/find answer has no 'id'")
        log.info("event=trustpilot_resolved source=%s domain=%s business_unit_id=%s",
                 self.name, self.settings.domain, unit_id)
        return unit_id

    def poll(self, cursor: dict[str, Any]) -> Batch:
        headers = self._headers()
        unit_id = self.business_unit_id(cursor, headers)
        if cursor.get("business_unit_id") not in (None, unit_id):
            cursor = {}  # another business: its own history
        known = iso_time(cursor.get("newest"))
        params: dict[str, Any] = {"orderBy": "createdat.desc", "perPage": self.settings.per_page}
        if self.settings.language:
            params["language"] = self.settings.language

        def pages() -> Iterator[list[Mention]]:
            for page in range(1, self.settings.max_pages + 1):
                payload = self.context.http.get_json(self._url(f"/v1/business-units/{unit_id}/reviews"),
                                                     params={**params, "page": page}, headers=headers)
                reviews = as_dict(payload).get("reviews")
                if not isinstance(reviews, list):
                    raise BadPayload("Trustpilot reviews answer has no 'reviews' list")
                yield [m for m in (self._mention(r, unit_id) for r in reviews) if m is not None]
                if len(reviews) < self.settings.per_page or not _has_next_page(payload):
                    return

        items = read_until_known(pages(), known, self.settings.max_pages, self.name, self.kind)
        next_cursor: dict[str, Any] = newest_mark(items, known) or {
            k: v for k, v in cursor.items() if k in ("newest", "newest_id")}
        next_cursor["business_unit_id"] = unit_id
        if self.settings.domain:
            next_cursor["domain"] = self.settings.domain
        return Batch(items=items, next_cursor=next_cursor)

    def _mention(self, review: Any, unit_id: str) -> Mention | None:
        if not isinstance(review, dict):
            return None
        review_id = review.get("id")
        if not isinstance(review_id, str) or not review_id:
            return None
        # plain text with line breaks (not HTML)
        title = " ".join(review["title"].split()) if isinstance(review.get("title"), str) else ""
        text = review["text"].strip() if isinstance(review.get("text"), str) else ""
        if not title and not text:
            return None
        stars = review.get("stars")
        likes = review.get("numberOfLikes")
        consumer = as_dict(review.get("consumer"))
        reply = as_dict(review.get("companyReply"))
        language = review.get("language")
        return self.mention(
            external_id=review_id,
            text=text or title,
            title=title or None,
            url=f"{WEB}/reviews/{review_id}",
            author=consumer.get("displayName") if isinstance(consumer.get("displayName"), str) else None,
            author_id=as_text(consumer.get("id")),
            author_url=f"{WEB}/users/{consumer['id']}" if as_text(consumer.get("id")) else None,
            published_at=iso_time(review.get("createdAt")),
            rating=float(min(5, max(1, stars))) if isinstance(stars, int | float) and stars else None,
            reach=counts(likes=likes, author_reviews=consumer.get("numberOfReviews")),
            lang_hint=language if isinstance(language, str) and language else None,
            extra={"brand": self.settings.brand, "business_unit_id": unit_id,
                   "company_replied": bool(reply.get("text")), "verified": review.get("isVerified")},
        )


def _has_next_page(payload: Any) -> bool:
    """True when the answer has a next-page link, or has no links at all (then the page size decides)."""
    links = as_dict(payload).get("links")
    if not isinstance(links, list):
        return True
    return any(isinstance(link, dict) and link.get("rel") == "next-page" for link in links)
