"""The outbox: alert rows written with their task (listener/acting/tasks.py: enqueue), delivered by a worker.

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

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from listener import metrics
from listener.clock import Clock
from listener.delivery.channels.base import AlertMessage, Channel, DeliveryError
from listener.delivery.claims import claimant
from listener.delivery.locale import ENGLISH_UTC, AlertLocale
from listener.delivery.messages import message_for
from listener.delivery.settings import DeliverySettings
from listener.domain import AlertStatus
from listener.store.engine import Store
from listener.store.models import AlertRow

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    parked: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(settings: DeliverySettings, attempts: int) -> timedelta:
    return min(settings.max_backoff, settings.backoff * (2 ** max(0, attempts - 1)))


def _due(now: datetime) -> ColumnElement[bool]:
    """An outbox row to send now: pending and due, or claimed by a sender whose claim ran out (it crashed)."""
    return or_((AlertRow.status == AlertStatus.PENDING) & (AlertRow.next_attempt_at <= now),
               (AlertRow.status == AlertStatus.SENDING) & (AlertRow.claimed_until < now))


def alerts_due(store: Store, now: datetime) -> bool:
    """Whether a delivery run would find work (the cluster's tick asks before waking a deliverer)."""
    with store.read() as session:
        return session.scalar(select(AlertRow.id).where(_due(now)).limit(1)) is not None


def _claim(store: Store, settings: DeliverySettings, now: datetime) -> list[int]:
    with store.write() as session:
        query = (
            select(AlertRow)
            .where(_due(now))
            .order_by(AlertRow.next_attempt_at, AlertRow.id)
            .limit(settings.batch)
        )
        if session.get_bind().dialect.name == "postgresql":  # several deliverers may run
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            row.status = AlertStatus.SENDING
            row.claimed_until = now + settings.claim_timeout
            row.claimed_by = claimant()  # a start releases it at once if this process dies (delivery/claims.py)
        return [row.id for row in rows]


def deliver_pending(store: Store, channels: Mapping[str, Channel], settings: DeliverySettings,
                    clock: Clock, ack_links: Callable[[int], str] | None = None,
                    locale: AlertLocale | None = None) -> DeliveryReport:
    """`ack_links(task_id)`: the care inbox's acknowledge link for a task's alert (listener/web); `locale`: the
    team's language and time zone ([alerts])."""
    report = DeliveryReport()
    for alert_id in _claim(store, settings, clock.now()):
        error: str | None = None
        wait = timedelta(0)  # the receiver's Retry-After, when it gave one
        with store.read() as session:
            alert = session.get_one(AlertRow, alert_id)
            channel = channels.get(alert.channel)
            try:
                message = message_for(session, alert, settings.task_url, locale or ENGLISH_UTC)
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
                wait = getattr(exc, "retry_after", None) or timedelta(0)
        now = clock.now()
        with store.write() as session:
            alert = session.get_one(AlertRow, alert_id)
            alert.attempts += 1
            alert.claimed_until, alert.claimed_by = None, None
            if error is None:
                alert.status, alert.sent_at, alert.last_error = AlertStatus.SENT, now, None
                report.sent += 1
                # mention-to-alert latency: a spike alert is about no single mention
                published = message.published_at if isinstance(message, AlertMessage) else None
                metrics.record_alert(alert.channel, "sent", published, now)
                log.info("event=alert_sent alert=%d channel=%s task=%s", alert.id, alert.channel, alert.task_id)
                continue
            alert.last_error = error
            report.errors.append(f"alert {alert.id} via {alert.channel}: {error}")
            if alert.attempts >= settings.max_attempts:
                alert.status = AlertStatus.PARKED
                report.parked += 1
                metrics.record_alert(alert.channel, "parked")
                log.error("event=alert_parked alert=%d channel=%s attempts=%d error=%r",
                          alert.id, alert.channel, alert.attempts, error)
            else:
                alert.status = AlertStatus.PENDING
                alert.next_attempt_at = now + max(backoff(settings, alert.attempts), wait)
                report.failed += 1
                metrics.record_alert(alert.channel, "failed")
                log.warning("event=alert_failed alert=%d channel=%s attempts=%d retry_at=%s error=%r",
                            alert.id, alert.channel, alert.attempts, alert.next_attempt_at.isoformat(), error)
    return report


def retry_parked(session: Session, alert_id: int | None, now: datetime) -> int:
    """Put parked alerts (one, or all) back in the queue after the cause is fixed."""
    query = select(AlertRow).where(AlertRow.status == AlertStatus.PARKED)
    if alert_id is not None:
        query = query.where(AlertRow.id == alert_id)
    rows = list(session.scalars(query))
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = AlertStatus.PENDING, 0, now
    return len(rows)
