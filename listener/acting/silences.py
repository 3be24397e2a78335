"""Silences (Alertmanager's name): for a while, tasks matching brand/category/rule raise no alerts.

Tasks are still created, so the queue stays complete; only the announcements (first alert, grouped messages,
escalations) are muted. A silence is checked whenever an announcement would be queued.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import SilenceRow, TaskRow


class SilenceError(Exception):
    pass


def add_silence(session: Session, now: datetime, duration: timedelta, brand: str | None = None,
                category: str | None = None, rule: str | None = None, note: str | None = None,
                created_by: str | None = None) -> SilenceRow:
    if not (brand or category or rule):
        raise SilenceError("a silence needs at least one of --brand, --category, --rule (it would mute everything)")
    if duration <= timedelta(0):
        raise SilenceError("a silence needs a positive duration (--for 2h)")
    row = SilenceRow(brand=brand, category=category, rule=rule, starts_at=now, ends_at=now + duration, note=note,
                     created_by=created_by, created_at=now)
    session.add(row)
    session.flush()
    return row


def active_silences(session: Session, now: datetime) -> list[SilenceRow]:
    return list(session.scalars(select(SilenceRow).where(SilenceRow.starts_at <= now, SilenceRow.ends_at > now)
                                .order_by(SilenceRow.id)))


def expire_silence(session: Session, silence_id: int, now: datetime) -> SilenceRow:
    """`silence remove`: ends it now (kept for the record, like Alertmanager's expired silences)."""
    row = session.get(SilenceRow, silence_id)
    if row is None:
        raise SilenceError(f"no silence #{silence_id}")
    if row.ends_at > now:
        row.ends_at = now
    return row


def silence_for(silences: list[SilenceRow], brands: list[str], categories: list[str], rule: str) -> SilenceRow | None:
    """The first silence whose every given matcher fits the task."""
    for silence in silences:
        if silence.brand and silence.brand not in brands:
            continue
        if silence.category and silence.category not in categories:
            continue
        if silence.rule and silence.rule != rule:
            continue
        return silence
    return None


def silence_for_task(silences: list[SilenceRow], task: TaskRow) -> SilenceRow | None:
    """The first of `silences` (active_silences, read once per pass over many tasks) that mutes `task`."""
    score = task.mention.score
    return silence_for(silences, task.mention.brand_names, list(score.categories) if score else [], task.rule)
