"""`[digest]`: who gets the weekly digest, when, in which language, and through which SMTP server."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.nlp.categories import CATEGORIES
from listener.timezones import ZoneName

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class DigestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The [[channel]] (kind "email") whose SMTP settings send the digest; marketing's addresses are `recipients`.
    channel: str | None = None
    recipients: list[str] = Field(default_factory=list)
    weekday: str = "monday"
    time: str = "08:00"  # local time in `timezone`
    timezone: ZoneName = "UTC"  # weeks and days of the digest are counted in this time zone too
    lang: str = "en"
    brands: list[str] = Field(default_factory=list)  # own brands to report on; empty: every non-competitor brand
    send_empty: bool = False  # send even when none of the brands was mentioned in the week
    # What the service categories are called here: a train operator's "delivery" is its punctuality
    # ({ delivery = "Pünktlichkeit" }); the digest and the care inbox show these names in every language.
    category_names: dict[str, str] = Field(default_factory=dict)

    @property
    def scheduled(self) -> bool:
        """The daemon sends the digest only when there is somewhere to send it."""
        return bool(self.channel and self.recipients)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def send_time(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.lower() not in WEEKDAYS:
            raise ValueError(f"expected one of {', '.join(WEEKDAYS)}, got {value!r}")
        return value.lower()

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"expected a local time like '08:00', got {value!r}")
        return value


    @field_validator("lang")
    @classmethod
    def _lang(cls, value: str) -> str:
        if value not in ("de", "en"):
            raise ValueError(f"expected 'de' or 'en', got {value!r}")
        return value

    @field_validator("category_names")
    @classmethod
    def _category_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, name in value.items():
            if key not in CATEGORIES:
                raise ValueError(f"unknown service category {key!r}; the categories are {', '.join(CATEGORIES)}")
            if not name.strip():
                raise ValueError(f"the name of {key!r} is empty")
        return {key: name.strip() for key, name in value.items()}

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c in address for c in ",;\r\n <>"):
                raise ValueError(f"not a plain e-mail address: {address!r}")
        return value
