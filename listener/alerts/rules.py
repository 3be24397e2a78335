"""`[[rule]]`: which scored mentions become follow-up tasks and who is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from listener.alerts.hours import BusinessCalendar
from listener.contacts.settings import DEFAULT_JOIN, JoinWindow
from listener.durations import Duration, parse_duration
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
    hours: str | None = None  # name of an [[hours]] calendar: the deadline counts business time only
    # A mention by a contact whose open task heard from them within this window joins that task as a follow-up
    # instead of opening another (listener/contacts/joining.py); "off" or 0: every mention opens its own.
    join: JoinWindow = DEFAULT_JOIN

    _calendar: BusinessCalendar | None = PrivateAttr(default=None)

    def bind(self, calendar: BusinessCalendar) -> None:
        """Called by the config's reference check once the `[[hours]]` calendars exist."""
        self._calendar = calendar

    @property
    def calendar(self) -> BusinessCalendar | None:
        if self.hours and self._calendar is None:
            raise LookupError(f"hours {self.hours!r} of this rule is not bound to a calendar")
        return self._calendar

    def later(self, start: datetime, duration: timedelta) -> datetime:
        """`duration` after `start`, in business time when the rule has hours."""
        calendar = self.calendar
        if calendar is None or not duration:  # "due" itself, even when the deadline falls on closing time
            return start + duration
        return calendar.add(start, duration)

    def deadline(self, created: datetime) -> datetime:
        return self.later(created, self.first_response)


class EscalationStep(BaseModel):
    """`{ after = "due+1h", notify = ["oncall"] }`: still unacknowledged then → an escalation alert."""

    model_config = ConfigDict(extra="forbid")

    after: str = "due"
    notify: list[str] = Field(min_length=1)

    @field_validator("after")
    @classmethod
    def _after(cls, value: str) -> str:
        after_due(value)
        return value

    @property
    def offset(self) -> timedelta:
        return after_due(self.after)


def after_due(text: str) -> timedelta:
    """"due" → 0, "due+1h" → 1 h (business time when the rule has hours)."""
    head, plus, rest = text.replace(" ", "").partition("+")
    if head != "due" or (plus and not rest):
        raise ValueError(f"expected 'due' or 'due+<duration>' such as 'due+1h', got {text!r}")
    return parse_duration(rest) if rest else timedelta(0)


class OutsideHours(BaseModel):
    """A task of these priorities created while the rule's hours are closed pages this route when nobody has
    acknowledged it `after` (default: the first-response time) in calendar time, before the hours open."""

    model_config = ConfigDict(extra="forbid")

    notify: list[str] = Field(min_length=1)
    priorities: list[Priority] = Field(default_factory=lambda: list[Priority](["P1"]))
    after: Duration | None = None


GroupLabel = Literal["brand", "category", "source", "priority", "rule"]


class RuleGroup(BaseModel):
    """Alertmanager's group_by / group_wait / group_interval."""

    model_config = ConfigDict(extra="forbid")

    by: list[GroupLabel] = Field(default_factory=lambda: list[GroupLabel](["brand"]))
    wait: Duration = timedelta(seconds=30)  # gather a burst before the first message
    interval: Duration = timedelta(minutes=5)  # then at most one message per group this often


class RuleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    when: RuleWhen = Field(default_factory=RuleWhen)
    task: RuleTask = Field(default_factory=RuleTask)
    notify: list[str] = Field(default_factory=list)
    escalate: list[EscalationStep] = Field(default_factory=list)
    outside_hours: OutsideHours | None = None
    group: RuleGroup | None = None
    agents: list[str] = Field(default_factory=list)  # new tasks go round-robin to these names


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
