"""What the task page shows: the mention, why it was flagged, copies, the author's contact history, the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.alerts.activity import events
from listener.alerts.rules import RuleSettings
from listener.store.models import (
    MentionRow,
    ReplyTemplate,
    TaskEvent,
    TaskRow,
    UserRow,
)

HISTORY_LIMIT = 30


@dataclass
class Contact:
    """One earlier (or later) mention by the same author, with its task's outcome and the team's label."""

    mention: MentionRow
    task: TaskRow | None
    same_platform: bool


@dataclass
class TaskView:
    task: TaskRow
    mention: MentionRow
    assignee: str | None
    copies: list[MentionRow]
    history: list[Contact]
    log: list[TaskEvent]
    templates: list[ReplyTemplate]
    assignable: list[str]


def copies_of(session: Session, mention: MentionRow) -> list[MentionRow]:
    """The near-duplicates linked to this mention, or its canonical copy and that one's other copies."""
    root = mention.canonical_id or mention.id
    query = select(MentionRow).where(MentionRow.canonical_id == root, MentionRow.id != mention.id)
    copies = list(session.scalars(query.order_by(MentionRow.id).limit(50)))
    canonical = session.get(MentionRow, mention.canonical_id) if mention.canonical_id else None
    return ([canonical] if canonical else []) + copies


def contact_history(session: Session, mention: MentionRow) -> list[Contact]:
    """The same author's other mentions: on this platform (same source kind), and elsewhere where the handle
    is the same; newest first, each with its task and outcome."""
    if not mention.author:
        return []
    query = (select(MentionRow).where(MentionRow.author == mention.author, MentionRow.id != mention.id)
             .order_by(MentionRow.published_at.desc(), MentionRow.id.desc()).limit(HISTORY_LIMIT))
    others = list(session.scalars(query))
    tasks = {t.mention_id: t for t in session.scalars(
        select(TaskRow).where(TaskRow.mention_id.in_([m.id for m in others])))} if others else {}
    contacts = [Contact(m, tasks.get(m.id), m.source_kind == mention.source_kind) for m in others]
    return sorted(contacts, key=lambda c: not c.same_platform)  # stable: newest first within each group


def reply_templates(session: Session, mention: MentionRow) -> list[ReplyTemplate]:
    score = mention.score
    categories = list(score.categories) if score else []
    language = score.language if score else None
    query = select(ReplyTemplate).where(ReplyTemplate.category.in_(["", *categories]))
    if language:
        query = query.where(ReplyTemplate.language == language)
    return sorted(session.scalars(query), key=lambda t: (t.category == "", t.name))


def task_view(session: Session, task_id: int) -> TaskView | None:
    task = session.get(TaskRow, task_id)
    if task is None:
        return None
    mention = task.mention
    assignable = list(session.scalars(select(UserRow.name).where(UserRow.disabled.is_(False),
                                                                 UserRow.role.in_(["agent", "lead"]))
                                      .order_by(UserRow.name)))
    return TaskView(task, mention, task.assignee, copies_of(session, mention),
                    contact_history(session, mention), events(session, task_id), reply_templates(session, mention),
                    assignable)


def business_time_left(task: TaskRow, rules: list[RuleSettings], now: datetime) -> float | None:
    """Business time until the deadline when the task's rule counts business hours (None otherwise, or once
    answered/overdue: then the clock time says it all)."""
    rule = next((r for r in rules if r.name == task.rule), None)
    calendar = rule.task.calendar if rule else None
    if calendar is None or task.due_at is None or task.due_at <= now or task.status not in ("open", "acknowledged"):
        return None
    return calendar.between(now, task.due_at).total_seconds()


def time_left(task: TaskRow, now: datetime) -> float | None:
    """Seconds until the first-response deadline (negative: overdue); None once answered or closed."""
    if task.due_at is None or task.status not in ("open", "acknowledged"):
        return None
    return (task.due_at - now).total_seconds()
