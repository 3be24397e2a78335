"""`[[rule]]`: which scored mentions become follow-up tasks and who is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from listener.acting.hours import BusinessCalendar
from listener.contacts.settings import DEFAULT_JOIN, JoinWindow
from listener.domain import Sentiment
from listener.durations import Duration, parse_duration
from listener.nlp.scoring import Score
from listener.nlp.triage import Triage

Priority = Literal["P1", "P2", "P3"]
URGENCY_RANK = {"P1": 1, "P2": 2, "P3": 3, "none": 9}


class RuleWhen(BaseModel):
    """All given conditions must hold."""

    model_config = ConfigDict(extra="forbid")

    sentiment: Sentiment | None = Field(
        default=None,
        description="Only mentions scored this sentiment.")
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0,
                                  description="At least this probability of the predicted sentiment (0 to 1).")
    urgency: Priority | None = Field(default=None, description="At least this urgent (P1 is the most urgent).")
    negative_service: bool | None = Field(default=None,
                                          description="true: only negative service experiences; false: only mentions "
                                                      "that are not.")
    categories: list[str] = Field(default_factory=list,
                                  description="Any of these service categories (support, delivery, billing, digital, "
                                              "product, staff).")
    brands: list[str] = Field(default_factory=list, description="Any of these [[brand]] names.")
    sources: list[str] = Field(default_factory=list, description="Any of these [[source]] names.")
    languages: list[str] = Field(default_factory=list, description="Any of these detected languages (ISO 639-1).")


class RuleTask(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority = Field(default="P2", description="The task's priority.")
    first_response: Duration = Field(default=timedelta(minutes=15),
                                     description="Time to the first response: the task's deadline (\"due\").")
    hours: str | None = Field(default=None,
                              description="Name of an [[hours]] calendar: the deadline and escalation offsets then "
                                          "count business time only.")
    join: JoinWindow = Field(
        default=DEFAULT_JOIN,
        description="A mention by a contact whose open task heard from them within this window joins that task as a "
                    "follow-up instead of opening another (listener/acting/joining.py); \"off\" or 0: every "
                    "mention opens its own.")

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

    after: str = Field(default="due",
                       description="\"due\" or \"due+<duration>\" such as \"due+1h\" (business time when the rule has "
                                   "hours).")
    notify: list[str] = Field(min_length=1, description="Channels that get the escalation alert.")

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

    notify: list[str] = Field(min_length=1, description="Channels paged for such a task.")
    priorities: list[Priority] = Field(default_factory=lambda: list[Priority](["P1"]),
                                       description="Only tasks of these priorities.")
    after: Duration | None = Field(default=None,
                                   description="Page when the task is still unacknowledged this long (calendar time) "
                                               "after it was created and the hours have not opened; unset: the rule's "
                                               "first_response.")


GroupLabel = Literal["brand", "category", "source", "priority", "rule"]


class RuleGroup(BaseModel):
    """Alertmanager's group_by / group_wait / group_interval."""

    model_config = ConfigDict(extra="forbid")

    by: list[GroupLabel] = Field(default_factory=lambda: list[GroupLabel](["brand"]),
                                 description="Labels that make a group: any of brand, category, source, priority, "
                                             "rule.")
    wait: Duration = Field(default=timedelta(seconds=30),
                           description="Gather a burst this long after a group's first task before the first message.")
    interval: Duration = Field(default=timedelta(minutes=5),
                               description="Then at most one message per group this often.")


class RuleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The rule's unique name, shown on its tasks and alerts.")
    when: RuleWhen = Field(default_factory=RuleWhen, description="Conditions a scored mention must all meet.")
    task: RuleTask = Field(default_factory=RuleTask, description="The follow-up task a match creates.")
    notify: list[str] = Field(default_factory=list, description="Channels that announce a new task of this rule.")
    escalate: list[EscalationStep] = Field(default_factory=list,
                                           description="Escalation steps: a task still unacknowledged (ack, respond, "
                                                       "resolve or dismiss) at a step's `after` alerts its channels; "
                                                       "each step fires once.")
    outside_hours: OutsideHours | None = Field(default=None,
                                               description="Page a route for urgent tasks created while the rule's "
                                                           "hours are closed.")
    group: RuleGroup | None = Field(default=None,
                                    description="Send a burst of tasks as one message per group (as Alertmanager's "
                                                "grouping); unset: one message per task.")
    agents: list[str] = Field(default_factory=list,
                              description="New tasks go round-robin to these names (`listener tasks assign ID --to "
                                          "NAME` changes it).")
    max_age: Duration = Field(default=timedelta(hours=48),
                              description="Only mentions published at most this long before they were stored raise a "
                                          "task; older ones (a new source's history) are stored and scored but page "
                                          "nobody (listener/acting/backfill.py).")


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
