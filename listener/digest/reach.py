"""Reach and engagement, apart: the *potential reach* (the audience the platforms gave: followers, views, reads)
summed over the mentions, with the posts that make most of it named — one viral post or one big account can be
half of a week's sum, and a reader should see that rather than a sum that looks like many people — and the
*engagement* per kind (likes, reposts, replies, votes), which says how many people acted on a post."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.digest.figures import ENGAGEMENT_KEYS, audience_expr, mentions_of
from listener.digest.period import Period
from listener.store.models import MentionBrand, MentionRow

TOP_CONTRIBUTORS = 3


def top_audience(session: Session, brands: Sequence[str], period: Period) -> dict[str, list[tuple[int, int]]]:
    """brand → [(mention id, audience)] of its TOP_CONTRIBUTORS posts with the largest audience."""
    inner = mentions_of(brands, period.start, period.end).add_columns(
        MentionBrand.brand.label("brand"), MentionRow.id.label("id"), audience_expr().label("audience"),
        func.row_number().over(partition_by=MentionBrand.brand,
                               order_by=(audience_expr().desc(), MentionRow.id)).label("rank"),
    ).subquery()
    query = (select(inner.c.brand, inner.c.id, inner.c.audience)
             .where(inner.c.rank <= TOP_CONTRIBUTORS, inner.c.audience > 0)
             .order_by(inner.c.brand, inner.c.rank))
    out: dict[str, list[tuple[int, int]]] = {}
    for brand, mention_id, audience in session.execute(query):
        out.setdefault(brand, []).append((int(mention_id), int(audience)))
    return out


def post_figures(figures: dict[str, Any]) -> dict[str, int]:
    """A post's audience and engagement by kind, from its stored reach figures."""
    def value(key: str) -> int:
        found = figures.get(key)
        return int(found) if isinstance(found, int | float) and not isinstance(found, bool) else 0

    out = {"audience": max(value("followers"), value("views"), value("reads"))}
    for kind, keys in ENGAGEMENT_KEYS.items():
        out[kind] = sum(value(k) for k in keys)
    return out
