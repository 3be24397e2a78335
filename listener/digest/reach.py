"""Reach and engagement, apart: the *potential reach* (the audience the platforms gave: followers, views, reads)
summed over the mentions, with the posts that make most of it named — one viral post or one big account can be
half of a week's sum, and a reader should see that rather than a sum that looks like many people — and the
*engagement* per kind (likes, reposts, replies, votes), which says how many people acted on a post. The sums are
in the cube (figures.py), the largest contributors come with the notable posts (figures.notable); here is what a
single post's stored figures say."""

from __future__ import annotations

from typing import Any

from listener.digest.figures import ENGAGEMENT_KEYS


def post_figures(figures: dict[str, Any]) -> dict[str, int]:
    """A post's audience and engagement by kind, from its stored reach figures."""
    def value(key: str) -> int:
        found = figures.get(key)
        return int(found) if isinstance(found, int | float) and not isinstance(found, bool) else 0

    out = {"audience": max(value("followers"), value("views"), value("reads"))}
    for kind, keys in ENGAGEMENT_KEYS.items():
        out[kind] = sum(value(k) for k in keys)
    return out
