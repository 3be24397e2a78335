"""The outbox: alert rows written with their task, delivered by a worker.

Each row is claimed before sending and marked sent right after, so a delivered alert is not sent again;
a failing one is retried with exponential backoff and, after `max_attempts`, parked — visible in
`listener alerts list`, never dropped. Channels get the row's idempotency key (email Message-ID,
webhook Idempotency-Key header) so a receiver can recognise a re-send after a crash mid-delivery.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from listener.alerts.channels.base import AlertMessage, Channel, DeliveryError
from listener.alerts.messages import message_for
from listener.clock import Clock
from listener.durations import Duration
from listener.ops import metrics
from listener.ops.claims import claimant
from listener.store.engine import Store
from listener.store.models import AlertRow, TaskRow

log = logging.getLogger(__name__)


class DeliverySettings(BaseModel):
    """`[delivery]`: retry policy of the outbox."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=12, ge=1, le=1000,
                              description="Attempts per alert; then it is parked (`listener alerts list --status "
                                          "parked`, `listener alerts retry`).")
    backoff: Duration = Field(default=timedelta(seconds=30),
                              description="Wait after a failed attempt, doubled after every further failure …")
    max_backoff: Duration = Field(default=timedelta(hours=1), description="… up to this.")
    claim_timeout: Duration = Field(default=timedelta(minutes=5),
                                    description="An alert left \"sending\" by a crash is retried after this.")
    batch: int = Field(default=50, ge=1, le=10_000, description="Alerts claimed per delivery run.")
    task_url: str | None = Field(default=None,
                                 description="Link to a task in alerts, with {id}, e.g. "
                                             "\"https://care.example.com/tasks/{id}\"; default: [web] base_url + "
                                             "/tasks/{id}, none without it.")

    @field_validator("task_url")
    @classmethod
    def _has_id(cls, value: str | None) -> str | None:
        if value is not None and ("{id}" not in value or not value.startswith(("https://", "http://"))):
            raise ValueError(f"expected an http(s) URL with {{id}} where the task number goes, got {value!r}")
        return value


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)


def enqueue(session: Session, task: TaskRow, channels: list[str], now: datetime, kind: str = "task",
            step: str | None = None) -> list[AlertRow]:
    """Outbox rows announcing a task (kind "task") or one of its escalation steps (kind "escalation")."""
    prefix = f"task-{task.id}" if kind == "task" else f"task-{task.id}-{kind}-{step}"
    rows = [
        AlertRow(
            idempotency_key=f"{prefix}-{channel}",
            task_id=task.id,
            mention_id=task.mention_id,
            channel=channel,
            kind=kind,
            step=step,
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for channel in dict.fromkeys(channels)
    ]
    session.add_all(rows)
    return rows


def backoff(settings: DeliverySettings, attempts: int) -> timedelta:
    return min(settings.max_backoff, settings.backoff * (2 ** max(0, attempts - 1)))


def _claim(store: Store, settings: DeliverySettings, now: datetime) -> list[int]:
    with store.write() as session:
        query = (
            select(AlertRow)
            .where(
                or_(
                    (AlertRow.status == "pending") & (AlertRow.next_attempt_at <= now),
                    (AlertRow.status == "sending") & (AlertRow.claimed_until < now),
                )
            )
            .order_by(AlertRow.next_attempt_at, AlertRow.id)
            .limit(settings.batch)
        )
        if session.get_bind().dialect.name == "postgresql":  # several deliverers may run
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            row.status = "sending"
            row.claimed_until = now + settings.claim_timeout
            row.claimed_by = claimant()  # a start releases it at once if this process dies (ops/claims.py)
        return [row.id for row in rows]


def deliver_pending(store: Store, channels: Mapping[str, Channel], settings: DeliverySettings,
                    clock: Clock, ack_links: Callable[[int], str] | None = None) -> DeliveryReport:
    """`ack_links(task_id)`: the care inbox's acknowledge link for a task's alert (listener/web)."""
    report = DeliveryReport()
    for alert_id in _claim(store, settings, clock.now()):
        error: str | None = None
        with store.read() as session:
            alert = session.get_one(AlertRow, alert_id)
            channel = channels.get(alert.channel)
            try:
                message = message_for(session, alert, settings.task_url)
                if ack_links is not None and isinstance(message, AlertMessage) and message.task_id is not None:
                    message = dataclasses.replace(message, ack_url=ack_links(message.task_id))
            except ValueError as exc:  # a row this version cannot describe: parked in the end, never dropped
                error = f"cannot build the message: {exc}"
        if error is None and channel is None:
            error = f"channel {alert.channel!r} is not configured"
        elif error is None and channel is not None:
            try:
                channel.send(message)
            except DeliveryError as exc:
                error = str(exc)
        now = clock.now()
        with store.write() as session:
            alert = session.get_one(AlertRow, alert_id)
            alert.attempts += 1
            alert.claimed_until, alert.claimed_by = None, None
            if error is None:
                alert.status, alert.sent_at, alert.last_error = "sent", now, None
                report.sent += 1
                # mention-to-alert latency: a spike alert is about no single mention
                published = message.published_at if isinstance(message, AlertMessage) else None
                metrics.record_alert(alert.channel, "sent", published, now)
                log.info("event=alert_sent alert=%d channel=%s task=%s", alert.id, alert.channel, alert.task_id)
                continue
            alert.last_error = error
            report.errors.append(f"alert {alert.id} via {alert.channel}: {error}")
            if alert.attempts >= settings.max_attempts:
                alert.status = "parked"
                report.parked += 1
                metrics.record_alert(alert.channel, "parked")
                log.error("event=alert_parked alert=%d channel=%s attempts=%d error=%r",
                          alert.id, alert.channel, alert.attempts, error)
            else:
                alert.status = "pending"
                alert.next_attempt_at = now + backoff(settings, alert.attempts)
                report.failed += 1
                metrics.record_alert(alert.channel, "failed")
                log.warning("event=alert_failed alert=%d channel=%s attempts=%d retry_at=%s error=%r",
                            alert.id, alert.channel, alert.attempts, alert.next_attempt_at.isoformat(), error)
    return report


def retry_parked(session: Session, alert_id: int | None, now: datetime) -> int:
    """Put parked alerts (one, or all) back in the queue after the cause is fixed."""
    query = select(AlertRow).where(AlertRow.status == "parked")
    if alert_id is not None:
        query = query.where(AlertRow.id == alert_id)
    rows = list(session.scalars(query))
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = "pending", 0, now
    return len(rows)
