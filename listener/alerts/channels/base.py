from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class DeliveryError(Exception):
    """Sending failed; the outbox row is retried with backoff (or parked after too many attempts)."""


@dataclass(frozen=True)
class AlertMessage:
    """Everything a channel needs to announce one follow-up task. All text fields are untrusted."""

    idempotency_key: str
    task_id: int | None
    priority: str
    due_at: datetime | None
    reasons: list[str]
    brands: list[str]
    source: str
    author: str | None
    url: str | None
    title: str | None
    text: str
    published_at: datetime | None
    sentiment: str
    confidence: float
    language: str | None
    categories: list[str]


@dataclass(frozen=True)
class Notice:
    """A message that is about no single task (e.g. a spike), rendered by its producer in each markup.

    The producer escapes untrusted text for each form: `markdown` is CommonMark with untrusted parts
    backslash-escaped, `html` is an escaped HTML document, `text` and `subject` are plain.
    """

    idempotency_key: str
    subject: str
    text: str
    markdown: str
    html: str
    data: dict[str, object]  # structured fields for generic webhook receivers


class Channel(Protocol):
    name: str

    def send(self, message: AlertMessage | Notice) -> None: ...
