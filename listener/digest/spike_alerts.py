"""The spike alerts of the period (listener/alerts/spikes stores each in `spikes`): read back for the digest's
"what moved", with their figures as the alert gave them, so the digest and the alert never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.clock import utc
from listener.digest.period import Period
from listener.store.models import SpikeRow

_INSTANT = timedelta(microseconds=1)  # a window ending at midnight belongs to the day before
MAX_SPIKES = 50  # per digest: an outage re-fires every cooldown; more than this is one long story


def spikes_of(session: Session, brands: Sequence[str], period: Period) -> list[dict[str, Any]]:
    """Spikes whose window ended in the period, oldest first."""
    query = (select(SpikeRow).where(SpikeRow.brand.in_(list(brands)), SpikeRow.window_end > period.start,
                                    SpikeRow.window_end <= period.end)
             .order_by(SpikeRow.window_end, SpikeRow.id).limit(MAX_SPIKES))
    out = []
    for s in session.scalars(query):
        start, end = utc(s.window_start), utc(s.window_end)
        out.append({
            "id": s.id, "brand": s.brand, "kind": s.kind, "window_start": start.isoformat(),
            "window_end": end.isoformat(), "date": (end - _INSTANT).astimezone(period.zone).date().isoformat(),
            "observed": s.observed, "expected": round(s.expected, 2), "ratio": round(s.ratio, 2),
            "mentions": s.mentions, "share": None if s.share is None else round(s.share, 6),
            "baseline_share": None if s.baseline_share is None else round(s.baseline_share, 6),
            "themes": list(s.themes or []), "top_mention_ids": [int(i) for i in s.top_mention_ids or []],
        })
    return out
