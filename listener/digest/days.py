"""Days that stood out: a brand's days of the period far above its usual day.

The usual day is the median of the USUAL_DAYS local days before the period (mentions, and negative mentions),
counted in SQL (one GROUP BY over the brands and days); days before the brand's first mention in that stretch are
no history, only silence, and with fewer than MIN_HISTORY_DAYS left there is no usual day to compare with. A day
stands out when its mentions (or its negative mentions) are at least FAR_RATIO times the usual and more above it
than day-to-day chance gives (about three Poisson standard deviations, and at least MIN_EXTRA mentions).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from listener.digest.figures import bucket, mentions_of, sentiment_expr
from listener.digest.period import Period, local_midnight
from listener.store.models import MentionBrand, MentionRow

USUAL_DAYS = 28
MIN_HISTORY_DAYS = 7
FAR_RATIO = 2.0
MIN_EXTRA = {"volume": 10, "negative": 5}
MAX_DAYS = 3  # the days listed per brand, the largest excess first


@dataclass(frozen=True)
class Usual:
    mentions: float  # median mentions a day
    negatives: float
    days: int  # days of history it was taken over


def usual(session: Session, brands: Sequence[str], period: Period) -> dict[str, Usual]:
    """The usual day of each brand that has USUAL_DAYS of history before the period (see the module docstring)."""
    first = period.first_day - timedelta(days=USUAL_DAYS)
    boundaries = [local_midnight(first + timedelta(days=i), period.zone) for i in range(USUAL_DAYS + 1)]
    rows = mentions_of(brands, boundaries[0], boundaries[-1]).add_columns(
        MentionBrand.brand.label("brand"), bucket(MentionRow.published_at, boundaries).label("day"),
        case((sentiment_expr() == "negative", 1), else_=0).label("negative"),
    ).subquery()
    query = (select(rows.c.brand, rows.c.day, func.count(), func.sum(rows.c.negative))
             .group_by(rows.c.brand, rows.c.day))
    counts: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for brand, day, mentions, negatives in session.execute(query):
        counts[brand][int(day)] = (int(mentions), int(negatives or 0))
    out = {}
    for brand, by_day in counts.items():
        days = range(min(by_day), USUAL_DAYS)  # from the first day with a mention
        if len(days) < MIN_HISTORY_DAYS:
            continue
        out[brand] = Usual(float(statistics.median(by_day.get(d, (0, 0))[0] for d in days)),
                           float(statistics.median(by_day.get(d, (0, 0))[1] for d in days)), len(days))
    return out


def far_above(observed: int, usual_count: float, kind: str) -> bool:
    extra = observed - usual_count
    return (observed >= FAR_RATIO * max(usual_count, 1.0)
            and extra >= max(MIN_EXTRA[kind], 3 * math.sqrt(max(usual_count, 1.0))))


@dataclass(frozen=True)
class Standout:
    index: int  # into the period's days
    day: date
    mentions: int
    negatives: int
    reasons: tuple[str, ...]  # "volume", "negative"


def standouts(days: Sequence[date], counts: Sequence[tuple[int, int]], normal: Usual | None) -> list[Standout]:
    """The days of `days` (with their (mentions, negatives)) far above `normal`, largest excess first."""
    if normal is None:
        return []
    found = []
    for index, (day, (mentions, negatives)) in enumerate(zip(days, counts, strict=True)):
        reasons = tuple(kind for kind, observed, usual_count in (("volume", mentions, normal.mentions),
                                                                  ("negative", negatives, normal.negatives))
                        if far_above(observed, usual_count, kind))
        if reasons:
            found.append(Standout(index, day, mentions, negatives, reasons))
    found.sort(key=lambda s: (-(s.mentions - normal.mentions), s.index))
    return found[:MAX_DAYS]
