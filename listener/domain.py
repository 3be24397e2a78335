"""Plain data passed between the stages of the flow (see docs/architecture.md).

Nothing here touches a database or the network: sources produce `Mention`s in a `Batch`,
matching decides which brands they are about, the store persists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SENTIMENTS = ("negative", "neutral", "positive")
URGENCIES = ("P1", "P2", "P3", "none")


@dataclass(frozen=True)
class Mention:
    """One post, comment or review, in the same shape for every platform."""

    source_kind: str  # "feed", "reddit", ...
    source_name: str  # the configured instance, e.g. "acme-news"
    external_id: str  # stable id on the platform (unique per source)
    text: str
    fetched_at: datetime
    url: str | None = None
    author: str | None = None  # the name or handle the platform shows
    # Who wrote it, where the platform says (listener/contacts): a stable account id (Bluesky DID, YouTube channel
    # id …), the profile URL and the display name beside the handle; None where the platform gives none.
    author_id: str | None = None
    author_url: str | None = None
    author_name: str | None = None
    title: str | None = None
    published_at: datetime | None = None  # always timezone-aware UTC when known
    rating: float | None = None  # star rating of reviews, 1–5
    reach: dict[str, int] = field(default_factory=dict)  # score, replies, followers …
    thread_id: str | None = None
    parent_id: str | None = None
    lang_hint: str | None = None  # language the platform declares, if any
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def full_text(self) -> str:
        """Title and body as one text, the form matching and scoring see."""
        if self.title and self.title.strip() and self.title.strip() not in self.text:
            return f"{self.title.strip()}\n{self.text}".strip()
        return self.text


@dataclass(frozen=True)
class Batch:
    """What one poll of a source returns: new items and the cursor to store with them."""

    items: list[Mention]
    next_cursor: dict[str, Any]
    not_modified: bool = False  # HTTP 304: nothing was parsed
    # Targets of the source (a page, a country, a hashtag …) that failed this poll, with their errors; the
    # others' items are in `items`, and each failed target keeps its old cursor state so the next poll retries it.
    failed_targets: dict[str, str] = field(default_factory=dict)
