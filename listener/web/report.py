"""The response-time report: how fast the care team answered the tasks created in a period."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.store.models import TaskRow


@dataclass
class ResponseFigures:
    group: str  # a priority, or "all"
    tasks: int
    acknowledged: int
    responded: int
    dismissed: int
    open_now: int
    median_ack_s: float | None  # first reaction: acknowledged, or answered straight away
    median_response_s: float | None
    p90_response_s: float | None
    within_deadline: float | None  # share of responded tasks answered by their due time


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _p90(values: list[float]) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


def figures(group: str, tasks: list[TaskRow]) -> ResponseFigures:
    # Answering without acknowledging first counts as acknowledging then; false alarms do not count.
    reacted = [(t, t.acknowledged_at or t.responded_at) for t in tasks if t.status != "dismissed"]
    ack = [(at - t.created_at).total_seconds() for t, at in reacted if at]
    responded = [t for t in tasks if t.responded_at]
    response = [(t.responded_at - t.created_at).total_seconds() for t in responded if t.responded_at]
    in_time = [t for t in responded if t.due_at is None or (t.responded_at and t.responded_at <= t.due_at)]
    return ResponseFigures(
        group=group, tasks=len(tasks), acknowledged=sum(1 for t in tasks if t.acknowledged_at),
        responded=len(responded), dismissed=sum(1 for t in tasks if t.status == "dismissed"),
        open_now=sum(1 for t in tasks if t.status in ("open", "acknowledged", "responded")),
        median_ack_s=_median(ack), median_response_s=_median(response), p90_response_s=_p90(response),
        within_deadline=len(in_time) / len(responded) if responded else None)


def response_report(session: Session, now: datetime, days: int) -> list[ResponseFigures]:
    since = now - timedelta(days=days)
    tasks = list(session.scalars(select(TaskRow).where(TaskRow.created_at >= since)))
    groups = [figures("all", tasks)]
    for priority in sorted({t.priority for t in tasks}):
        groups.append(figures(priority, [t for t in tasks if t.priority == priority]))
    return groups
