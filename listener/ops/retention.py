"""Retention: mentions are kept for as long as `[retention]` says, then deleted in small transactions.

Three kinds, oldest first by the time listener stored them (`fetched_at`):
  * `neutral`      — scored neutral and never turned into a task (default 90 days);
  * `other`        — every other mention without a task: positive, negative, unscored (default 400 days);
  * `closed_tasks` — a resolved, dismissed or merged task, its outbox rows, its mention and the follow-ups that
                     joined it, that long after it was closed (default 30 days). Mentions with an open task (their
                     own, or one they joined as a follow-up: listener/contacts) are never deleted.
A mention goes with everything that hangs off it: brands, score, label, near-duplicate keys, task and outbox
rows, its link to its author's identity (and the identity, with its handle and profile, once it has no mention
left); copies that pointed at it as their canonical mention become canonical themselves.

What remains: before a batch is deleted its mentions are added to `mention_daily_counts` (day, brand, sentiment:
how many, how many negative service experiences), which holds no text, author or link — long-range volume and
sentiment trends survive the mentions. The weekly digest compares this week with the last one, well inside
every default period.

Each batch (`batch`, default 500 mentions) is its own short transaction: the daemon, the care inbox and other
nodes never wait on a long lock, and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from listener.contacts.forget import forget_mentions
from listener.contacts.models import TaskFollowUp
from listener.domain import CLOSED_STATES
from listener.ops.settings import RetentionSettings
from listener.periodic import PeriodicJob
from listener.store.engine import Store
from listener.store.models import (
    AlertRow,
    MentionBrand,
    MentionDailyCount,
    MentionLabel,
    MentionRow,
    NearDupKey,
    ScoreRow,
    TaskRow,
)

log = logging.getLogger(__name__)



@dataclass
class RetentionReport:
    dry_run: bool = False
    mentions: Counter[str] = field(default_factory=Counter)  # by kind
    tasks: int = 0
    alerts: int = 0

    @property
    def total(self) -> int:
        return sum(self.mentions.values())


def _no_task() -> ColumnElement[bool]:
    """Neither a task of its own nor a follow-up of one."""
    return ~exists().where(TaskRow.mention_id == MentionRow.id) & \
        ~exists().where(TaskFollowUp.mention_id == MentionRow.id)


def selectors(settings: RetentionSettings, now: datetime) -> dict[str, Select[int]]:
    """Ids of the mentions each kind removes now (disjoint, in the order they run)."""
    neutral = (
        select(MentionRow.id).join(ScoreRow)
        .where(ScoreRow.sentiment == "neutral", MentionRow.fetched_at < now - settings.neutral, _no_task())
    )
    other = select(MentionRow.id).where(MentionRow.fetched_at < now - settings.other, _no_task(),
                                        MentionRow.id.not_in(neutral))
    closed_long_ago = and_(TaskRow.status.in_(CLOSED_STATES), TaskRow.closed_at < now - settings.closed_tasks)
    following = select(TaskFollowUp.mention_id).join(TaskRow, TaskRow.id == TaskFollowUp.task_id)
    # A follow-up goes with the task it joined; a merged task's mention is a follow-up of the task it went into.
    closed = select(MentionRow.id).where(
        MentionRow.id.in_(select(TaskRow.mention_id).where(closed_long_ago).union(following.where(closed_long_ago))),
        MentionRow.id.not_in(following.where(~closed_long_ago)))
    return {"neutral": neutral, "other": other, "closed_tasks": closed}


def _count_removed(session: Session, ids: list[int]) -> None:
    """Add the mentions about to go to the per-day counts that outlive them."""
    rows = session.execute(
        select(MentionRow.published_at, MentionRow.fetched_at, MentionBrand.brand, ScoreRow.sentiment,
               ScoreRow.negative_service)
        .join(MentionBrand).outerjoin(ScoreRow).where(MentionRow.id.in_(ids))
    )
    counts: Counter[tuple[object, str, str]] = Counter()
    flagged: Counter[tuple[object, str, str]] = Counter()
    for published, fetched, brand, sentiment, negative_service in rows:
        key = ((published or fetched).date(), brand, sentiment or "unscored")
        counts[key] += 1
        flagged[key] += int(bool(negative_service))
    for (day, brand, sentiment), n in counts.items():
        row = session.get(MentionDailyCount, (day, brand, sentiment))
        if row is None:
            session.add(MentionDailyCount(day=day, brand=brand, sentiment=sentiment, mentions=n,
                                          negative_service=flagged[(day, brand, sentiment)]))
        else:
            row.mentions += n
            row.negative_service += flagged[(day, brand, sentiment)]
    session.flush()


def delete_mentions(session: Session, ids: list[int], now: datetime) -> tuple[int, int]:
    """Delete mentions and every row that hangs off them; returns (tasks, alerts) deleted with them."""
    forget_mentions(session, ids, now, clear_link_reasons=False)  # and identities left without any
    session.execute(update(MentionRow).where(MentionRow.canonical_id.in_(ids), MentionRow.id.not_in(ids))
                    .values(canonical_id=None), execution_options={"synchronize_session": False})
    tasks_of = select(TaskRow.id).where(TaskRow.mention_id.in_(ids))
    alerts = session.execute(delete(AlertRow).where(  # type: ignore[attr-defined]
        or_(AlertRow.mention_id.in_(ids), AlertRow.task_id.in_(tasks_of)))).rowcount
    tasks = session.execute(delete(TaskRow).where(TaskRow.mention_id.in_(ids))).rowcount  # type: ignore[attr-defined]
    for model in (ScoreRow, MentionLabel, NearDupKey, MentionBrand):
        session.execute(delete(model).where(model.mention_id.in_(ids)))
    session.execute(delete(MentionRow).where(MentionRow.id.in_(ids)), execution_options={"synchronize_session": False})
    return int(tasks), int(alerts)


def run_retention(store: Store, settings: RetentionSettings, now: datetime, dry_run: bool = False) -> RetentionReport:
    """Apply `[retention]` as of `now`; with `dry_run`, only count what would go."""
    report = RetentionReport(dry_run=dry_run)
    for kind, query in selectors(settings, now).items():
        if dry_run:
            with store.read() as session:
                ids = list(session.scalars(query))
                report.mentions[kind] = len(ids)
                if ids:
                    report.tasks += len(list(session.scalars(select(TaskRow.id).where(TaskRow.mention_id.in_(ids)))))
                    report.alerts += len(list(session.scalars(
                        select(AlertRow.id).where(AlertRow.mention_id.in_(ids)))))
            continue
        while True:
            with store.write() as session:  # one short transaction per batch
                ids = list(session.scalars(query.limit(settings.batch)))
                if not ids:
                    break
                _count_removed(session, ids)
                tasks, alerts = delete_mentions(session, ids, now)
            report.mentions[kind] += len(ids)
            report.tasks += tasks
            report.alerts += alerts
    log.info("event=retention dry_run=%s neutral=%d other=%d closed_tasks=%d tasks=%d alerts=%d", dry_run,
             report.mentions["neutral"], report.mentions["other"], report.mentions["closed_tasks"], report.tasks,
             report.alerts)
    return report


def periodic_jobs(settings: Any) -> list[PeriodicJob]:
    """The daily run, for the daemon's periodic job registry (listener/periodic.py)."""
    if not settings.retention.enabled:
        return []

    def run(app: Any) -> None:
        run_retention(app.store, app.settings.retention, app.clock.now())

    return [PeriodicJob("retention", settings.retention.cron, run)]
