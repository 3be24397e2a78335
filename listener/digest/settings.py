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

    channel: str | None = Field(default=None,
                                description="The email [[channel]] whose SMTP settings send the digest (its `to` is "
                                            "not used); unset: no digest.")
    recipients: list[str] = Field(default_factory=list, description="Addresses the digest goes to (e.g. marketing).")
    weekday: str = Field(default="monday",
                         description="Day it is sent (monday … sunday): the day after the reported week.")
    time: str = Field(default="08:00", description="Local time (HH:MM in `timezone`) it is sent.")
    timezone: ZoneName = Field(default="UTC",
                               description="IANA time zone; the digest's days and weeks are counted in it.")
    lang: str = Field(default="en", description="Language of labels, numbers and dates: de or en.")
    brands: list[str] = Field(default_factory=list,
                              description="Own brands to report on; empty: every brand that is not a competitor.")
    send_empty: bool = Field(default=False, description="Send even when none of the brands was mentioned in the week.")
    category_names: dict[str, str] = Field(
        default_factory=dict, description="What the service categories are called here, in the digest and the care "
        "inbox, in every language: { delivery = \"Pünktlichkeit\" } for a train operator; keys: support, delivery, "
        "billing, digital, product, staff.")

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
