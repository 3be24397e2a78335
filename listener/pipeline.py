"""The stages of the flow as plain functions: poll (source → match → dedup → store) and score
(score → triage → act). The daemon schedules them; the CLI runs one pass of each.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from listener import metrics
from listener.acting.backfill import kept_quiet
from listener.acting.rules import Facts, RuleSettings
from listener.acting.tasks import act
from listener.clock import Clock
from listener.contacts.ingest import link_mention
from listener.dedup import canonical_for, known_external_ids, mention_text
from listener.domain import Batch, Mention
from listener.matching import BrandMatcher
from listener.nlp.scoring import Score, Scorer
from listener.nlp.triage import triage
from listener.replies.own import own_accounts, own_posts
from listener.sources.kit import Source, SourceError, describe
from listener.store.engine import Store
from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceHealth, SourceRow

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)


# ----------------------------------------------------------------------------- poll
@dataclass
class PollReport:
    source: str
    fetched: int = 0
    stored: int = 0
    unmatched: int = 0
    duplicates: int = 0
    near_duplicates: int = 0  # stored, linked to an earlier copy of the same story
    not_modified: bool = False
    skipped_until: datetime | None = None  # backing off after failures
    error: str | None = None
    failed_targets: dict[str, str] = field(default_factory=dict)  # targets that failed while the others polled
    own: int = 0  # posts of our own accounts and our replies read back: never stored


def source_row(session: Session, source: Source) -> SourceRow:
    row = session.scalar(select(SourceRow).where(SourceRow.name == source.name))
    if row is None:
        row = SourceRow(name=source.name, kind=source.kind, cursor={})
        row.health = SourceHealth(consecutive_failures=0, last_new_mentions=0)
        session.add(row)
        session.flush()
    elif row.health is None:
        row.health = SourceHealth(consecutive_failures=0, last_new_mentions=0)
    return row


def failure_backoff(failures: int, retry_after: float | None, jitter: float) -> timedelta:
    """Exponential per-source backoff (with jitter), never sooner than the platform's Retry-After."""
    delay = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, failures - 1)))
    delay *= 1 + jitter
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def poll_source(store: Store, source: Source, matcher: BrandMatcher, clock: Clock, force: bool = False) -> PollReport:
    """One poll of one source. Failures are recorded in the source's health, never raised."""
    report = PollReport(source=source.name)
    now = clock.now()
    with store.write() as session:
        row = source_row(session, source)
        cursor = dict(row.cursor or {})
        health = row.health
        assert health is not None
        if not force and health.next_attempt_at and health.next_attempt_at > now:
            report.skipped_until = health.next_attempt_at
            metrics.record_poll(source.name, "skipped")
            return report
        health.last_attempt_at = now

    try:
        batch = source.poll(cursor)
    except Exception as exc:  # one failing source never stops the others
        report.error = describe(exc)
        source_error = exc if isinstance(exc, SourceError) else None
        if source_error is None:
            log.exception("event=poll_crashed source=%s", source.name)
        else:
            report.failed_targets = dict(source_error.failed_targets)
        _record_failure(store, source, report, source_error.retry_after if source_error else None, clock)
        metrics.record_poll(source.name, "failed")
        return report

    report.fetched = len(batch.items)
    report.not_modified = batch.not_modified
    report.failed_targets = dict(batch.failed_targets)
    _store_batch(store, source, batch, matcher, report, clock)
    metrics.record_poll(source.name, "not_modified" if report.not_modified else "ok", report.fetched, report.stored,
                        report.unmatched, report.duplicates, report.near_duplicates)
    log.info("event=polled source=%s fetched=%d stored=%d unmatched=%d duplicates=%d not_modified=%s "
             "failed_targets=%d", source.name, report.fetched, report.stored, report.unmatched, report.duplicates,
             report.not_modified, len(report.failed_targets))
    return report


def failing_targets(before: dict[str, Any] | None, failed: dict[str, str], now: datetime) -> dict[str, Any]:
    """The health record's failing targets after a poll: the targets failing now, each with its error, since
    when it fails and how many polls in a row; a target that polled fine again is gone from it."""
    before = before or {}
    record: dict[str, Any] = {}
    for target, error in failed.items():
        previous = before.get(target)
        previous = previous if isinstance(previous, dict) else {}
        record[target] = {"error": error[:2000], "since": previous.get("since") or now.isoformat(),
                          "failures": int(previous.get("failures") or 0) + 1}
    return record


def _record_failure(store: Store, source: Source, report: PollReport, retry_after: float | None,
                    clock: Clock) -> None:
    now = clock.now()
    error = report.error or ""
    with store.write() as session:
        row = source_row(session, source)
        health = row.health
        assert health is not None
        health.consecutive_failures += 1
        health.last_error, health.last_error_at = error[:2000], now
        if report.failed_targets:  # every target failed: the record says which and why
            health.failing_targets = failing_targets(health.failing_targets, report.failed_targets, now)
        delay = failure_backoff(health.consecutive_failures, retry_after, random.uniform(0, 0.2))
        health.next_attempt_at = now + delay
    log.warning("event=poll_failed source=%s failures=%d retry_in=%ds error=%r",
                source.name, health.consecutive_failures, delay.total_seconds(), error)


def _store_batch(store: Store, source: Source, batch: Batch, matcher: BrandMatcher, report: PollReport,
                 clock: Clock) -> None:
    """New mentions and the advanced cursor, in one transaction: a crash loses nothing, duplicates nothing."""
    with store.write() as session:
        row = source_row(session, source)
        known = known_external_ids(session, row.id, (m.external_id for m in batch.items))
        ours = own_posts(session, source.kind, own_accounts(source.settings), batch.items)
        for mention in batch.items:
            if mention.external_id in known:
                report.duplicates += 1
                continue
            if mention.external_id in ours:  # our own reply (or account) read back: not a mention
                report.own += 1
                continue
            known.add(mention.external_id)
            text = mention_text(mention.full_text)  # normalised once: matching, content hash, near-dup shingles
            brands = matcher.brands_for(mention, text)
            if not brands:
                report.unmatched += 1
                continue
            new = _mention_row(session, row, mention, brands, text.digest)
            session.add(new)
            session.flush()  # so a copy later in the same batch finds this one as canonical
            link_mention(session, new, mention, clock.now())  # its author's identity and contact
            report.stored += 1
            report.near_duplicates += new.canonical_id is not None
        row.cursor = batch.next_cursor
        row.updated_at = clock.now()
        health = row.health
        assert health is not None
        health.last_success_at = clock.now()
        health.consecutive_failures = 0
        health.next_attempt_at = None
        health.last_new_mentions = report.stored
        health.failing_targets = failing_targets(health.failing_targets, batch.failed_targets, clock.now())
    for target, error in batch.failed_targets.items():
        log.warning("event=poll_target_failed source=%s target=%s error=%r", source.name, target, error)


def _mention_row(session: Session, source: SourceRow, mention: Mention, brands: list[str],
                 digest: str) -> MentionRow:
    return MentionRow(
        source_id=source.id,
        source_kind=mention.source_kind,
        external_id=mention.external_id,
        url=mention.url,
        author=mention.author,
        title=mention.title,
        text=mention.text,
        published_at=mention.published_at,
        fetched_at=mention.fetched_at,
        rating=mention.rating,
        reach=dict(mention.reach),
        thread_id=mention.thread_id,
        parent_id=mention.parent_id,
        lang_hint=mention.lang_hint,
        reply_ref=dict(mention.reply_ref),
        content_hash=digest,
        canonical_id=canonical_for(session, digest, mention),
        brands=[MentionBrand(brand=b) for b in brands],
    )


# ----------------------------------------------------------------------------- score → triage → act
@dataclass
class ScoreReport:
    scored: int = 0
    tasks: int = 0
    follow_ups: int = 0  # mentions that joined their contact's open task instead of opening one
    alerts: int = 0
    by_sentiment: dict[str, int] = field(default_factory=dict)
    failed: int = 0  # mentions the model failed on in this run (retried next run, parked after MAX_SCORE_ATTEMPTS)
    quiet: int = 0  # a rule matched, but the mention was older than its max_age: no task (acting/backfill.py)


MAX_SCORE_ATTEMPTS = 3


CANARY_TEXT = "Thanks, all good."  # scored when every mention of a batch fails: tells a broken model from bad input


class ScoringError(RuntimeError):
    """The model fails even on a plain canary text: the model, not the input, is broken."""


def _score_isolating_failures(scorer: Scorer, mentions: list[Mention]) -> tuple[list[Score | None], dict[int, str]]:
    """Scores for the mentions' texts (with their platforms' language hints), None where the model fails on that
    text alone (errors by index).

    A failing batch is retried one text at a time, so one text the model cannot handle does not hold back the
    others. When every text fails alone too and the model also fails on a harmless canary text, the model
    itself is at fault: ScoringError, and nothing is charged to the mentions."""
    texts = [m.full_text for m in mentions]
    hints = [m.lang_hint for m in mentions]
    try:
        return list(scorer.score(texts, hints)), {}
    except Exception as exc:  # noqa: BLE001  (any model failure: retried per text below)
        log.warning("event=score_batch_failed size=%d error=%r; retrying one by one", len(texts), exc)
    scores: list[Score | None] = []
    errors: dict[int, str] = {}
    for i, (text, hint) in enumerate(zip(texts, hints, strict=True)):
        try:
            scores.append(scorer.score([text], [hint])[0])
        except Exception as exc:  # noqa: BLE001
            scores.append(None)
            errors[i] = f"{type(exc).__name__}: {exc}"[:1000]
    if len(errors) == len(texts):
        try:
            scorer.score([CANARY_TEXT])
        except Exception as exc:
            raise ScoringError(f"the model fails on every text, even {CANARY_TEXT!r}: {exc!r}") from exc
    return scores, errors


def unscored() -> list[ColumnElement[bool]]:
    """A mention waiting for a score: none stored yet, and not parked after MAX_SCORE_ATTEMPTS failures."""
    return [~exists().where(ScoreRow.mention_id == MentionRow.id), MentionRow.score_attempts < MAX_SCORE_ATTEMPTS]


def unscored_backlog(store: Store, cap: int) -> int:
    """How many mentions wait for a score, counted up to `cap` (enough to decide how many nodes to wake)."""
    waiting = select(MentionRow.id).where(*unscored()).limit(cap).subquery()
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(waiting)) or 0)


def score_pending(store: Store, scorer: Scorer, rules: list[RuleSettings], clock: Clock,
                  batch_size: int = 64, claim: bool = False) -> ScoreReport:
    """Score every unscored mention (in batches), triage it and apply the rules.

    One scorer (`claim` false) runs the model outside any transaction: it is the slow part. Several nodes on one
    PostgreSQL database (`claim`) each claim a batch with FOR UPDATE SKIP LOCKED, and the claim, the model run and
    the stored scores (with triage, tasks and outbox rows) are one transaction: a node that dies mid-batch loses its
    connection, PostgreSQL rolls back and releases the row locks at once, and the next node's claim takes the
    mentions; two nodes never score the same mention. The locks cover those mentions only, so polls and the care
    inbox go on while the model runs.

    Mentions the model fails on are skipped for this run and charged an attempt; after MAX_SCORE_ATTEMPTS they
    are parked (see `retry_failed_scores`)."""
    report = ScoreReport()
    failed_now: set[int] = set()
    while True:
        waiting = select(MentionRow).where(*unscored(), MentionRow.id.not_in(failed_now)) \
            .order_by(MentionRow.id).limit(batch_size)
        if claim:
            with store.write() as session:
                rows = list(session.scalars(waiting.with_for_update(skip_locked=True, of=MentionRow)))
                if not rows:
                    return report
                # A node that committed scores for some of these just before our lock: a fresh statement sees them.
                done = set(session.scalars(select(ScoreRow.mention_id).where(
                    ScoreRow.mention_id.in_([r.id for r in rows]))))
                rows = [r for r in rows if r.id not in done]
                _score_batch(scorer, rows, [r.as_mention() for r in rows], lambda: nullcontext(session), rules, clock,
                             report, failed_now)
            continue
        with store.read() as session:
            rows = list(session.scalars(waiting))
            mentions = [r.as_mention() for r in rows]
        if not rows:
            return report
        _score_batch(scorer, rows, mentions, store.write, rules, clock, report, failed_now)


def _score_batch(scorer: Scorer, rows: list[MentionRow], mentions: list[Mention],
                 writing: Callable[[], AbstractContextManager[Session]], rules: list[RuleSettings], clock: Clock,
                 report: ScoreReport, failed_now: set[int]) -> None:
    """Run the model on one batch, then store its scores in the transaction `writing()` gives."""
    if not rows:
        return
    started = time.perf_counter()
    scores, errors = _score_isolating_failures(scorer, mentions)
    model_seconds = time.perf_counter() - started
    with writing() as session:
        sentiments = record_scores(session, rows, mentions, scores, errors, rules, clock.now(), report, failed_now)
    metrics.record_scoring(model_seconds, len(rows), sentiments, len(errors))
    log.info("event=scored mentions=%d tasks=%d", len(rows), report.tasks)


def record_scores(session: Session, rows: list[MentionRow], mentions: list[Mention], scores: list[Score | None],
                  errors: dict[int, str], rules: list[RuleSettings], now: datetime, report: ScoreReport,
                  failed_now: set[int]) -> dict[str, int]:
    """Store scores and triage, apply the rules (tasks + outbox) and charge failures, in the caller's transaction;
    returns the batch's count of each sentiment."""
    batch_sentiments: dict[str, int] = {}
    for i, (row, mention, score) in enumerate(zip(rows, mentions, scores, strict=True)):
        current = session.get_one(MentionRow, row.id)
        if score is None:
            current.score_attempts += 1
            current.score_error = errors[i]
            failed_now.add(current.id)
            report.failed += 1
            log.error("event=score_failed mention=%d attempt=%d/%d error=%s", current.id,
                      current.score_attempts, MAX_SCORE_ATTEMPTS, errors[i])
            continue
        if current.score is not None:  # scored meanwhile by another process
            continue
        verdict = triage(mention, score, now)
        session.add(ScoreRow(
            mention_id=current.id, model_version=score.model_version, language=score.language,
            language_supported=score.language_supported, sentiment=score.sentiment,
            p_negative=score.probabilities["negative"], p_neutral=score.probabilities["neutral"],
            p_positive=score.probabilities["positive"], categories=list(score.categories),
            negative_service=score.negative_service, urgency=verdict.urgency,
            reasons=list(verdict.reasons), scored_at=now,
        ))
        facts = Facts(brands=current.brand_names, source=mention.source_name, score=score, triage=verdict)
        action = act(session, current, facts, rules, now)
        report.scored += 1
        report.by_sentiment[score.sentiment] = report.by_sentiment.get(score.sentiment, 0) + 1
        batch_sentiments[score.sentiment] = batch_sentiments.get(score.sentiment, 0) + 1
        if action is None and kept_quiet(rules, facts, current):
            report.quiet += 1
        if action is not None and action.follow_up is not None:
            report.follow_ups += 1
        elif action is not None:
            report.tasks += 1
            report.alerts += len(action.alerts)
            metrics.record_task(action.task.rule, action.task.priority)
    return batch_sentiments


def retry_failed_scores(store: Store) -> int:
    """Give parked and failing mentions a fresh set of scoring attempts (after a model fix); returns how many."""
    with store.write() as session:
        rows = list(session.scalars(
            select(MentionRow).outerjoin(ScoreRow).where(ScoreRow.id.is_(None), MentionRow.score_attempts > 0)))
        for row in rows:
            row.score_attempts = 0
            row.score_error = None
        return len(rows)
