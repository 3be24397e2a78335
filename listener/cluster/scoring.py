"""Scoring on several nodes: each batch of unscored mentions is claimed with FOR UPDATE SKIP LOCKED.

The claim, the model run and the stored scores (with triage, tasks and outbox rows) are one transaction: a node
that dies mid-batch loses its connection, PostgreSQL rolls the transaction back and releases the row locks at
once, and the next node's claim takes the mentions. Two nodes never score the same mention: each skips the rows
the other holds. The transaction stays open while the model runs (a second or two per batch); it holds row locks
on those mentions only, so polls and the care inbox go on.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import ColumnElement, exists, func, select

from listener.app import App
from listener.ops import metrics
from listener.pipeline import (
    MAX_SCORE_ATTEMPTS,
    ScoreReport,
    _score_isolating_failures,
    record_scores,
    to_mention,
)
from listener.store.models import MentionRow, ScoreRow

log = logging.getLogger(__name__)


def _unscored() -> list[ColumnElement[bool]]:
    return [~exists().where(ScoreRow.mention_id == MentionRow.id), MentionRow.score_attempts < MAX_SCORE_ATTEMPTS]


def unscored_backlog(app: App, cap: int) -> int:
    """How many mentions wait for a score, counted up to `cap` (enough to decide how many nodes to wake)."""
    waiting = select(MentionRow.id).where(*_unscored()).limit(cap).subquery()
    with app.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(waiting)) or 0)


def score_claimed(app: App, max_batches: int | None = None) -> ScoreReport:
    """Claim batches of unscored mentions nobody else holds and score them, until none is left."""
    report = ScoreReport()
    failed_now: set[int] = set()
    batches = 0
    while max_batches is None or batches < max_batches:
        with app.store.write() as session:
            rows = list(session.scalars(
                select(MentionRow).where(*_unscored(), MentionRow.id.not_in(failed_now))
                .order_by(MentionRow.id).limit(app.settings.daemon.score_batch)
                .with_for_update(skip_locked=True, of=MentionRow)
            ))
            if not rows:
                return report
            # A node that committed scores for some of these just before our lock: a fresh statement sees them.
            ids = [r.id for r in rows]
            done = set(session.scalars(select(ScoreRow.mention_id).where(ScoreRow.mention_id.in_(ids))))
            rows = [r for r in rows if r.id not in done]
            if not rows:
                continue
            mentions = [to_mention(r) for r in rows]
            started = time.perf_counter()
            scores, errors = _score_isolating_failures(app.scorer, mentions)
            model_seconds = time.perf_counter() - started
            sentiments = record_scores(session, rows, mentions, scores, errors, app.settings.rule, app.clock.now(),
                                       report, failed_now)
        metrics.record_scoring(model_seconds, len(rows), sentiments, len(errors))
        batches += 1
        log.info("event=scored mentions=%d tasks=%d", len(rows), report.tasks)
    return report
