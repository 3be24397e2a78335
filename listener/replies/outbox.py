"""The reply outbox: queued replies posted to their platforms by the daemon's delivery job.

Like the alert outbox, a row is claimed ("sending", with the claiming process and a timeout) and committed before
the platform is asked, and marked "posted" right after its answer. Never twice: a row whose attempt may have
reached the platform without us learning the outcome — a claim left by a crash, a timeout after sending — is
"in doubt", and before it is posted again the client looks for our own reply (`find_own_reply`): found means
posted; not found means post again (with the same idempotency key, which platforms that have one honour); a
platform where we cannot look parks it as "outcome_unknown" for a person to check, unless it honours the key.
Never lost: a rate limit or an outage is retried with backoff (never sooner than the platform's Retry-After) up to
`[delivery] max_attempts`; a refusal (deleted post, locked thread, expired token) fails at once with the
platform's words, for the agent to edit and resend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from listener.acting.activity import record
from listener.clock import Clock
from listener.config import Settings
from listener.delivery.claims import claimant, is_gone
from listener.delivery.outbox import DeliverySettings, backoff
from listener.replies.platforms import reply_enabled
from listener.replies.platforms.base import (
    PostedReply,
    ReplyClient,
    ReplyOutcomeUnknown,
    ReplyRejected,
    ReplyRetryLater,
    ReplySettings,
    ReplyTarget,
)
from listener.replies.service import mark_posted
from listener.secrets import MissingSecret
from listener.store.engine import Store
from listener.store.models import MentionRow, ReplyRow

log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(hours=1)
ClientFor = Callable[[str], ReplyClient]  # source name → its platform's write client (may raise MissingSecret)


@dataclass
class ReplyReport:
    posted: int = 0
    retrying: int = 0
    failed: int = 0
    unknown: int = 0
    deferred: int = 0  # waiting for the per-source rate limit
    errors: list[str] = field(default_factory=list)


def target_of(mention: MentionRow) -> ReplyTarget:
    return ReplyTarget(source_kind=mention.source_kind, source_name=mention.source.name,
                       external_id=mention.external_id, url=mention.url, thread_id=mention.thread_id,
                       parent_id=mention.parent_id,
                       extra={str(k): str(v) for k, v in (mention.reply_ref or {}).items()})


def _claim(store: Store, settings: DeliverySettings, now: datetime) -> list[int]:
    with store.write() as session:
        query = (select(ReplyRow)
                 .where(or_((ReplyRow.status == "queued") & (ReplyRow.next_attempt_at <= now),
                            (ReplyRow.status == "sending") & (ReplyRow.claimed_until < now)))
                 .order_by(ReplyRow.next_attempt_at, ReplyRow.id).limit(settings.batch))
        if session.get_bind().dialect.name == "postgresql":  # several daemons may deliver
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        for row in rows:
            if row.status == "sending":  # its claimer died mid-post: the platform may have it
                row.in_doubt = True
                log.warning("event=reply_claim_expired reply=%d claimed_by=%s", row.id, row.claimed_by)
            row.status, row.claimed_until, row.claimed_by = "sending", now + settings.claim_timeout, claimant()
        return [row.id for row in rows]


def _rate_limited_until(store: Store, reply: ReplyRow, per_hour: int, now: datetime) -> datetime | None:
    with store.read() as session:
        recent = list(session.scalars(
            select(ReplyRow.posted_at).where(ReplyRow.source_name == reply.source_name,
                                             ReplyRow.status == "posted", ReplyRow.posted_at > now - RATE_WINDOW)
            .order_by(ReplyRow.posted_at.desc()).limit(per_hour)))
    if len(recent) < per_hour:
        return None
    oldest = min(t for t in recent if t is not None)
    return oldest + RATE_WINDOW


@dataclass
class _Outcome:
    posted: PostedReply | None = None
    error: str | None = None
    permanent: bool = False
    unknown: bool = False  # park as outcome_unknown
    in_doubt: bool = False
    retry_after: float | None = None
    defer_until: datetime | None = None


def _attempt(store: Store, settings: Settings, client_for: ClientFor, reply_id: int, now: datetime) -> _Outcome:
    with store.read() as session:
        reply = session.get_one(ReplyRow, reply_id)
        target = target_of(reply.mention)
        text, key, in_doubt, source_name = reply.text, reply.idempotency_key, reply.in_doubt, reply.source_name
        source = next((s for s in settings.source if s.name == source_name), None)
        if source is None or not reply_enabled(source):
            why = "is no longer configured" if source is None else "has replies switched off (reply = false)"
            return _Outcome(error=f"the source {source_name!r} {why}", permanent=True, in_doubt=in_doubt)
        assert isinstance(source, ReplySettings)
        limit = _rate_limited_until(store, reply, source.reply_per_hour, now)
        if limit is not None:
            return _Outcome(defer_until=limit, in_doubt=in_doubt)
    try:
        client = client_for(source_name)
    except MissingSecret as exc:
        return _Outcome(error=f"write credentials missing: {exc}", permanent=True, in_doubt=in_doubt)
    try:
        if in_doubt:
            try:
                found = client.find_own_reply(target, text)
            except NotImplementedError:
                if not client.idempotent:
                    return _Outcome(unknown=True, in_doubt=True, error="an earlier attempt may have been posted, "
                                    f"and {target.source_kind} offers no way to check: look on the platform")
                found = None
            if found is not None:
                log.info("event=reply_found_after_doubt reply=%d platform_id=%s", reply_id, found.platform_id)
                return _Outcome(posted=found)
        return _Outcome(posted=client.post_reply(target, text, key))
    except ReplyRejected as exc:
        return _Outcome(error=str(exc), permanent=True, in_doubt=False)
    except ReplyOutcomeUnknown as exc:
        return _Outcome(error=str(exc), in_doubt=True, retry_after=exc.retry_after)
    except ReplyRetryLater as exc:
        return _Outcome(error=str(exc), in_doubt=in_doubt, retry_after=exc.retry_after)
    except Exception as exc:  # noqa: BLE001 - a client bug: retried like an outage, and it may have posted
        log.exception("event=reply_client_crashed reply=%d source=%s", reply_id, source_name)
        return _Outcome(error=f"{type(exc).__name__}: {exc}", in_doubt=True)


def deliver_replies(store: Store, settings: Settings, client_for: ClientFor, clock: Clock) -> ReplyReport:
    """Post every due reply once; record each outcome in its own transaction right after the platform's answer."""
    report = ReplyReport()
    delivery = settings.delivery
    for reply_id in _claim(store, delivery, clock.now()):
        outcome = _attempt(store, settings, client_for, reply_id, clock.now())
        now = clock.now()
        with store.write() as session:
            reply = session.get_one(ReplyRow, reply_id)
            reply.claimed_until, reply.claimed_by, reply.updated_at = None, None, now
            if outcome.defer_until is not None:  # the per-source rate limit: not an attempt
                reply.status, reply.next_attempt_at = "queued", outcome.defer_until
                report.deferred += 1
                log.info("event=reply_deferred reply=%d until=%s", reply.id, outcome.defer_until.isoformat())
                continue
            reply.attempts += 1
            if outcome.posted is not None:
                mark_posted(session, reply, outcome.posted.platform_id, outcome.posted.url, reply.author, now)
                report.posted += 1
                log.info("event=reply_posted reply=%d task=%d source=%s platform_id=%s", reply.id, reply.task_id,
                         reply.source_name, outcome.posted.platform_id)
                continue
            reply.last_error, reply.in_doubt = (outcome.error or "")[:4000], outcome.in_doubt
            report.errors.append(f"reply {reply.id} via {reply.source_name}: {outcome.error}")
            if outcome.unknown:
                reply.status = "outcome_unknown"
                report.unknown += 1
                record(session, reply.task_id, "listener", "reply_unknown", f"reply #{reply.id}: {outcome.error}",
                       now)
                log.error("event=reply_outcome_unknown reply=%d source=%s", reply.id, reply.source_name)
            elif outcome.permanent or reply.attempts >= delivery.max_attempts:
                reply.status = "failed"
                if not outcome.permanent:
                    reply.last_error = f"gave up after {reply.attempts} attempts: {reply.last_error}"
                report.failed += 1
                record(session, reply.task_id, "listener", "reply_failed", f"reply #{reply.id}: {reply.last_error}",
                       now)
                log.error("event=reply_failed reply=%d source=%s error=%r", reply.id, reply.source_name,
                          reply.last_error)
            else:
                wait = backoff(delivery, reply.attempts)
                if outcome.retry_after is not None:
                    wait = max(wait, timedelta(seconds=outcome.retry_after))
                reply.status, reply.next_attempt_at = "queued", now + wait
                report.retrying += 1
                log.warning("event=reply_retry reply=%d source=%s attempts=%d retry_at=%s in_doubt=%s error=%r",
                            reply.id, reply.source_name, reply.attempts, reply.next_attempt_at.isoformat(),
                            reply.in_doubt, outcome.error)
    return report


def release_dead_reply_claims(store: Store, now: datetime) -> int:
    """At start: replies claimed by a process on this host that no longer runs go back to the queue, in doubt
    (the process may have posted before it died), due now."""
    with store.write() as session:
        rows = session.scalars(select(ReplyRow).where(ReplyRow.status == "sending", ReplyRow.claimed_by.is_not(None)))
        released = [row for row in rows if is_gone(row.claimed_by or "")]
        for row in released:
            row.status, row.claimed_until, row.claimed_by, row.next_attempt_at = "queued", None, None, now
            row.in_doubt = True
            log.warning("event=reply_claim_released reply=%d source=%s", row.id, row.source_name)
    return len(released)


def replies_due(session: Session, now: datetime) -> bool:
    return session.scalar(select(ReplyRow.id).where(
        ((ReplyRow.status == "queued") & (ReplyRow.next_attempt_at <= now))
        | ((ReplyRow.status == "sending") & (ReplyRow.claimed_until < now))).limit(1)) is not None


def counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {status: n for status, n in session.execute(
            select(ReplyRow.status, func.count()).group_by(ReplyRow.status))}
