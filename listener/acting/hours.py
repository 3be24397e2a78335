"""`[[hours]]`: named business calendars, so a first-response deadline counts working time only.

A calendar is a weekly schedule in a time zone, minus public holidays (the `holidays` library) and extra closed
dates. All arithmetic runs on the opening intervals of each local day converted to UTC, so a DST change shortens
or lengthens only the day it falls on (a Sunday "00:00-24:00" on the spring change is 23 real hours).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from listener.timezones import ZoneName

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
MAX_DAYS_SCANNED = 366 * 2  # a calendar with no opening at all in two years is a config mistake, not a loop

Span = tuple[time, time | None]  # None as the end: midnight at the end of the day ("24:00")


def parse_ranges(text: str) -> list[Span]:
    """"08:00-12:00, 13:00-18:00" → opening spans of one day; "24:00" may end a span."""
    spans: list[Span] = []
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ValueError(f"expected a time range like '08:00-18:00' (several separated by commas), got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"{part.strip()!r} is not a valid time range (hours 00-24, minutes 00-59)")
        start, end = time(h1, m1), (None if h2 == 24 else time(h2, m2))
        if end is not None and end <= start:
            raise ValueError(f"{part.strip()!r} ends before it starts (ranges cannot cross midnight; "
                             f"split them: '22:00-24:00' and next day '00:00-06:00')")
        if spans and (spans[-1][1] is None or start < spans[-1][1]):
            raise ValueError(f"{text!r}: ranges must be in order and must not overlap")
        spans.append((start, end))
    return spans


class HolidaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: str = Field(min_length=2, description="ISO 3166 country code, e.g. \"DE\".")
    subdivision: str | None = Field(default=None,
                                    description="State or region code for regional holidays, e.g. \"NW\" (North "
                                                "Rhine-Westphalia).")

    @model_validator(mode="after")
    def _known(self) -> HolidaySettings:
        try:
            holidays.country_holidays(self.country, subdiv=self.subdivision, years=2026)
        except NotImplementedError as exc:
            raise ValueError(f"unknown country or subdivision for the holidays library: {exc}") from None
        return self


class WeekSettings(BaseModel):
    """Opening ranges per weekday; a day left out is closed."""

    model_config = ConfigDict(extra="forbid")

    mon: str | None = Field(default=None,
                            description="Monday's opening hours, \"HH:MM-HH:MM\" (several: \"08:00-12:00, "
                                        "13:00-17:00\"; \"24:00\" ends a day); unset: closed.")
    tue: str | None = Field(default=None, description="Tuesday's opening hours, as for mon.")
    wed: str | None = Field(default=None, description="Wednesday's opening hours, as for mon.")
    thu: str | None = Field(default=None, description="Thursday's opening hours, as for mon.")
    fri: str | None = Field(default=None, description="Friday's opening hours, as for mon.")
    sat: str | None = Field(default=None, description="Saturday's opening hours, as for mon.")
    sun: str | None = Field(default=None, description="Sunday's opening hours, as for mon.")

    @field_validator(*WEEKDAYS)
    @classmethod
    def _ranges(cls, value: str | None) -> str | None:
        if value is not None:
            parse_ranges(value)
        return value

    @model_validator(mode="after")
    def _some_day_open(self) -> WeekSettings:
        if not any(getattr(self, day) for day in WEEKDAYS):
            raise ValueError("give the opening hours of at least one day, e.g. mon = \"08:00-18:00\"")
        return self

    def spans(self) -> dict[int, list[Span]]:
        return {i: parse_ranges(text) for i, day in enumerate(WEEKDAYS) if (text := getattr(self, day))}


class HoursSettings(BaseModel):
    """One named business calendar."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="The calendar's unique name, as a rule's task.hours refers to it.")
    timezone: ZoneName = Field(default="UTC",
                               description="IANA time zone of the opening hours, e.g. \"Europe/Berlin\"; DST changes "
                                           "are handled.")
    week: WeekSettings = Field(description="Opening hours per weekday; a day left out is closed.")
    holidays: HolidaySettings | None = Field(default=None,
                                             description="Public holidays to close on (the `holidays` library).")
    dates: list[date] = Field(default_factory=list,
                              description="Further closed days (company holidays), e.g. [\"2026-12-24\"].")



class BusinessCalendar:
    """Adds and measures working time in one `HoursSettings` calendar. Datetimes in and out are aware (UTC)."""

    def __init__(self, settings: HoursSettings):
        self.settings = settings
        self.name = settings.name
        self.zone = ZoneInfo(settings.timezone)
        self._week = settings.week.spans()
        self._closed_dates = set(settings.dates)

    @lru_cache(maxsize=16)  # noqa: B019  (a handful of calendars live as long as the process)
    def _public_holidays(self, year: int) -> frozenset[date]:
        if self.settings.holidays is None:
            return frozenset()
        h = self.settings.holidays
        return frozenset(holidays.country_holidays(h.country, subdiv=h.subdivision, years=year))

    def is_closed_day(self, day: date) -> bool:
        return day in self._closed_dates or day in self._public_holidays(day.year)

    def openings(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening intervals in UTC (empty on closed days)."""
        if self.is_closed_day(day):
            return []
        out = []
        for start, end in self._week.get(day.weekday(), []):
            begin = datetime.combine(day, start, self.zone)
            finish = (datetime.combine(day + timedelta(days=1), time(0), self.zone) if end is None
                      else datetime.combine(day, end, self.zone))
            out.append((begin.astimezone(UTC), finish.astimezone(UTC)))
        return out

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        moment = moment.astimezone(UTC)  # arithmetic on a zoned datetime would be wall-clock time
        day = moment.astimezone(self.zone).date() - timedelta(days=1)  # spans ending after midnight local
        for offset in range(MAX_DAYS_SCANNED):
            for begin, finish in self.openings(day + timedelta(days=offset)):
                if finish > moment:
                    yield max(begin, moment), finish
        raise ValueError(f"hours {self.name!r} has no opening within two years of {moment:%Y-%m-%d}")

    def is_open(self, moment: datetime) -> bool:
        begin, _ = next(self._intervals_from(moment))
        return begin <= moment

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the next opening."""
        return next(self._intervals_from(moment))[0]

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start` (a deadline)."""
        left = duration
        for begin, finish in self._intervals_from(start):
            if finish - begin >= left:
                return begin + left
            left -= finish - begin
        raise AssertionError("unreachable: _intervals_from raises when it runs out")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (zero if end is before start)."""
        total, end = timedelta(0), end.astimezone(UTC)
        if end <= start:
            return total
        for begin, finish in self._intervals_from(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total


def calendars(hours: list[HoursSettings]) -> dict[str, BusinessCalendar]:
    return {h.name: BusinessCalendar(h) for h in hours}
