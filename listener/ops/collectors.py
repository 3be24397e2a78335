"""Gauges read from the database when /metrics is scraped: backlog, overdue tasks, queued alerts, source health.

Computed at scrape time rather than kept in process memory, so they are right after a restart, count the
work of every process sharing the database, and need no call from the stages.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from listener.clock import Clock
from listener.domain import OPEN_STATES, AlertStatus, TaskStatus
from listener.pipeline import MAX_SCORE_ATTEMPTS
from listener.store.engine import Store
from listener.store.models import AlertRow, MentionRow, ScoreRow, SourceHealth, SourceRow, TaskRow

log = logging.getLogger(__name__)


class DatabaseCollector(Collector):
    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("listener_database_up", "1 when the database answered this scrape's queries")
        try:
            families = list(self._families())
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even with the database down
            log.warning("event=metrics_database_unavailable error=%s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock.now()
        with self.store.read() as session:
            unscored = session.scalar(
                select(func.count(MentionRow.id)).outerjoin(ScoreRow)
                .where(ScoreRow.id.is_(None), MentionRow.score_attempts < MAX_SCORE_ATTEMPTS))
            parked = session.scalar(
                select(func.count(MentionRow.id)).outerjoin(ScoreRow)
                .where(ScoreRow.id.is_(None), MentionRow.score_attempts >= MAX_SCORE_ATTEMPTS))
            open_tasks = session.execute(
                select(TaskRow.priority, func.count()).where(TaskRow.status.in_(OPEN_STATES))
                .group_by(TaskRow.priority)).all()
            overdue = session.execute(
                select(TaskRow.priority, func.count()).where(TaskRow.status == TaskStatus.OPEN, TaskRow.due_at < now)
                .group_by(TaskRow.priority)).all()
            queued = session.execute(
                select(AlertRow.channel, AlertRow.status, func.count()).where(AlertRow.status != AlertStatus.SENT)
                .group_by(AlertRow.channel, AlertRow.status)).all()
            sources = session.execute(
                select(SourceRow.name, SourceHealth.consecutive_failures, SourceHealth.next_attempt_at,
                       SourceHealth.last_success_at, SourceHealth.failing_targets).join(SourceHealth)).all()

        yield _gauge("listener_mentions_unscored", "Mentions waiting to be scored (the scoring backlog)", [],
                     [([], unscored or 0)])
        yield _gauge("listener_mentions_score_parked", "Mentions the model failed on 3 times (score --retry-failed)",
                     [], [([], parked or 0)])
        yield _gauge("listener_tasks_open", "Tasks not yet resolved or dismissed", ["priority"],
                     [([p], n) for p, n in open_tasks])
        yield _gauge("listener_tasks_overdue", "Open tasks past their first-response deadline", ["priority"],
                     [([p], n) for p, n in overdue])
        yield _gauge("listener_alerts_queued", "Outbox rows not sent, by status (pending, sending, parked)",
                     ["channel", "status"], [([c, s], n) for c, s, n in queued])
        yield _gauge("listener_source_consecutive_failures", "Failed polls in a row", ["source"],
                     [([name], failures) for name, failures, _, _, _ in sources])
        yield _gauge("listener_source_failing_targets", "Targets of a source (pages, feeds, queries) failing while "
                     "the others poll", ["source"], [([name], len(targets or {})) for name, *_, targets in sources])
        yield _gauge("listener_source_backoff_seconds", "How long a failing source waits before its next poll",
                     ["source"], [([name], max(0.0, (nxt - now).total_seconds()) if nxt else 0.0)
                                  for name, _, nxt, _, _ in sources])
        yield _gauge("listener_source_last_success_timestamp_seconds", "Unix time of the last successful poll",
                     ["source"], [([name], ok.timestamp()) for name, _, _, ok, _ in sources if ok])


def _gauge(name: str, documentation: str, labels: list[str],
           samples: list[tuple[list[str], float]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family
