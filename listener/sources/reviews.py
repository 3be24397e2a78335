"""Reviews on any web page that marks them up with schema.org `Review` / `AggregateRating`.

Each configured URL is fetched with a conditional GET (ETag / Last-Modified kept per URL in the cursor) and
read with extruct: JSON-LD (each `<script type="application/ld+json">` on its own, so one broken block
does not hide the others) and microdata. Every `Review` becomes a mention; with `aggregate = true` every
`AggregateRating` becomes one too, each time its value or count changes (a dropping overall rating is news).

- ids: the review's `@id`, `url` or `identifier`; else a hash of author + date + body, stable across polls.
- rating: `reviewRating.ratingValue` mapped onto 1–5 using `bestRating`/`worstRating` (defaults 5 and 1).
- the same review marked up twice (JSON-LD and microdata) is kept once.

A page with no schema.org data at all (an error page, a bot wall, a redesign) is a BadPayload, and so is
one whose only JSON-LD is unreadable; a page with schema.org data but no reviews yet is simply empty.
Each URL is a target of its own: a page that fails is listed in the source's health while the other pages'
reviews are stored, and it is read again (from its old validators) on the next poll.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import Field, HttpUrl

from listener.domain import Batch, Mention
from listener.sources.kit import (
    BadPayload,
    Source,
    SourceSettings,
    Targets,
    html_to_text,
    register,
    validators_of,
)

log = logging.getLogger(__name__)

_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)\s*$", re.MULTILINE)
_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


class ReviewsSettings(SourceSettings):
    kind: str = Field(default="reviews",
                      description="\"reviews\": any web page with schema.org Review / AggregateRating markup (JSON-LD "
                                  "or microdata).")
    brand: str = Field(min_length=1, description="Every review is a mention of this [[brand]].")
    urls: list[HttpUrl] = Field(min_length=1, description="Pages to read, each with conditional GET.")
    aggregate: bool = Field(default=False,
                            description="Also one mention each time a page's overall rating (value or count) changes "
                                        "(opt-in: it can raise tasks).")


# ----------------------------------------------------------------------------- reading schema.org
def type_names(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {v.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1] for v in values if isinstance(v, str)}


def first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def text_of(value: Any) -> str:
    value = first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    return html_to_text(value) if isinstance(value, str) else ""


def number(value: Any) -> float | None:
    value = first(value)
    if isinstance(value, dict):
        value = value.get("@value")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _NUMBER.search(value)
        if match:
            return float(match.group().replace(",", "."))
    return None


def normalise_rating(node: Any) -> float | None:
    """ratingValue on 1–5, using bestRating / worstRating (schema.org's defaults: 5 and 1)."""
    node = first(node)
    if isinstance(node, dict):
        value = number(node.get("ratingValue"))
        best, worst = number(node.get("bestRating")), number(node.get("worstRating"))
    else:
        value, best, worst = number(node), None, None
    if value is None:
        return None
    best = 5.0 if best is None else best
    worst = 1.0 if worst is None else worst
    if best <= worst:
        return None
    scaled = 1 + 4 * (value - worst) / (best - worst)
    return round(min(5.0, max(1.0, scaled)), 2)


def parse_when(value: Any) -> datetime | None:
    value = first(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            return None
        parsed = datetime(day.year, day.month, day.day)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def jsonld_items(tree: Any) -> tuple[list[Any], int]:
    """Items of every JSON-LD block, and how many blocks could not be read."""
    items: list[Any] = []
    broken = 0
    for node in tree.xpath('//script[@type="application/ld+json"]'):
        script = node.text_content()
        if not script.strip():
            continue
        try:
            data = json.loads(script, strict=False)
        except ValueError:
            try:  # leading HTML or JavaScript comments, as extruct tolerates them
                data = json.loads(_COMMENT_LINE.sub("", script), strict=False)
            except ValueError:
                broken += 1
                continue
        if isinstance(data, list):
            items.extend(data)
        elif isinstance(data, dict):
            items.append(data)
    return items, broken


def find_ratings(items: list[Any]) -> tuple[list[tuple[dict[str, Any], str]], list[tuple[dict[str, Any], str]]]:
    """(Review, name of the reviewed thing) and (AggregateRating, name of the rated thing), anywhere in items."""
    reviews: list[tuple[dict[str, Any], str]] = []
    aggregates: list[tuple[dict[str, Any], str]] = []

    def walk(node: Any, owner: str) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child, owner)
            return
        if not isinstance(node, dict):
            return
        types = type_names(node)
        if any(t == "Review" or t.endswith("Review") for t in types):
            reviews.append((node, text_of(node.get("itemReviewed")) or owner))
            for key, child in node.items():
                if key not in ("reviewRating", "author"):
                    walk(child, owner)
            return
        if "AggregateRating" in types:
            aggregates.append((node, text_of(node.get("itemReviewed")) or owner))
            return
        name = text_of(node.get("name")) if "Rating" not in types else ""
        for key, child in node.items():
            if key != "@context":
                walk(child, name or owner)

    walk(items, "")
    return reviews, aggregates


def given_id(node: dict[str, Any], page_url: str) -> str | None:
    """The id the page gives a review: @id, identifier, or a url of its own (not the page's)."""
    for key in ("@id", "identifier", "url"):
        value = first(node.get(key))
        if isinstance(value, dict):
            value = value.get("value") or value.get("@value")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            text = str(value).strip()
            if key == "url" and text.rstrip("/") == page_url.rstrip("/"):
                continue
            if key == "@id" and text.startswith("_:"):  # a blank node label is not stable
                continue
            return text
    return None


def _fingerprint(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


# ----------------------------------------------------------------------------- the source
@register
class ReviewsSource(Source):
    kind = "reviews"
    settings_model = ReviewsSettings
    settings: ReviewsSettings

    def poll(self, cursor: dict[str, Any]) -> Batch:
        previous = cursor.get("pages")
        if not isinstance(previous, dict):
            previous = {}
        urls = list(dict.fromkeys(str(u) for u in self.settings.urls))
        pages: dict[str, Any] = {}
        items: list[Mention] = []
        ids: set[str] = set()
        unchanged = 0
        targets = Targets(self.name)
        for url in urls:
            state = previous.get(url)
            if not isinstance(state, dict):
                state = {}
            if state:
                pages[url] = state  # kept when the page fails: it is read again next poll
            with targets.target(url):
                found, pages[url] = self._poll_page(url, state)
                unchanged += found is None
                for mention in found or []:
                    if mention.external_id not in ids:
                        ids.add(mention.external_id)
                        items.append(mention)
        failed = targets.failed()
        return Batch(items=items, next_cursor={"pages": pages}, not_modified=unchanged == len(urls),
                     failed_targets=failed)

    def _poll_page(self, url: str, state: dict[str, Any]) -> tuple[list[Mention] | None, dict[str, Any]]:
        """The page's mentions (None when unchanged since the validators in `state`) and its new state."""
        accept = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"}
        response = self.context.http.get_if_changed(url, state, headers=accept)
        if response.status_code == 304:
            return None, state
        found = self.parse_page(url, response.content, response.headers.get("Content-Type", ""),
                                response.charset_encoding)
        return found, validators_of(response)

    def parse_page(self, url: str, content: bytes, content_type: str = "", encoding: str | None = None
                   ) -> list[Mention]:
        kind = content_type.split(";")[0].strip().lower()
        if kind and "html" not in kind and "xml" not in kind:
            raise BadPayload(f"{url} is {kind}, not a web page")
        import extruct  # imported here: the registry loads every source module, whether configured or not
        from extruct.utils import parse_html

        try:
            tree = parse_html(content, encoding=encoding or "utf-8")
            microdata = extruct.extract(tree, base_url=url, syntaxes=["microdata"], uniform=True)["microdata"]
        except Exception as exc:  # lxml/extruct on something that is not HTML
            raise BadPayload(f"{url} is not readable HTML: {exc}") from exc
        jsonld, broken = jsonld_items(tree)
        reviews, aggregates = find_ratings(jsonld + microdata)
        if broken:
            log.warning("event=reviews_bad_jsonld source=%s url=%s broken_blocks=%d", self.name, url, broken)
        if not reviews and not aggregates:
            if broken:
                raise BadPayload(f"{url}: {broken} JSON-LD block(s) are not readable JSON")
            if not jsonld and not microdata:
                raise BadPayload(f"{url} has no schema.org data (an error page or a changed page?)")
            return []

        given = [given_id(node, url) for node, _ in reviews]
        shared = {g for g in given if g is not None and given.count(g) > 1}  # e.g. every review's url = the page
        mentions: list[Mention] = []
        kept: list[tuple[str, str, str]] = []  # (author, date, body fingerprint): one review marked up twice
        for (node, item), review_id in zip(reviews, given, strict=True):
            mention = self._review(node, item, url, None if review_id in shared else review_id)
            if mention is None:
                continue
            key = (mention.author or "", mention.published_at.isoformat() if mention.published_at else "",
                   _fingerprint(mention.text))
            if any(a == key[0] and d == key[1] and (key[2] in b or b in key[2]) for a, d, b in kept):
                continue
            kept.append(key)
            mentions.append(mention)
        if self.settings.aggregate:
            for node, item in aggregates:
                aggregate = self._aggregate(node, item, url)
                if aggregate is not None:
                    mentions.append(aggregate)
        return mentions

    def _review(self, node: dict[str, Any], item: str, page_url: str, given: str | None) -> Mention | None:
        body = text_of(node.get("reviewBody")) or text_of(node.get("description")) or text_of(node.get("text"))
        title = text_of(node.get("name")) or text_of(node.get("headline"))
        if not body and not title:
            return None
        author = text_of(node.get("author")) or None
        published = parse_when(node.get("datePublished") or node.get("dateCreated"))
        if given is not None:
            external_id = given
        else:
            day = published.isoformat() if published else ""
            digest = hashlib.sha256(f"{author or ''}\n{day}\n{_fingerprint(body or title)}".encode()).hexdigest()
            external_id = "review:" + digest[:32]
        link = first(node.get("url"))
        return self.mention(
            external_id=external_id,
            text=body or title,
            title=title or None,
            url=link if isinstance(link, str) and link.startswith(("http://", "https://")) else page_url,
            author=author,
            published_at=published,
            rating=normalise_rating(node.get("reviewRating")),
            lang_hint=text_of(node.get("inLanguage")) or None,
            extra={"brand": self.settings.brand, "item": item or None},
        )

    def _aggregate(self, node: dict[str, Any], item: str, page_url: str) -> Mention | None:
        value = number(node.get("ratingValue"))
        rating = normalise_rating(node)
        if value is None or rating is None:
            return None
        best = number(node.get("bestRating")) or 5.0
        reach = {k: int(n) for k, n in (("ratings", number(node.get("ratingCount"))),
                                        ("reviews", number(node.get("reviewCount")))) if n is not None}
        what = item or "this page"
        text = f"{what}: rated {value:g} out of {best:g}"
        if "ratings" in reach:
            text += f" from {reach['ratings']} ratings"
        elif "reviews" in reach:
            text += f" from {reach['reviews']} reviews"
        digest = hashlib.sha256(f"{page_url}\n{item}\n{value:g}/{best:g}\n{sorted(reach.items())}".encode())
        now = self.context.clock.now()
        return self.mention(
            external_id="aggregate:" + digest.hexdigest()[:32],
            text=text,
            title=f"Overall rating of {what}",
            fetched_at=now,
            url=page_url,
            published_at=now,  # the moment the overall rating was seen at this value
            rating=rating,
            reach=reach,
            extra={"brand": self.settings.brand, "item": item or None, "aggregate": True},
        )
