"""Escalation (PagerDuty's name): an open task nobody has acknowledged by a step's time raises an escalation alert.

`escalate = [{ after = "due", notify = ["lead-mail"] }, { after = "due+1h", notify = ["oncall"] }]` on a rule;
offsets count business time when the rule has hours. Only tasks still `open` escalate: ack, respond, resolve or
dismiss stops the remaining steps. A step writes one outbox row per channel keyed by (task, step, channel), so a
step fires once however often the job runs, and its delivery has the outbox's guarantees.

Out of hours, `outside_hours = { notify = ["oncall"], priorities = ["P1"] }` pages its route when a task of those
priorities, created while the hours are closed, is still open `after` (default: first_response) in calendar time
and the hours have not opened yet.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from listener.acting.grouping import flush_due_groups
from listener.acting.rules import RuleSettings
from listener.acting.silences import active_silences, silence_for_task
from listener.acting.tasks import enqueue
from listener.clock import Clock
from listener.domain import TaskStatus
from listener.store.engine import Store
from listener.store.models import AlertRow, TaskRow

log = logging.getLogger(__name__)

OUTSIDE_HOURS = "outside-hours"


@dataclass
class EscalationReport:
    escalations: int = 0  # outbox rows queued for escalation steps
    grouped: int = 0  # outbox rows queued for grouped messages

    @property
    def queued(self) -> int:
        return self.escalations + self.grouped


def due_steps(rule: RuleSettings, task: TaskRow, now: datetime) -> list[tuple[str, list[str]]]:
    """(step name, channels) of every step whose time has come for this open task."""
    if task.due_at is None:
        return []
    steps = [(str(j + 1), step.notify) for j, step in enumerate(rule.escalate)
             if now >= rule.task.later(task.due_at, step.offset)]
    route, calendar = rule.outside_hours, rule.task.calendar
    if route and calendar and task.priority in route.priorities and not calendar.is_open(task.created_at):
        page_at = task.created_at + (route.after or rule.task.first_response)
        if page_at <= now < calendar.next_open(task.created_at):
            steps.append((OUTSIDE_HOURS, route.notify))
    return steps


def escalate_due(session: Session, rules: Mapping[str, RuleSettings], now: datetime) -> list[AlertRow]:
    tasks = list(session.scalars(select(TaskRow).where(TaskRow.status == TaskStatus.OPEN, TaskRow.due_at.is_not(None))))
    escalating = [t for t in tasks if (r := rules.get(t.rule)) and (r.escalate or r.outside_hours)]
    if not escalating:
        return []
    fired = {(task_id, step) for task_id, step in session.execute(
        select(AlertRow.task_id, AlertRow.step)
        .where(AlertRow.kind == "escalation", AlertRow.task_id.in_([t.id for t in escalating])))}
    silences = active_silences(session, now)
    queued: list[AlertRow] = []
    for task in escalating:
        rule = rules[task.rule]
        if silence_for_task(silences, task):
            continue  # muted while the silence lasts; escalates after it if still open
        for step, channels in due_steps(rule, task, now):
            if (task.id, step) in fired:
                continue
            queued += enqueue(session, task, channels, now, kind="escalation", step=step)
            log.warning("event=task_escalated task=%d rule=%s step=%s channels=%s",
                        task.id, rule.name, step, ",".join(channels))
    return queued


def run_escalations(store: Store, rules: list[RuleSettings], clock: Clock) -> EscalationReport:
    """The job the daemon schedules and `listener escalate` / `listener deliver` run: escalations and group
    flushes due now, each in one transaction with its outbox rows."""
    by_name = {rule.name: rule for rule in rules}
    report = EscalationReport()
    try:
        with store.write() as session:
            report.escalations = len(escalate_due(session, by_name, clock.now()))
        with store.write() as session:
            report.grouped = len(flush_due_groups(session, by_name, clock.now()))
    except IntegrityError:  # another daemon queued the same step or flush first: its rows stand, ours roll back
        log.info("event=escalation_raced; another process queued these alerts")
    return report
