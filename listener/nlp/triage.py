"""Urgency of a scored mention (P1/P2/P3/none) with reasons a care agent can read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from listener.domain import Mention
from listener.nlp.scoring import Score


@dataclass(frozen=True)
class Triage:
    urgency: str  # P1 | P2 | P3 | none
    reasons: tuple[str, ...]


def triage(mention: Mention, score: Score, now: datetime) -> Triage:
    """First cut: negative sentiment decides; service category and rating raise it."""
    reasons: list[str] = []
    if score.sentiment != "negative":
        return Triage("none", ())
    reasons.append(f"negative sentiment ({score.confidence:.0%})")
    level = 3
    if score.negative_service:
        reasons.append("negative service experience: " + ", ".join(score.categories or ("unspecified",)))
        level = 2
    if mention.rating is not None and mention.rating <= 2:
        reasons.append(f"{mention.rating:g}-star review")
        level = min(level, 2)
    return Triage(f"P{level}", tuple(reasons))
