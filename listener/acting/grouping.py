"""Alertmanager-style grouping: a burst of tasks with the same labels goes out as one message.

A rule with `group = { by = ["brand", "category"], wait = "2m", interval = "10m" }` puts each new task in the group
of its label values instead of queueing an alert of its own. The first task of a quiet group schedules a flush
`wait` later (so the burst gathers); a group that was flushed lately flushes again no sooner than `interval` after
the last one. A flush writes one outbox row per channel, keyed by (group, flush number, channel), in the same
transaction that marks the members announced: the outbox's guarantees hold for grouped messages as for single ones.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from listener.acting.rules import GroupLabel, RuleSettings
from listener.acting.silences import active_silences, silence_for_task
from listener.domain import OPEN_STATES, AlertStatus
from listener.store.models import AlertGroupMember, AlertGroupRow, AlertRow, TaskRow

log = logging.getLogger(__name__)

ANNOUNCED_STATES = OPEN_STATES  # closed before its flush: nobody needs telling
MUTED = 0  # flush_seq of members that were silenced or closed before their flush


def labels_for(by: list[GroupLabel], brands: list[str], categories: list[str], source: str, priority: str,
               rule: str) -> dict[str, str]:
    values = {"brand": ", ".join(sorted(brands)) or "no brand", "category": ", ".join(categories) or "general",
              "source": source, "priority": priority, "rule": rule}
    return {label: values[label] for label in by}


def add_to_group(session: Session, rule: RuleSettings, task: TaskRow, labels: dict[str, str],
                 now: datetime) -> AlertGroupRow:
    assert rule.group is not None
    key = "|".join(f"{k}={v}" for k, v in labels.items())
    query = select(AlertGroupRow).where(AlertGroupRow.rule == rule.name, AlertGroupRow.group_key == key)
    group = session.scalar(query)
    if group is None:
        try:
            with session.begin_nested():  # another scorer (PostgreSQL) may create the same group meanwhile
                group = AlertGroupRow(rule=rule.name, group_key=key, labels=labels, created_at=now, flushes=0)
                session.add(group)
        except IntegrityError:
            group = session.scalars(query).one()
    session.add(AlertGroupMember(task_id=task.id, group_id=group.id, added_at=now))
    if group.next_flush_at is None:
        flush_at = now + rule.group.wait
        if group.last_flush_at is not None:
            flush_at = max(flush_at, group.last_flush_at + rule.group.interval)
        group.next_flush_at = flush_at
    return group


def flush_due_groups(session: Session, rules: Mapping[str, RuleSettings], now: datetime) -> list[AlertRow]:
    """Queue one message per channel for every group whose flush time has come."""
    queued: list[AlertRow] = []
    silences = active_silences(session, now)
    groups = session.scalars(select(AlertGroupRow).where(AlertGroupRow.next_flush_at <= now)
                             .order_by(AlertGroupRow.next_flush_at, AlertGroupRow.id))
    for group in list(groups):
        members = list(session.scalars(select(AlertGroupMember).where(AlertGroupMember.group_id == group.id,
                                                                      AlertGroupMember.flush_seq.is_(None))))
        group.flushes += 1
        group.last_flush_at, group.next_flush_at = now, None
        announced = 0
        for member in members:
            task = member.task
            muted = task.status not in ANNOUNCED_STATES or silence_for_task(silences, task)
            member.flush_seq = MUTED if muted else group.flushes
            announced += not muted
        rule = rules.get(group.rule)
        if not announced or rule is None:  # a rule removed from the config has no channels left
            continue
        for channel in dict.fromkeys(rule.notify):
            row = AlertRow(idempotency_key=f"group-{group.id}-{group.flushes}-{channel}", kind="group",
                           group_id=group.id, group_seq=group.flushes, channel=channel, status=AlertStatus.PENDING,
                           attempts=0, created_at=now, next_attempt_at=now)
            session.add(row)
            queued.append(row)
        log.info("event=group_flushed group=%d rule=%s key=%r tasks=%d", group.id, group.rule, group.group_key,
                 announced)
    return queued


def group_tasks(session: Session, group_id: int, seq: int) -> list[TaskRow]:
    """The tasks one grouped message announces."""
    return list(session.scalars(select(TaskRow).join(AlertGroupMember, AlertGroupMember.task_id == TaskRow.id)
                                .where(AlertGroupMember.group_id == group_id, AlertGroupMember.flush_seq == seq)))
