"""Urgency of a scored mention (P1/P2/P3/none) with reasons a care agent can read.

A negative mention (or a negative service experience, a 1–2 star review, or an explicit threat such as a
lawyer or a chargeback) starts at P3; points then raise it:

| signal | points |
|---|---|
| negative confidence ≥ 90 % / ≥ 65 % | 2 / 1 |
| negative service experience (the model's flag, with its categories) | 2 |
| star rating 1 / 2 | 2 / 1 |
| escalation cue: legal (Anwalt, lawyer, Verbraucherzentrale …), safety (verletzt, injured …) | 3 |
| escalation cue: cancelling (kündigen, cancel my …), chargeback (Rückbuchung …), never again | 2 |
| reach: ≥ 100k followers or ≥ 1,000 score / likes; ≥ 10k followers, ≥ 100 score, ≥ 20 replies | 2 / 1 |
| posted within the last 24 h / older than 7 days | +1 / −1 |

≥ 7 points → P1, ≥ 3 → P2, otherwise P3. A legal or safety cue is never below P2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from listener.domain import Mention
from listener.nlp.scoring import Score

P1_POINTS = 7
P2_POINTS = 3


@dataclass(frozen=True)
class Triage:
    urgency: str  # P1 | P2 | P3 | none
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Cue:
    kind: str
    description: str
    points: int
    pattern: re.Pattern[str]
    hard: bool = False  # counts even when the model does not see negative sentiment


CUES = (
    Cue("legal", "threatens legal action", 3, re.compile(
        r"anw[äa]lt|verbraucherzentrale|verbraucherschutz|schlichtungsstelle|\bverklag|\bklage\b|\bgericht|abmahn"
        r"|\blawyers?\b|\battorneys?\b|\bsu(e|ing)\b|\blawsuit|legal action|small claims|consumer protection"
        r"|\bombudsman", re.I), hard=True),
    Cue("safety", "reports a safety problem", 3, re.compile(
        r"\bverletz|lebensgef[äa]hrlich|\bunfall\b|lebensmittelvergiftung|\bbrandgef"
        r"|\binjur(y|ed|ies)|\bunsafe\b|\bdangerous\b|food poisoning|fire hazard", re.I), hard=True),
    Cue("cancel", "wants to cancel", 2, re.compile(
        r"k[üu]ndig|\bvertrag\s+(beenden|aufl[öo]sen)|\bwechsle\b|\banbieter\s+wechseln|\babo\s+beenden"
        r"|\bcancel(l?ing|l?ed)?\s+(my|the|our)\s+(subscription|account|contract|membership|plan|order|service)"
        r"|\b(i('m| am| will|'ll)|going to|gonna)\s+cancel|\bclos(e|ing) my account|\bunsubscrib"
        r"|switch(ing)? to \w+ instead",
        re.I), hard=True),
    Cue("chargeback", "disputes a payment", 2, re.compile(
        r"r[üu]ckbuchung|zur[üu]ckbuch|lastschrift\s+(zur[üu]ck|widerruf)|widerspruch\s+gegen\s+die\s+lastschrift"
        r"|charge\s?-?backs?|dispute (the|this) (charge|payment)|dispute with my (bank|credit card)", re.I), hard=True),
    Cue("never-again", "says never again", 2, re.compile(
        r"nie\s+wieder|nie\s+mehr|zum\s+letzten\s+mal|never\s+again"
        r"|never\s+(going to|gonna)\s+(use|fly|buy|order|shop|book)"
        r"|won'?t\s+be\s+(back|returning)|last time i (use|fly|buy|order|book)", re.I)),
)


def find_cues(text: str) -> list[tuple[Cue, str]]:
    """Escalation cues in `text`, each with the words that matched."""
    found = []
    for cue in CUES:
        match = cue.pattern.search(text)
        if match:
            found.append((cue, match.group(0).strip()))
    return found


def _reach_points(reach: dict[str, int]) -> tuple[int, str | None]:
    followers = max((v for k, v in reach.items() if k in ("followers", "subscribers", "audience")), default=0)
    score_keys = ("score", "likes", "upvotes", "favourites", "reblogs", "shares")
    score = max((v for k, v in reach.items() if k in score_keys), default=0)
    replies = max((v for k, v in reach.items() if k in ("replies", "comments")), default=0)
    shown = ", ".join(f"{v:,} {k}" for k, v in sorted(reach.items()) if v)
    if followers >= 100_000 or score >= 1_000:
        return 2, f"wide reach: {shown}"
    if followers >= 10_000 or score >= 100 or replies >= 20:
        return 1, f"reach: {shown}"
    return 0, None


def _age_text(hours: float) -> str:
    if hours < 1:
        return f"{max(int(hours * 60), 0)} min ago"
    if hours < 48:
        return f"{int(hours)} h ago"
    return f"{int(hours // 24)} days ago"


def triage(mention: Mention, score: Score, now: datetime) -> Triage:
    """Urgency from the score, rating, reach, escalation cues and age of `mention`."""
    text = mention.full_text
    cues = find_cues(text)
    negative = score.sentiment == "negative"
    low_rating = mention.rating is not None and mention.rating <= 2
    if not (negative or score.negative_service or low_rating or any(c.hard for c, _ in cues)):
        return Triage("none", ())

    points = 0
    reasons: list[str] = []
    p_neg = score.probabilities.get("negative", 0.0)
    if negative:
        points += 2 if p_neg >= 0.9 else 1 if p_neg >= 0.65 else 0
        reasons.append(f"negative sentiment ({p_neg:.0%} confident)")
    if score.negative_service:
        points += 2
        reasons.append("negative service experience: " + (", ".join(score.categories) or "unspecified"))
    if mention.rating is not None and mention.rating <= 2:
        points += 2 if mention.rating <= 1 else 1
        reasons.append(f"{mention.rating:g}-star review")
    floor_p2 = False
    for cue, words in cues:
        if not (cue.hard or negative or score.negative_service or low_rating):
            continue
        points += cue.points
        floor_p2 = floor_p2 or cue.kind in ("legal", "safety")
        reasons.append(f"escalation: {cue.description} (“{words}”)")
    reach_points, reach_reason = _reach_points(mention.reach)
    if reach_reason:
        points += reach_points
        reasons.append(reach_reason)
    if mention.published_at is not None:
        published = mention.published_at if mention.published_at.tzinfo else mention.published_at.replace(tzinfo=UTC)
        current = now if now.tzinfo else now.replace(tzinfo=UTC)
        hours = (current - published).total_seconds() / 3600
        if hours <= 24:
            points += 1
            reasons.append(f"recent: posted {_age_text(hours)}")
        elif hours > 24 * 7:
            points -= 1
            reasons.append(f"old: posted {_age_text(hours)}")
    if not score.language_supported:  # the care agent should not take the model's word for it
        reasons.append(f"language {score.language}: the model was not evaluated on it, check the text yourself")
    level = 1 if points >= P1_POINTS else 2 if points >= P2_POINTS else 3
    if floor_p2:
        level = min(level, 2)
    return Triage(f"P{level}", tuple(reasons))
