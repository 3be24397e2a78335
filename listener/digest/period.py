"""Which stretch of time a digest covers: ISO weeks (or a date range) in the digest's time zone.

Boundaries are local midnights converted to UTC, so a day or a week is the reader's day or week, across
daylight-saving changes too (a week may have 167 or 169 hours). The SQL buckets rows by comparing with these
boundaries (`figures.bucket`), which works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 62  # a custom range is bucketed by day in SQL: one CASE branch per day (and per previous day)
TREND_WEEKS = 8
_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    first_day: date  # local dates, inclusive
    last_day: date
    zone: ZoneInfo

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range((self.last_day - self.first_day).days + 1)]

    @property
    def start(self) -> datetime:
        return local_midnight(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last_day + timedelta(days=1), self.zone)

    def day_starts(self) -> list[datetime]:
        """UTC start of every local day, plus the end of the last one."""
        return [local_midnight(d, self.zone) for d in self.days] + [self.end]

    @property
    def is_iso_week(self) -> bool:
        return self.first_day.isoweekday() == 1 and len(self.days) == 7

    @property
    def key(self) -> str:
        """`2026-W48` for an ISO week, else `2026-11-01..2026-11-30`: names the period in JSON and in the send log."""
        if self.is_iso_week:
            year, week, _ = self.first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"

    def previous(self) -> Period:
        length = timedelta(days=len(self.days))
        return Period(self.first_day - length, self.last_day - length, self.zone)

    def trend_weeks(self) -> list[Period]:
        """The 8 weeks (7-day stretches) ending with this period's last day, oldest first."""
        return [Period(self.last_day - timedelta(days=7 * k + 6), self.last_day - timedelta(days=7 * k), self.zone)
                for k in reversed(range(TREND_WEEKS))]

    def as_json(self) -> dict[str, str]:
        return {"key": self.key, "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "start": self.start.isoformat(), "end": self.end.isoformat(), "timezone": self.zone.key}


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def iso_week(text: str, zone: ZoneInfo) -> Period:
    match = _ISO_WEEK.match(text.strip())
    if not match:
        raise PeriodError(f"--week: expected an ISO week like 2026-W48, got {text!r}")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise PeriodError(f"--week: {text!r} is not a week: {exc}") from None
    return Period(monday, monday + timedelta(days=6), zone)


def date_range(since: date, until: date, zone: ZoneInfo) -> Period:
    if until < since:
        raise PeriodError(f"--until {until} is before --since {since}")
    if (until - since).days + 1 > MAX_DAYS:
        raise PeriodError(f"a digest covers at most {MAX_DAYS} days; {since}..{until} is {(until - since).days + 1}")
    return Period(since, until, zone)


def last_complete_week(now: datetime, zone: ZoneInfo) -> Period:
    """The latest ISO week that has ended by `now` (in `zone`): on any day of week 49, week 48."""
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.isoweekday() - 1)
    monday = this_monday - timedelta(days=7)
    return Period(monday, monday + timedelta(days=6), zone)


def choose_period(week: str | None, since: datetime | None, until: datetime | None, zone: str,
                  now: datetime) -> Period:
    """The period a command or page asks for: an ISO week, a range of local days, or the last complete week."""
    tz = ZoneInfo(zone)
    if week and (since or until):
        raise PeriodError("give either --week or --since/--until, not both")
    if week:
        return iso_week(week, tz)
    if since or until:
        if not (since and until):
            raise PeriodError("--since and --until go together")
        return date_range(since.date(), until.date(), tz)
    return last_complete_week(now, tz)
