"""`[[rule]]`: which scored mentions become follow-up tasks and who is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from listener.durations import Duration
from listener.nlp.scoring import Score
from listener.nlp.triage import Triage

Priority = Literal["P1", "P2", "P3"]
URGENCY_RANK = {"P1": 1, "P2": 2, "P3": 3, "none": 9}


class RuleWhen(BaseModel):
    """All given conditions must hold."""

    model_config = ConfigDict(extra="forbid")

    sentiment: Literal["negative", "neutral", "positive"] | None = None
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)  # of the predicted sentiment
    urgency: Priority | None = None  # at least this urgent (P1 is the most urgent)
    negative_service: bool | None = None
    categories: list[str] = Field(default_factory=list)  # any of these service categories
    brands: list[str] = Field(default_factory=list)  # any of these brands
    sources: list[str] = Field(default_factory=list)  # any of these source names
    languages: list[str] = Field(default_factory=list)


class RuleTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority = "P2"
    first_response: Duration = timedelta(minutes=15)


class RuleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    when: RuleWhen = Field(default_factory=RuleWhen)
    task: RuleTask = Field(default_factory=RuleTask)
    notify: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Facts:
    """What a rule can look at for one scored mention."""

    brands: list[str]
    source: str
    score: Score
    triage: Triage


def rule_applies(rule: RuleSettings, facts: Facts) -> bool:
    when, score = rule.when, facts.score
    if when.sentiment and score.sentiment != when.sentiment:
        return False
    if score.confidence < when.min_confidence:
        return False
    if when.urgency and URGENCY_RANK[facts.triage.urgency] > URGENCY_RANK[when.urgency]:
        return False
    if when.negative_service is not None and score.negative_service != when.negative_service:
        return False
    if when.categories and not set(when.categories) & set(score.categories):
        return False
    if when.brands and not set(when.brands) & set(facts.brands):
        return False
    if when.sources and facts.source not in when.sources:
        return False
    return not (when.languages and score.language not in when.languages)


def matching_rules(rules: list[RuleSettings], facts: Facts) -> list[RuleSettings]:
    return [rule for rule in rules if rule_applies(rule, facts)]
