"""The daemon's weekly send: the digest of the last complete week, once, at `[digest] weekday` and `time`.

Once per period across restarts and crashes: a row in `digest_sends` (unique period key) is *claimed* before
the digest is built and sent and *marked* sent right after. A crash before the mark leaves a claim that
expires after CLAIM_FOR, and the next run sends again with the same Message-ID (derived from the period key),
so mail systems see one message; a failed send is retried after RETRY_AFTER; a restart does not skip the week.
Only the latest due week is sent, and not later than LATE_LIMIT after its send time.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from listener.clock import Clock
from listener.config import Settings
from listener.delivery.channels import EmailChannelSettings
from listener.digest import mail
from listener.digest.compose import make_digest
from listener.digest.period import Period, last_complete_week
from listener.digest.settings import WEEKDAYS, DigestSettings
from listener.periodic import PeriodicJob
from listener.store.engine import Store
from listener.store.models import DigestSendRow

if TYPE_CHECKING:
    from listener.app import App

log = logging.getLogger(__name__)
CLAIM_FOR = timedelta(minutes=15)
RETRY_AFTER = timedelta(minutes=30)
# A digest is news for a few days: a daemon first started (or back from a long outage) later than this after
# a week's send time does not send that week's digest any more.
LATE_LIMIT = timedelta(days=3)
CHECK_CRON = "*/5 * * * *"


def send_time(settings: DigestSettings, period: Period) -> datetime:
    """When the digest of `period` is due: the configured weekday and time of the week after it."""
    day = period.last_day + timedelta(days=1 + WEEKDAYS.index(settings.weekday))
    hour, minute = settings.send_time
    return datetime.combine(day, time(hour, minute), tzinfo=settings.zone)


def due_period(settings: DigestSettings, now: datetime) -> Period | None:
    """The latest week whose send time has passed at `now`, unless that was more than LATE_LIMIT ago."""
    period = last_complete_week(now, settings.zone)
    if now < send_time(settings, period):
        period = period.previous()
    return period if now - send_time(settings, period) <= LATE_LIMIT else None


def _claim(store: Store, key: str, now: datetime) -> bool:
    """True when this process may send `key` now: no row yet, or a failed or abandoned (crashed) claim."""
    with store.read() as session:  # the usual case, all week long: done already, no write lock
        if session.scalar(select(DigestSendRow.status).where(DigestSendRow.period_key == key)) in ("sent", "skipped"):
            return False
    try:
        with store.write() as session:
            if session.scalar(select(DigestSendRow.id).where(DigestSendRow.period_key == key)) is None:
                session.add(DigestSendRow(period_key=key, status="sending", attempts=1, created_at=now,
                                          claimed_until=now + CLAIM_FOR))
                return True
            taken = session.execute(
                update(DigestSendRow)
                .where(DigestSendRow.period_key == key, DigestSendRow.status.in_(("sending", "failed")),
                       or_(DigestSendRow.claimed_until.is_(None), DigestSendRow.claimed_until <= now))
                .values(status="sending", attempts=DigestSendRow.attempts + 1, claimed_until=now + CLAIM_FOR))
            return bool(taken.rowcount)  # type: ignore[attr-defined]
    except IntegrityError:  # another process inserted the same period at the same moment
        return False


def _mark(store: Store, key: str, **values: object) -> None:
    with store.write() as session:
        session.execute(update(DigestSendRow).where(DigestSendRow.period_key == key).values(**values))


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """For the daemon's periodic job registry (listener/periodic.py): a look every 5 minutes whether a
    week is due, cheap when it is not (one read); the claim keeps it to one send, on one node or many."""
    if not settings.digest.scheduled:
        return []

    def run(app: App) -> None:
        send_due(app.store, app.settings, app.clock)

    return [PeriodicJob("digest", CHECK_CRON, run)]


def send_due(store: Store, settings: Settings, clock: Clock) -> str | None:
    """Sends the due digest if nobody has; returns what happened ("sent", "skipped", "failed") or None."""
    digest_settings = settings.digest
    if not digest_settings.scheduled:
        return None
    now = clock.now()
    period = due_period(digest_settings, now)
    if period is None or not _claim(store, period.key, now):
        return None
    try:
        digest = make_digest(store, settings, period, draw=False)
        if digest.empty and not digest_settings.send_empty:
            _mark(store, period.key, status="skipped", claimed_until=None)
            log.info("event=digest_skipped period=%s reason=no_mentions", period.key)
            return "skipped"
        digest.draw()
        channel = next(c for c in settings.channel if c.name == digest_settings.channel)
        assert isinstance(channel, EmailChannelSettings)
        message_id = mail.send(digest, channel.smtp, digest_settings.recipients, idempotency_key=period.key)
    except Exception as exc:  # noqa: BLE001 - DeliveryError or a bug: retried later, never lost
        _mark(store, period.key, status="failed", last_error=str(exc)[:2000], claimed_until=now + RETRY_AFTER)
        log.warning("event=digest_failed period=%s error=%s retry_after=%s", period.key, exc, RETRY_AFTER)
        return "failed"
    _mark(store, period.key, status="sent", sent_at=clock.now(), message_id=message_id, claimed_until=None,
          last_error=None)
    log.info("event=digest_sent period=%s recipients=%d message_id=%s", period.key,
             len(digest_settings.recipients), message_id)
    return "sent"
