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


class Question(BaseModel):
    """`[[survey]] question`: the question in each language the page speaks."""

    model_config = ConfigDict(extra="forbid")

    de: str | None = Field(default=None, description="The question in German.")
    en: str | None = Field(default=None, description="The question in English.")

    @field_validator("de", "en")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty: write the question, or leave the language out")
        return value.strip() if value else value

    def texts(self) -> dict[str, str]:
        return {lang: text for lang in PAGE_LANGUAGES if (text := getattr(self, lang))}


class SurveySettings(BaseModel):
    """One `[[survey]]`: a task's `{survey_url}` asks the first survey whose `rules` and `brands` fit the task."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The survey's name (lower-case letters, digits, `-`, `_`), kept with each answer.")
    kind: Kind = Field(description="csat: satisfied 1–5 · ces: \"how easy was it\" 1 (very difficult) … 7 (very "
                                   "easy) · nps: would recommend 0–10.")
    question: Question = Field(description="The question per page language, e.g. { de = \"Wie zufrieden …?\", "
                                           "en = \"How satisfied …?\" }; the task's language is asked, else "
                                           "`default_language`.")
    comment: bool = Field(default=True, description="Offer a free-text comment under the scale.")
    default_language: Literal["de", "en"] = Field(default="en", description="The page's language when the question "
                                                                          "has no text in the task's language.")
    rules: list[str] = Field(default_factory=list, description="Only tasks of these [[rule]]s (empty: every rule); a "
                                                               "task is asked the first survey that fits it.")
    brands: list[str] = Field(default_factory=list, description="Only tasks about these brands (empty: every brand).")
    link_valid: Duration = Field(default=timedelta(days=30),
                                 description="A link answers this long after it was written into a reply; then 410.")
    change_within: Duration = Field(default=timedelta(hours=24),
                                    description="An answer can be changed this long after it was first given.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"expected lower-case letters, digits, '-' or '_' (up to 50), got {value!r}")
        return value

    @model_validator(mode="after")
    def _default_asked(self) -> SurveySettings:
        if self.default_language not in self.question.texts():
            raise ValueError(f"question: needs a {self.default_language!r} text (default_language)")
        return self

    @property
    def scale(self) -> range:
        low, high = SCALES[self.kind]
        return range(low, high + 1)

    def question_in(self, language: str | None) -> tuple[str, str]:
        """(language, text): the task's language when the survey speaks it, else the default."""
        texts = self.question.texts()
        lang = language if language in texts else self.default_language
        return lang, texts[lang]


class ReportSettings(BaseModel):
    """`[report]`: satisfaction and sentiment recovery in `listener report`, the care inbox and the digest."""

    model_config = ConfigDict(extra="forbid")

    recovery_window: Duration = Field(default=timedelta(days=14),
                                      description="What the same contact posted next after our first response is "
                                                  "looked for this long (1h … 366d; listener/surveys/recovery.py).")
    timezone: ZoneName = Field(default="UTC", description="The report's weeks start Monday 00:00 in this time zone.")

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
