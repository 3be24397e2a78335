"""Follow-up tasks: created by rules (with a first-response deadline) and moved along by the care team.

Workflow: open → acknowledged → responded → resolved, or dismissed (a false alarm) from any open state; a resolved
or dismissed task can be reopened (the customer wrote again, or the dismissal was a mistake).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.backfill import fresh_rules
from listener.acting.grouping import add_to_group, labels_for
from listener.acting.joining import join_open_task
from listener.acting.rules import URGENCY_RANK, Facts, RuleSettings, matching_rules
from listener.acting.silences import active_silences, silence_for
from listener.contacts.hooks import FollowUp
from listener.domain import CLOSED_STATES, OPEN_STATES, WAITING_STATES, AlertStatus, TaskStatus
from listener.store.models import AlertRow, MentionRow, TaskRow

log = logging.getLogger(__name__)

TRANSITIONS = {
    "ack": ({TaskStatus.OPEN}, TaskStatus.ACKNOWLEDGED, "acknowledged_at"),
    "respond": (set(WAITING_STATES), TaskStatus.RESPONDED, "responded_at"),
    "resolve": (set(OPEN_STATES), TaskStatus.RESOLVED, "closed_at"),
    "dismiss": (set(OPEN_STATES), TaskStatus.DISMISSED, "closed_at"),
}


class TaskError(Exception):
    pass


@dataclass(frozen=True)
class Action:
    task: TaskRow
    alerts: list[AlertRow]
    follow_up: FollowUp | None = None  # the mention joined this open task of its contact instead of opening one


def act(session: Session, mention: MentionRow, facts: Facts, rules: list[RuleSettings], now: datetime) -> Action | None:
    """Apply the rules to one triaged mention: at most one task per mention, outbox rows for its channels.

    Runs inside the caller's transaction, the same one that stores the score and triage result.
    Copies of a story already seen (near-duplicates) never raise a second task. A mention whose contact has an open
    task active within the rule's `task.join` window joins it as a follow-up (listener/acting/joining.py). A
    silenced task raises no alert; a rule with `group` puts the task in its group (announced by
    `grouping.flush_due_groups`) instead.
    """
    if mention.canonical_id is not None:
        return None
    matched = fresh_rules(matching_rules(rules, facts), mention)  # old posts page nobody (backfill.py)
    if not matched:
        return None
    if session.scalar(select(TaskRow.id).where(TaskRow.mention_id == mention.id)) is not None:
        return None
    lead = min(matched, key=lambda r: (URGENCY_RANK[r.task.priority], r.task.first_response))
    reasons = list(facts.triage.reasons) + [f"rule {', '.join(r.name for r in matched)}"]
    follow_up = join_open_task(session, mention, lead.name, lead.task.priority, lead.task.join,
                               lead.task.deadline(now), OPEN_STATES, now)
    if follow_up is not None:
        return Action(follow_up.task, [], follow_up)
    task = TaskRow(
        mention_id=mention.id,
        rule=lead.name,
        status=TaskStatus.OPEN,
        priority=lead.task.priority,
        reasons=reasons,
        created_at=now,
        due_at=lead.task.deadline(now),
        assignee=next_agent(session, lead),
    )
    session.add(task)
    session.flush()
    categories = list(facts.score.categories)
    silence = silence_for(active_silences(session, now), facts.brands, categories, lead.name)
    if silence is not None:
        task.silenced_by = silence.id
        log.info("event=task_silenced task=%d silence=%d", task.id, silence.id)
        return Action(task, [])
    channels: list[str] = []
    for rule in matched:
        if rule.group is None:
            channels += rule.notify
        else:
            labels = labels_for(rule.group.by, facts.brands, categories, facts.source, task.priority, rule.name)
            add_to_group(session, rule, task, labels, now)
    return Action(task, enqueue(session, task, channels, now))


def next_agent(session: Session, rule: RuleSettings) -> str | None:
    """Round-robin among the rule's agents: the one after whoever got this rule's last assigned task."""
    if not rule.agents:
        return None
    last = session.scalar(select(TaskRow.assignee).where(TaskRow.rule == rule.name,
                                                         TaskRow.assignee.in_(rule.agents))
                          .order_by(TaskRow.id.desc()).limit(1))
    return rule.agents[(rule.agents.index(last) + 1) % len(rule.agents)] if last else rule.agents[0]


def assign(session: Session, task_id: int, assignee: str | None) -> TaskRow:
    task = session.get(TaskRow, task_id)
    if task is None:
        raise TaskError(f"no task #{task_id}")
    task.assignee = assignee.strip() or None if assignee else None
    return task


def transition(session: Session, task_id: int, action: str, now: datetime, note: str | None = None) -> TaskRow:
    task = session.get(TaskRow, task_id)
    if task is None:
        raise TaskError(f"no task #{task_id}")
    allowed_from, new_status, stamp = TRANSITIONS[action]
    if task.status not in allowed_from:
        raise TaskError(f"task #{task_id} is {task.status}; cannot {action} it")
    task.status = new_status
    setattr(task, stamp, now)
    if new_status in CLOSED_STATES and task.acknowledged_at is None:
        task.acknowledged_at = now
    if note:
        task.note = note
    return task


def reopen(session: Session, task_id: int, now: datetime) -> TaskRow:
    """A resolved or dismissed task back in the queue: responded if it had its first response, else acknowledged
    (and overdue at once when its deadline has passed, as it should be). A merged task stays merged."""
    task = session.get(TaskRow, task_id)
    if task is None:
        raise TaskError(f"no task #{task_id}")
    if task.status not in (TaskStatus.RESOLVED, TaskStatus.DISMISSED):
        raise TaskError(f"task #{task_id} is {task.status}; cannot reopen it")
    task.status = TaskStatus.RESPONDED if task.responded_at is not None else TaskStatus.ACKNOWLEDGED
    task.closed_at = None
    return task


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
            status=AlertStatus.PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for channel in dict.fromkeys(channels)
    ]
    session.add_all(rows)
    return rows
