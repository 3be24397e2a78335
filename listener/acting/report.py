"""Response-time figures for care leads: `listener report`, and any page that wants them (`response_report`).

First response is when a task was marked responded (or resolved without a separate response); dismissed tasks
are false alarms and have none; a task merged into another is answered there, so neither meets nor misses a
deadline. Business time uses the hours of the task's rule, calendar time the wall clock.
A task meets its deadline when its first response came by `due_at`; one still unanswered past `due_at` has missed it.
Per agent, a task counts for whoever answered, resolved or dismissed it first (its activity log,
listener/acting/actors.py), and while nobody has, for its assignee.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.actors import answered_by, credited
from listener.acting.rules import RuleSettings
from listener.domain import WAITING_STATES, TaskStatus
from listener.store.models import TaskRow

BACKLOG_BUCKETS = (("<1h", timedelta(hours=1)), ("1-4h", timedelta(hours=4)), ("4-24h", timedelta(days=1)),
                   ("1-3d", timedelta(days=3)), (">3d", timedelta.max))


@dataclass
class Spread:
    """Seconds; None when there is nothing to measure."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls()
        p90 = statistics.quantiles(values, n=10, method="inclusive")[8] if len(values) > 1 else values[0]
        return cls(len(values), statistics.median(values), p90)


@dataclass
class Figures:
    created: int = 0
    responded: int = 0
    dismissed: int = 0
    open: int = 0
    first_response_calendar: Spread = field(default_factory=Spread)
    first_response_business: Spread = field(default_factory=Spread)
    met_deadline: int = 0
    missed_deadline: int = 0

    @property
    def within_deadline(self) -> float | None:
        decided = self.met_deadline + self.missed_deadline
        return self.met_deadline / decided if decided else None

    @property
    def dismissed_share(self) -> float | None:
        return self.dismissed / self.created if self.created else None

    def as_dict(self) -> dict[str, object]:
        return asdict(self) | {"within_deadline": self.within_deadline, "dismissed_share": self.dismissed_share}


@dataclass
class ResponseReport:
    since: datetime | None
    until: datetime
    overall: Figures
    per_rule: dict[str, Figures]
    per_agent: dict[str, Figures]
    backlog_by_age: dict[str, int]  # tasks still waiting for a first response, whatever their creation time

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat() if self.since else None, "until": self.until.isoformat(),
            "overall": self.overall.as_dict(),
            "per_rule": {k: v.as_dict() for k, v in self.per_rule.items()},
            "per_agent": {k: v.as_dict() for k, v in self.per_agent.items()},
            "backlog_by_age": self.backlog_by_age,
        }


def first_response_at(task: TaskRow) -> datetime | None:
    if task.responded_at is not None:
        return task.responded_at
    return task.closed_at if task.status == TaskStatus.RESOLVED else None


def figures(tasks: list[TaskRow], rules: Mapping[str, RuleSettings], now: datetime) -> Figures:
    out = Figures(created=len(tasks))
    calendar_times: list[float] = []
    business_times: list[float] = []
    for task in tasks:
        answered = first_response_at(task)
        out.dismissed += task.status == TaskStatus.DISMISSED
        out.open += task.status in WAITING_STATES
        if answered is not None:
            out.responded += 1
            calendar_times.append((answered - task.created_at).total_seconds())
            rule = rules.get(task.rule)
            calendar = rule.task.calendar if rule else None
            business = calendar.between(task.created_at, answered) if calendar else answered - task.created_at
            business_times.append(business.total_seconds())
        # merged: answered in the other task
        if task.due_at is None or task.status in (TaskStatus.DISMISSED, TaskStatus.MERGED):
            continue
        if answered is not None:
            out.met_deadline += answered <= task.due_at
            out.missed_deadline += answered > task.due_at
        elif task.due_at < now:
            out.missed_deadline += 1
    out.first_response_calendar = Spread.of(calendar_times)
    out.first_response_business = Spread.of(business_times)
    return out


def backlog(session: Session, now: datetime) -> dict[str, int]:
    counts = dict.fromkeys((name for name, _ in BACKLOG_BUCKETS), 0)
    for created in session.scalars(select(TaskRow.created_at).where(TaskRow.status.in_(WAITING_STATES))):
        age = now - created
        counts[next(name for name, limit in BACKLOG_BUCKETS if age < limit)] += 1
    return counts


def response_report(session: Session, rules: list[RuleSettings], now: datetime,
                    since: datetime | None = None) -> ResponseReport:
    """Figures over the tasks created since `since` (all when None) up to `now`."""
    query = select(TaskRow).where(TaskRow.created_at <= now).order_by(TaskRow.id)
    if since is not None:
        query = query.where(TaskRow.created_at >= since)
    tasks = list(session.scalars(query))
    by_name = {rule.name: rule for rule in rules}
    per_rule: dict[str, list[TaskRow]] = {}
    per_agent: dict[str, list[TaskRow]] = {}
    answers = answered_by(session, now, since)  # the agent who answered is credited, not the assignee
    for task in tasks:
        per_rule.setdefault(task.rule, []).append(task)
        per_agent.setdefault(credited(task, answers), []).append(task)
    return ResponseReport(
        since=since, until=now, overall=figures(tasks, by_name, now),
        per_rule={name: figures(group, by_name, now) for name, group in sorted(per_rule.items())},
        per_agent={name: figures(group, by_name, now) for name, group in sorted(per_agent.items())},
        backlog_by_age=backlog(session, now),
    )
