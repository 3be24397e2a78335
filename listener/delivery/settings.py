"""`[delivery]`: the outbox's retry policy and the task link in alerts (a config type: listener/config.py
assembles it without importing the outbox)."""

from __future__ import annotations

from datetime import timedelta

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.durations import Duration
from listener.timezones import ZoneName


class DeliverySettings(BaseModel):
    """`[delivery]`: retry policy of the outbox."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=12, ge=1, le=1000,
                              description="Attempts per alert; then it is parked (`listener alerts list --status "
                                          "parked`, `listener alerts retry`).")
    backoff: Duration = Field(default=timedelta(seconds=30),
                              description="Wait after a failed attempt, doubled after every further failure …")
    max_backoff: Duration = Field(default=timedelta(hours=1), description="… up to this.")
    claim_timeout: Duration = Field(default=timedelta(minutes=5),
                                    description="An alert left \"sending\" by a crash is retried after this.")
    batch: int = Field(default=50, ge=1, le=10_000, description="Alerts claimed per delivery run.")
    task_url: str | None = Field(default=None,
                                 description="Link to a task in alerts, with {id}, e.g. "
                                             "\"https://care.example.com/tasks/{id}\"; default: [web] base_url + "
                                             "/tasks/{id}, none without it.")

    @field_validator("task_url")
    @classmethod
    def _has_id(cls, value: str | None) -> str | None:
        if value is not None and ("{id}" not in value or not value.startswith(("https://", "http://"))):
            raise ValueError(f"expected an http(s) URL with {{id}} where the task number goes, got {value!r}")
        return value


ALERT_LANGUAGES = ("de", "en")


class AlertsSettings(BaseModel):
    """`[alerts]`: the language and time zone of e-mail and chat alerts (listener/delivery/locale.py)."""

    model_config = ConfigDict(extra="forbid")

    lang: str | None = Field(default=None,
                             description="de or en, or a locale such as en-GB or de-AT (how dates are written); "
                                         "default: [digest] lang.")
    timezone: ZoneName | None = Field(default=None,
                                      description="IANA time zone of times in alerts; default: the first [[hours]] "
                                                  "calendar's, else [digest] timezone.")

    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            locale = Locale.parse(value.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            locale = None
        if locale is None or locale.language not in ALERT_LANGUAGES:
            raise ValueError(f"expected de or en, or a locale of them such as en-GB or de-AT, got {value!r}")
        return value
