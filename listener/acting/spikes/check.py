"""One spike check: count every watched brand's windows, decide, and for a spike that fires write the spike row
and its outbox alerts in the same transaction as the new cooldown state (so a crash neither loses nor repeats
an alert: the outbox's guarantees hold for spikes as for tasks)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from listener.acting.silences import active_silences, silence_for
from listener.acting.spikes import counts
from listener.acting.spikes.detect import Arm, Counts, Verdict, evaluate
from listener.acting.spikes.settings import Kind, SpikeSettings, every_as_cron
from listener.clock import Clock
from listener.domain import AlertStatus
from listener.periodic import PeriodicJob
from listener.store.engine import Store
from listener.store.models import AlertRow, SpikeArmRow, SpikeRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checked:
    watch: str
    brand: str
    verdict: Verdict
    fired: bool
    spike_id: int | None = None
    mentions: int = 0


@dataclass
class SpikeReport:
    checked: list[Checked] = field(default_factory=list)

    @property
    def fired(self) -> list[Checked]:
        return [c for c in self.checked if c.fired]


def check_spikes(store: Store, watches: Sequence[SpikeSettings], all_brands: Sequence[str], clock: Clock,
                 dry_run: bool = False) -> SpikeReport:
    """`dry_run`: decide and report, but store nothing (no spike, no alert, no cooldown change)."""
    report = SpikeReport()
    now = clock.now()
    for watch in watches:
        brands = watch.brands or list(all_brands)
        spans = counts.windows(now, watch.window, watch.history_weeks)
        with store.write() as session:
            by_brand = counts.window_counts(session, brands, spans)
            for brand in brands:
                for kind in watch.watch:
                    checked = _check_one(session, watch, brand, kind, spans, by_brand[brand], now, dry_run)
                    report.checked.append(checked)
            if dry_run:
                session.rollback()
    return report


def periodic_jobs(settings: Any) -> list[PeriodicJob]:
    """The spike check for the daemon's periodic-job registry (listener/periodic.py): on one node an
    APScheduler cron job, in a cluster once per period for the whole cluster (so no spike alerts twice)."""
    if not settings.spike:
        return []

    def run(app: Any) -> None:
        app.check_spikes()

    return [PeriodicJob("spikes", every_as_cron(settings.daemon.spikes_every), run)]


def _arm_row(session: Session, watch: str, brand: str, kind: str) -> SpikeArmRow:
    row = session.get(SpikeArmRow, (watch, brand, kind))
    if row is None:
        row = SpikeArmRow(watch=watch, brand=brand, kind=kind, armed=True)
        session.add(row)
    if row.history_from is None:
        row.history_from = counts.first_fetched(session, brand)
    return row


def _check_one(session: Session, watch: SpikeSettings, brand: str, kind: Kind, spans: list[counts.Window],
               found: dict[int, Counts], now: datetime, dry_run: bool) -> Checked:
    row = _arm_row(session, watch.name, brand, kind)
    listening_since = row.history_from
    history = [found.get(k, Counts(0)) for k in range(1, len(spans))
               if listening_since is not None and spans[k][0] >= listening_since]
    current = found.get(0, Counts(0))
    verdict = evaluate(kind, current, history, watch)
    arm = Arm(row.armed, row.last_fired_at)
    fired = arm.step(verdict.spiking, now, watch.cooldown)
    row.armed, row.last_fired_at = arm.armed, arm.last_fired_at
    if not fired or dry_run:
        return Checked(watch.name, brand, verdict, fired, None, current.mentions)
    spike = _record(session, watch, brand, verdict, spans, current, now)
    log.warning("event=spike spike=%d watch=%s brand=%r kind=%s observed=%d expected=%.1f ratio=%.1f p=%.1e",
                spike.id, watch.name, brand, kind, verdict.observed, verdict.expected, verdict.ratio, verdict.p_value)
    return Checked(watch.name, brand, verdict, True, spike.id, current.mentions)


def _record(session: Session, watch: SpikeSettings, brand: str, verdict: Verdict, spans: list[counts.Window],
            current: Counts, now: datetime) -> SpikeRow:
    posts = counts.mentions_in(session, brand, spans[:1], limit=1000)
    earlier = counts.mentions_in(session, brand, spans[1:], limit=5000) if watch.themes else []
    top = counts.top_posts(posts, verdict.kind, max(1, watch.top_posts))
    spike = SpikeRow(
        watch=watch.name, brand=brand, kind=verdict.kind, window_start=spans[0][0], window_end=spans[0][1],
        observed=verdict.observed, expected=verdict.expected, ratio=verdict.ratio, p_value=verdict.p_value,
        history_weeks=verdict.history_weeks, mentions=current.mentions, share=verdict.share,
        baseline_share=verdict.baseline_share, themes=counts.themes(posts, earlier, watch.themes, skip=[brand]),
        top_mention_ids=[m.id for m in top][: watch.top_posts], created_at=now,
    )
    session.add(spike)
    session.flush()
    # A brand-wide silence ("known outage") mutes the spike's alerts too; the spike is still recorded.
    silence = silence_for(active_silences(session, now), [brand], [], rule="")
    if silence is not None:
        log.info("event=spike_silenced spike=%d silence=%d", spike.id, silence.id)
        return spike
    if not top:  # cannot happen (a spike has at least min_count posts), but an alert needs a post to point at
        return spike
    session.add_all(
        AlertRow(idempotency_key=f"spike-{spike.id}-{channel}", task_id=None, mention_id=top[0].id,
                 spike_id=spike.id, kind="spike", channel=channel, status=AlertStatus.PENDING, attempts=0,
                 created_at=now, next_attempt_at=now)
        for channel in watch.notify
    )
    return spike
