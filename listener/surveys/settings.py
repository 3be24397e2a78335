"""`[[survey]]` (what a survey link asks) and `[report]` (how satisfaction and recovery are reported)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from listener.durations import Duration
from listener.timezones import ZoneName

Kind = Literal["csat", "ces", "nps"]
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10)}
PAGE_LANGUAGES = ("de", "en")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")


class SurveySettings(BaseModel):
    """One `[[survey]]`: a task's `{survey_url}` asks the first survey whose `rules` and `brands` fit the task."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Kind  # csat: satisfied 1–5 · ces: "how easy was it" 1–7 · nps: would recommend 0–10
    question: dict[str, str]  # per page language (de, en); the task's language is asked, else `default_language`
    comment: bool = True  # offer a free-text comment under the scale
    default_language: Literal["de", "en"] = "en"
    rules: list[str] = Field(default_factory=list)  # only tasks of these [[rule]]s (empty: every rule)
    brands: list[str] = Field(default_factory=list)  # only tasks about these brands (empty: every brand)
    link_valid: Duration = timedelta(days=30)  # a link answers this long after the reply was written
    change_within: Duration = timedelta(hours=24)  # an answer can be changed this long after it was first given

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"expected lower-case letters, digits, '-' or '_' (up to 50), got {value!r}")
        return value

    @field_validator("question")
    @classmethod
    def _question(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(PAGE_LANGUAGES))
        if unknown:
            raise ValueError(f"languages are de and en; got {', '.join(unknown)}")
        if not value or not all(text.strip() for text in value.values()):
            raise ValueError('give the question per language, e.g. { en = "How satisfied …?", de = "Wie …?" }')
        return {lang: text.strip() for lang, text in value.items()}

    @model_validator(mode="after")
    def _default_asked(self) -> SurveySettings:
        if self.default_language not in self.question:
            raise ValueError(f"question: needs a {self.default_language!r} text (default_language)")
        return self

    @property
    def scale(self) -> range:
        low, high = SCALES[self.kind]
        return range(low, high + 1)

    def question_in(self, language: str | None) -> tuple[str, str]:
        """(language, text): the task's language when the survey speaks it, else the default."""
        lang = language if language in self.question else self.default_language
        return lang, self.question[lang]


class ReportSettings(BaseModel):
    """`[report]`: satisfaction and sentiment recovery in `listener report`, the care inbox and the digest."""

    model_config = ConfigDict(extra="forbid")

    # What the same contact posted next after our answer is looked for this long (listener/surveys/recovery.py).
    recovery_window: Duration = timedelta(days=14)
    timezone: ZoneName = "UTC"  # weeks of the report start on Monday 00:00 here

    @field_validator("recovery_window")
    @classmethod
    def _window(cls, value: timedelta) -> timedelta:
        if not timedelta(hours=1) <= value <= timedelta(days=366):
            raise ValueError("expected between 1h and 366d")
        return value


def check_surveys(surveys: Sequence[SurveySettings], rules: set[str], brands: set[str], base_url: str | None,
                  web: bool) -> None:
    """Names are unique, referenced rules and brands exist, and the care inbox can serve the page; each problem
    names its key (listener/config.py turns it into a ConfigError)."""
    seen: set[str] = set()
    for i, survey in enumerate(surveys):
        if survey.name in seen:
            raise ValueError(f"survey[{i}].name: {survey.name!r} is used twice")
        seen.add(survey.name)
        for name in survey.rules:
            if name not in rules:
                raise ValueError(f"survey[{i}].rules: no rule named {name!r}")
        for name in survey.brands:
            if name not in brands:
                raise ValueError(f"survey[{i}].brands: no brand named {name!r}")
        if not web or not base_url:
            raise ValueError(f"survey[{i}]: the survey page is served by the care inbox: add [web] with base_url "
                             "(the public address customers open)")
