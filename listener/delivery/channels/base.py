from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from listener.delivery.locale import ENGLISH_UTC, AlertLocale


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
    kind: str = "task"  # "task": a new task; "escalation": still unacknowledged; "group": several new tasks
    escalation: str | None = None  # why it escalates, e.g. "not acknowledged 1h after its deadline"
    headline: str | None = None  # a grouped message's summary, e.g. "7 new complaints about Acme · digital"
    items: list[AlertMessage] = field(default_factory=list)  # a grouped message's tasks, most urgent first
    task_url: str | None = None  # the task in the care inbox
    ack_url: str | None = None  # a signed, expiring link that acknowledges the task (listener/web)
    assignee: str | None = None
    locale: AlertLocale = ENGLISH_UTC  # the team's language and time zone ([alerts], listener/delivery/locale.py)


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
