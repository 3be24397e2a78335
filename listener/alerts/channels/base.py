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
    # Links into the care inbox ([web] base_url): the task page and a signed, expiring acknowledge link.
    task_url: str | None = None
    ack_url: str | None = None


class Channel(Protocol):
    name: str

    def send(self, message: AlertMessage) -> None: ...
