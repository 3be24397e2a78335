"""Spike counting in SQL: one GROUP BY per check over the indexed seen time and brand, and the posts behind a spike.

A mention is placed by its published time, or its fetch time when the platform gives none (the expression index
`ix_mentions_seen_at`). Only canonical mentions count: a story copied to five sites is one mention, as it is one
task. The windows are the trailing window and the same window 1 … N weeks (7 × 24 h) earlier.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from listener.acting.spikes.detect import Counts
from listener.store.models import MentionBrand, MentionRow, ScoreRow
from listener.text import stop_words, words

WEEK = timedelta(days=7)
Window = tuple[datetime, datetime]


def seen_at() -> ColumnElement[datetime]:
    return func.coalesce(MentionRow.published_at, MentionRow.fetched_at)


def windows(end: datetime, window: timedelta, weeks: int) -> list[Window]:
    """Index 0 is the trailing window, index k the same window k weeks earlier."""
    return [(end - k * WEEK - window, end - k * WEEK) for k in range(weeks + 1)]


def window_counts(session: Session, brands: Sequence[str], spans: Sequence[Window]) -> dict[str, dict[int, Counts]]:
    """Mentions, negative mentions and scored mentions per brand and window; windows without mentions are absent.

    The windowed mentions are selected first, through the seen-time index (a materialised CTE, so SQLite without
    ANALYZE statistics does not walk every mention of the brand instead), then joined to brands and scores.
    """
    seen = seen_at()
    inside = [and_(seen >= start, seen < end) for start, end in spans]
    windowed = (
        select(MentionRow.id.label("id"), case(*[(condition, k) for k, condition in enumerate(inside)]).label("k"))
        .where(MentionRow.canonical_id.is_(None), or_(*inside))
        .cte("windowed").prefix_with("MATERIALIZED")
    )
    negative = case((ScoreRow.sentiment == "negative", 1), else_=0)
    query = (
        select(MentionBrand.brand, windowed.c.k, func.count(), func.coalesce(func.sum(negative), 0),
               func.count(ScoreRow.id))
        .select_from(windowed)
        .join(MentionBrand, MentionBrand.mention_id == windowed.c.id)
        .outerjoin(ScoreRow, ScoreRow.mention_id == windowed.c.id)
        # `brand || ''`: filter, don't drive — walking a brand's every mention is what the CTE is there to avoid.
        .where((MentionBrand.brand + literal("")).in_(list(brands)))
        .group_by(MentionBrand.brand, windowed.c.k)
    )
    out: dict[str, dict[int, Counts]] = {brand: {} for brand in brands}
    for brand, k, mentions, negatives, scored in session.execute(query):
        out[brand][int(k)] = Counts(int(mentions), int(negatives), int(scored))
    return out


def first_fetched(session: Session, brand: str) -> datetime | None:
    """When listener first stored a mention of the brand: weeks before that are no history, only silence."""
    query = (select(func.min(MentionRow.fetched_at)).join(MentionBrand, MentionBrand.mention_id == MentionRow.id)
             .where(MentionBrand.brand == brand))
    return session.scalar(query)


def mentions_in(session: Session, brand: str, spans: Iterable[Window], limit: int) -> list[MentionRow]:
    seen = seen_at()
    query = (
        select(MentionRow).join(MentionBrand, MentionBrand.mention_id == MentionRow.id)
        .where(MentionBrand.brand == brand, MentionRow.canonical_id.is_(None),
               or_(*[and_(seen >= start, seen < end) for start, end in spans]))
        .order_by(seen.desc()).limit(limit)
    )
    return list(session.scalars(query))


def engagement(mention: MentionRow) -> float:
    return sum(float(v) for v in (mention.reach or {}).values() if isinstance(v, int | float))


def top_posts(mentions: list[MentionRow], kind: str, n: int) -> list[MentionRow]:
    """The posts a care lead should read first: the most negative (negative share) or most engaged (volume)."""
    def rank(m: MentionRow) -> tuple[float, float]:
        p_negative = m.score.p_negative if m.score else 0.0
        return (p_negative, engagement(m)) if kind == "negative" else (engagement(m), p_negative)
    return sorted(mentions, key=rank, reverse=True)[:n]


def _document_words(mention: MentionRow, skip: set[str]) -> set[str]:
    text = f"{mention.title or ''} {mention.text}"
    return {w for w in words(text) if len(w) >= 3 and not w.isdigit() and w not in skip}


def themes(now: list[MentionRow], before: list[MentionRow], n: int, skip: Iterable[str] = ()) -> list[str]:
    """Words far more frequent in the spike's posts than in the same hours of earlier weeks.

    Scored by document frequency × log of the frequency ratio, so words every post has ("the", "und", the brand)
    score about zero in any language. German and English stop words are left out as well: in a burst of short
    posts "the" or "again" can rise with the topic and would crowd out the words that name it.
    """
    skipped = {w for phrase in skip for w in words(phrase)} | stop_words("de") | stop_words("en")
    current = Counter(w for m in now for w in _document_words(m, skipped))
    usual = Counter(w for m in before for w in _document_words(m, skipped))
    n_now, n_before = max(1, len(now)), max(1, len(before))

    def score(word: str) -> float:
        ratio = (current[word] / n_now + 0.01) / (usual[word] / n_before + 0.01)
        return current[word] * math.log(ratio)

    ranked = sorted((w for w, c in current.items() if c >= 2), key=lambda w: (-score(w), w))
    return [w for w in ranked if score(w) > 0][:n]
