"""What an outbox row says: the `AlertMessage` a channel renders, built from the row's task or group (or, for a
spike, the `Notice` rendered by listener/delivery/spike_message.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session

from listener.acting.grouping import group_tasks
from listener.acting.rules import URGENCY_RANK
from listener.delivery.channels.base import AlertMessage, Notice
from listener.delivery.locale import ENGLISH_UTC, AlertLocale
from listener.delivery.spike_message import spike_notice
from listener.store.models import AlertGroupRow, AlertRow, TaskRow


def task_message(task: TaskRow, idempotency_key: str, task_url: str | None,
                 locale: AlertLocale = ENGLISH_UTC) -> AlertMessage:
    mention = task.mention
    score = mention.score
    return AlertMessage(
        idempotency_key=idempotency_key,
        task_id=task.id,
        priority=task.priority,
        due_at=task.due_at,
        reasons=list(task.reasons),
        brands=mention.brand_names,
        source=mention.source.name,
        author=mention.author,
        url=mention.url,
        title=mention.title,
        text=mention.text,
        published_at=mention.published_at,
        sentiment=score.sentiment if score else "unknown",
        confidence=score.probabilities[score.sentiment] if score else 0.0,
        language=score.language if score else None,
        categories=list(score.categories) if score else [],
        task_url=task_url.replace("{id}", str(task.id)) if task_url else None,
        assignee=task.assignee,
        locale=locale,
    )


def escalation_text(step: str | None, due_at: datetime | None, locale: AlertLocale = ENGLISH_UTC) -> str:
    due = locale.t("due {when}", when=locale.when(due_at)) if due_at else locale.t("no deadline")
    if step == "outside-hours":
        return locale.t("not acknowledged outside business hours ({due})", due=due)
    return locale.t("escalation step {step}: not acknowledged ({due})", step=step, due=due)


def urgency(task: TaskRow) -> int:
    """The triage urgency of the task's mention: tasks of one rule share a priority but not an urgency."""
    score = task.mention.score
    return URGENCY_RANK.get(score.urgency if score else "none", 9)


def group_message(group: AlertGroupRow, tasks: list[TaskRow], idempotency_key: str,
                  task_url: str | None, locale: AlertLocale = ENGLISH_UTC) -> AlertMessage:
    ordered = sorted(tasks, key=lambda t: (URGENCY_RANK.get(t.priority, 9), urgency(t), t.due_at or t.created_at,
                                           t.id))
    items = [task_message(t, f"{idempotency_key}-task-{t.id}", task_url, locale) for t in ordered]
    n = len(items)
    labels = " · ".join(locale.category(str(v)) for v in group.labels.values())
    headline = locale.t("{n} new complaint about {labels}" if n == 1 else "{n} new complaints about {labels}",
                        n=n, labels=labels)
    lead = items[0]
    return AlertMessage(
        idempotency_key=idempotency_key, task_id=None, priority=lead.priority, due_at=lead.due_at,
        reasons=[f"rule {group.rule}"], brands=sorted({b for i in items for b in i.brands}),
        source=", ".join(sorted({i.source for i in items})), author=None, url=None, title=headline, text=headline,
        published_at=max((i.published_at for i in items if i.published_at), default=None),
        sentiment=lead.sentiment, confidence=lead.confidence, language=None,
        categories=sorted({c for i in items for c in i.categories}), kind="group", headline=headline, items=items,
        locale=locale,
    )


def message_for(session: Session, alert: AlertRow, task_url: str | None = None,
                locale: AlertLocale = ENGLISH_UTC) -> AlertMessage | Notice:
    if alert.spike is not None:
        return spike_notice(session, alert.spike, alert.idempotency_key)
    if alert.kind == "group" and alert.group_id is not None and alert.group_seq is not None:
        group = session.get_one(AlertGroupRow, alert.group_id)
        return group_message(group, group_tasks(session, group.id, alert.group_seq), alert.idempotency_key,
                             task_url, locale)
    if alert.task is None:
        raise ValueError(f"alert {alert.id} has neither a task nor a group")
    message = task_message(alert.task, alert.idempotency_key, task_url, locale)
    if alert.kind == "escalation":
        message = replace(message, kind="escalation",
                          escalation=escalation_text(alert.step, alert.task.due_at, locale))
    return message
