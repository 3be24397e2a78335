"""What the helpdesk says flows back to the task: an agent's first public answer there makes the task responded (at
that answer's time), a solved or closed ticket resolves it.

Read by a periodic job for each helpdesk channel — only hand-offs still open whose task is open, in as few calls as
the helpdesk's API allows (listener/delivery/helpdesk/*.py `states`) — and for single tickets when a webhook rings
(delivery/helpdesk/webhooks.py). Both end in `apply`, which writes the task's transition and its activity-log row
through listener/acting/activity.py, as an agent's click would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from listener.acting.activity import perform, record
from listener.acting.tasks import OPEN_STATES
from listener.delivery.helpdesk.driver import Watch
from listener.delivery.helpdesk.handoff import UNEXPECTED, HelpdeskChannel
from listener.delivery.helpdesk.model import HelpdeskError, ReplayedWebhook, TicketState
from listener.store.models import HandoffRow, TaskRow, WebhookDeliveryRow

log = logging.getLogger(__name__)
OVERLAP = timedelta(minutes=2)  # read back a little before the last read: clocks and indexes lag
KEEP_DELIVERIES = timedelta(days=7)  # webhook delivery ids remembered this long (Zammad retries for minutes)


@dataclass
class ReadBack:
    checked: int = 0
    responded: list[int] = field(default_factory=list)  # task ids
    resolved: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    error: str | None = None


def apply(session: Session, channel: HelpdeskChannel, row: HandoffRow, state: TicketState, now: datetime,
          report: ReadBack) -> None:
    """Write what the helpdesk says about `row`'s ticket to the hand-off and its task."""
    row.checked_at, row.helpdesk_status = now, state.status[:50]
    task = session.get_one(TaskRow, row.task_id, with_for_update=True)  # a webhook and the job may race
    where = f"{channel.label} ticket {row.ticket_id}"
    if state.gone:
        row.state, row.last_error = "gone", f"{where} was deleted"
        record(session, task.id, channel.name, "note", f"{where} was deleted in {channel.label}", now)
        report.gone.append(task.id)
        log.warning("event=helpdesk_ticket_gone channel=%s task=%d ticket=%s", channel.name, task.id, row.ticket_id)
        return
    if state.responded_at is not None and row.responded_at is None:
        row.responded_at = min(state.responded_at, now)
        if task.status in ("open", "acknowledged"):
            perform(session, task.id, "respond", channel.name, row.responded_at, f"answered publicly in {where}")
            report.responded.append(task.id)
            log.info("event=helpdesk_task_responded channel=%s task=%d ticket=%s", channel.name, task.id,
                     row.ticket_id)
    if state.closed and row.state != "closed":
        row.state, row.closed_at = "closed", min(state.closed_at or now, now)
        if task.status in OPEN_STATES:
            perform(session, task.id, "resolve", channel.name, row.closed_at, f"{where} is {state.status}")
            report.resolved.append(task.id)
            log.info("event=helpdesk_task_resolved channel=%s task=%d ticket=%s", channel.name, task.id,
                     row.ticket_id)


def seen(session: Session, channel: str, delivery_id: str) -> bool:
    return session.get(WebhookDeliveryRow, (channel, delivery_id[:200])) is not None


def remember(session: Session, channel: str, delivery_id: str, now: datetime) -> None:
    """Record a webhook delivery; one already recorded (a replay, or a retry racing us) raises ReplayedWebhook."""
    if seen(session, channel, delivery_id):
        raise ReplayedWebhook(f"delivery {delivery_id!r} was handled already")
    session.add(WebhookDeliveryRow(channel=channel, delivery_id=delivery_id[:200], received_at=now))
    try:
        session.flush()
    except IntegrityError:
        raise ReplayedWebhook(f"delivery {delivery_id!r} is being handled already") from None


def _watched(session: Session, channel: str, ticket_ids: list[str] | None = None,
             lock: bool = False) -> list[HandoffRow]:
    """Open hand-offs of open tasks (a task closed in listener needs nothing from its ticket any more)."""
    query = (select(HandoffRow).join(TaskRow, TaskRow.id == HandoffRow.task_id)
             .where(HandoffRow.channel == channel, HandoffRow.state == "open", HandoffRow.ticket_id.is_not(None),
                    TaskRow.status.in_(OPEN_STATES)).order_by(HandoffRow.id))
    if ticket_ids is not None:
        query = query.where(HandoffRow.ticket_id.in_(ticket_ids))
    if lock:  # PostgreSQL: a concurrent read-back waits, then sees what this one wrote (SQLite writes one at a time)
        query = query.with_for_update(of=HandoffRow)
    return list(session.scalars(query))


def read_back(channel: HelpdeskChannel, ticket_ids: list[str] | None = None, incremental: bool = True,
              delivery_id: str | None = None) -> ReadBack:
    """Read the state of the channel's open hand-offs (all, or those of `ticket_ids`) and apply it.
    `incremental`: the helpdesk may skip tickets unchanged since they were last read. `delivery_id`: the webhook
    delivery that asked, remembered in the transaction that applies what it brought (ReplayedWebhook if seen)."""
    report = ReadBack()
    with channel.store.read() as session:
        rows = _watched(session, channel.name, ticket_ids)
        watches = [Watch(r.ticket_id or "", r.requester_ref, r.responded_at is not None) for r in rows]
        since = min((r.checked_at or r.created_at for r in rows), default=None)
    if not rows:
        return report
    try:
        with channel.api() as api:
            states = channel.driver.states(api, watches, since - OVERLAP if since and incremental else None)
    except (HelpdeskError, *UNEXPECTED) as exc:
        report.error = str(exc)
        log.warning("event=helpdesk_read_back_failed channel=%s error=%r", channel.name, str(exc))
        return report
    now = channel.clock.now()
    with channel.store.write() as session:
        if delivery_id is not None:
            remember(session, channel.name, delivery_id, now)
        for row in _watched(session, channel.name, [w.ticket_id for w in watches], lock=True):
            state = states.get(row.ticket_id or "")
            if state is None:  # unchanged since it was last read
                row.checked_at = now
            else:
                apply(session, channel, row, state, now, report)
            report.checked += 1
        session.query(WebhookDeliveryRow).filter(WebhookDeliveryRow.channel == channel.name,
                                                 WebhookDeliveryRow.received_at < now - KEEP_DELIVERIES).delete()
    log.info("event=helpdesk_read_back channel=%s checked=%d responded=%d resolved=%d", channel.name,
             report.checked, len(report.responded), len(report.resolved))
    return report
