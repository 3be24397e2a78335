"""Plain data passed between the stages of the flow (see docs/architecture.md).

Nothing here touches a database or the network: sources produce `Mention`s in a `Batch`,
matching decides which brands they are about, the store persists them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Sentiment(StrEnum):
    """What the model (or a person's label) says a mention is. StrEnum: each member is its stored string."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class TaskStatus(StrEnum):
    """A follow-up task's workflow (listener/acting/tasks.py): open → acknowledged → responded → resolved, or
    dismissed (a false alarm) from any open state, or merged into another open task of the same customer
    (listener/contacts)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESPONDED = "responded"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"
    MERGED = "merged"


class AlertStatus(StrEnum):
    """An outbox row (listener/delivery/outbox.py): pending → sending (claimed) → sent, or parked after its last
    attempt failed (re-queued by `listener alerts retry`)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    PARKED = "parked"


SENTIMENTS: tuple[str, ...] = tuple(s.value for s in Sentiment)
OPEN_STATES = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED, TaskStatus.RESPONDED)  # not yet resolved or dismissed
WAITING_STATES = (TaskStatus.OPEN, TaskStatus.ACKNOWLEDGED)  # no first response yet: these can be overdue
CLOSED_STATES = (TaskStatus.RESOLVED, TaskStatus.DISMISSED, TaskStatus.MERGED)
URGENCIES = ("P1", "P2", "P3", "none")
PSEUDONYM_PREFIX = "hmac:"  # [privacy] pseudonymise_authors: the stored author is a keyed hash


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
    # Ids the platform's write API needs to answer this post beyond external/thread/parent id (str → str, e.g.
    # a Bluesky cid and thread root): stored with the mention for listener/replies.
    reply_ref: dict[str, str] = field(default_factory=dict)

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
