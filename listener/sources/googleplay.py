"""Google Play reviews of one app, newest first, through the Play Store's own `batchexecute` RPC.

This is the request google-play-scraper makes (RPC `UsvDTd`, as its other ports and the recorded responses
use), sent through our HttpFetcher so that `base_url`, timeouts, the size cap and the typed errors apply.
google-play-scraper itself is not imported: it does its own urllib HTTP to fixed URLs, and importing it
switches off TLS certificate checks for every urllib user in the process (`ssl._create_default_https_context`).
The review field positions below are the ones of its `ElementSpecs.Review`.

Answer: the `)]}'` guard line, then JSON frames; the frame `["wrb.fr", "UsvDTd", "<json string>", …]` holds
`[[review, …], [null, "<continuation token>"]]`.

Cursor: `{"newest": ISO time, "newest_id": "…"}`. A first poll reads one page; later polls follow the
continuation token until a page reaches a review at or before the newest one seen (at most `max_pages`).
Everything on the pages read is returned; the store deduplicates by review id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import Field

from listener.domain import Batch, Mention
from listener.sources.kit import (
    BadPayload,
    RateLimited,
    Source,
    SourceSettings,
    counts,
    iso_time,
    newest_mark,
    read_until_known,
    register,
    unix_time,
)

RPC_ID = "UsvDTd"
SORT_NEWEST = 2
PLAY_WEB = "https://play.google.com"  # links for people, whatever base_url the requests go to
GUARD = ")]}'"


class GooglePlaySettings(SourceSettings):
    kind: str = Field(default="googleplay",
                      description="\"googleplay\": Google Play reviews (the Play Store's own web RPC, no key).")
    brand: str = Field(min_length=1, description="Every review is a mention of this [[brand]].")
    app_id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$",
                        description="The package name in play.google.com/store/apps/details?id=…, e.g. com.acme.app.")
    lang: str = Field(default="en", pattern=r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,4})?$",
                      description="Play serves the reviews written in this language (hl) …")
    country: str = Field(default="us", pattern=r"^[a-zA-Z]{2}$",
                         description="… from this country's store (gl); one [[source]] per language you care about.")
    base_url: str = Field(default=PLAY_WEB, description="Where requests go (mirrors, proxies, tests).")
    page_size: int = Field(default=100, ge=1, le=199, description="Reviews per request (at most 199).")
    max_pages: int = Field(default=10, ge=1, le=50, description="Pages followed per poll when catching up.")


def _at(node: Any, *path: int) -> Any:
    """node[path[0]][path[1]]…, or None where the nesting stops."""
    for index in path:
        if not isinstance(node, list) or index >= len(node):
            return None
        node = node[index]
    return node


def request_body(app_id: str, count: int, token: str | None) -> dict[str, str]:
    payload = [None, None, [2, SORT_NEWEST, [count, None, token], None, []], [app_id, 7]]
    envelope = [[[RPC_ID, json.dumps(payload, separators=(",", ":")), None, "generic"]]]
    return {"f.req": json.dumps(envelope, separators=(",", ":"))}


def parse_page(text: str) -> tuple[list[list[Any]], str | None]:
    """Reviews and continuation token of one batchexecute answer."""
    body = text.lstrip()
    if body.startswith(GUARD):
        body = body[len(GUARD):]
    frames = _frames(body)
    frame = next((f for f in frames if isinstance(f, list) and f[:2] == ["wrb.fr", RPC_ID]), None)
    raw = _at(frame, 2)
    if raw is None and "PlayGatewayError" in body:  # Play's throttle signal, sent with HTTP 200
        raise RateLimited("Google Play answered with PlayGatewayError (throttled)")
    if frame is None:
        raise BadPayload(f"Google Play answer has no {RPC_ID} frame: {body[:120]!r}")
    if raw is None:  # no (more) reviews
        return [], None
    if not isinstance(raw, str):
        raise BadPayload("Google Play reviews frame does not hold a JSON string")
    try:
        inner = json.loads(raw)
    except ValueError as exc:
        raise BadPayload(f"Google Play reviews are not readable JSON: {exc}") from exc
    reviews = _at(inner, 0)
    if reviews is None:
        return [], None
    if not isinstance(reviews, list):
        raise BadPayload("Google Play reviews are not a list")
    token = _at(inner, 1, 1)
    return [r for r in reviews if isinstance(r, list)], token if isinstance(token, str) and token else None


def _frames(body: str) -> list[Any]:
    start = body.find("[")
    if start < 0:
        raise BadPayload(f"Google Play answer is not batchexecute JSON: {body[:120]!r}")
    try:
        frames = json.loads(body[start:])
        return frames if isinstance(frames, list) else []
    except ValueError:
        pass
    # the chunked variant: length lines between JSON lines
    frames = []
    for line in body.splitlines():
        if line.startswith("["):
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, list):
                frames.extend(parsed)
    if not frames:
        raise BadPayload(f"Google Play answer is not readable JSON: {body[:120]!r}")
    return frames


@register
class GooglePlaySource(Source):
    kind = "googleplay"
    settings_model = GooglePlaySettings
    settings: GooglePlaySettings

    @property
    def endpoint(self) -> str:
        return self.settings.base_url.rstrip("/") + "/_/PlayStoreUi/data/batchexecute"

    def poll(self, cursor: dict[str, Any]) -> Batch:
        known = iso_time(cursor.get("newest"))
        params = {"rpcids": RPC_ID, "hl": self.settings.lang, "gl": self.settings.country.upper()}

        def pages() -> Iterator[list[Mention]]:
            token: str | None = None
            for _ in range(self.settings.max_pages):
                response = self.context.http.request(
                    "POST", self.endpoint, params=params,
                    data=request_body(self.settings.app_id, self.settings.page_size, token))
                try:
                    text = response.content.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise BadPayload(f"Google Play answer is not UTF-8: {exc}") from exc
                reviews, token = parse_page(text)
                yield [m for m in map(self._mention, reviews) if m is not None]
                if token is None or not reviews:
                    return

        items = read_until_known(pages(), known, self.settings.max_pages, self.name, self.kind)
        return Batch(items=items, next_cursor=newest_mark(items, known) or dict(cursor))

    def _mention(self, review: list[Any]) -> Mention | None:
        review_id = _at(review, 0)
        text = _at(review, 4)
        score = _at(review, 2)
        seconds = _at(review, 5, 0)
        if not isinstance(review_id, str) or not review_id:
            return None
        if not isinstance(text, str) or not text.strip():  # star-only ratings carry no text
            return None
        author = _at(review, 1, 0)
        likes = _at(review, 6)
        reply = _at(review, 7, 1)
        version = _at(review, 10)
        return self.mention(
            external_id=review_id,
            text=text.strip(),
            url=f"{PLAY_WEB}/store/apps/details?id={self.settings.app_id}&reviewId={review_id}",
            author=author if isinstance(author, str) else None,
            published_at=unix_time(seconds),
            rating=float(min(5, max(1, score))) if isinstance(score, int | float) and score else None,
            reach=counts(likes=likes),
            lang_hint=self.settings.lang.split("-")[0].split("_")[0].lower(),
            extra={"brand": self.settings.brand, "app_version": version if isinstance(version, str) else None,
                   "developer_replied": isinstance(reply, str) and bool(reply)},
        )
