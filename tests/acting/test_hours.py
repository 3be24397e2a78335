"""Business calendars: deadlines across evenings, weekends, holidays and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from listener.acting.hours import BusinessCalendar, HoursSettings, parse_ranges
from listener.acting.rules import RuleTask

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_8_18 = {"mon": "08:00-18:00", "tue": "08:00-18:00", "wed": "08:00-18:00", "thu": "08:00-18:00",
                 "fri": "08:00-16:00"}


def care_de(**extra: object) -> BusinessCalendar:
    return BusinessCalendar(HoursSettings.model_validate({
        "name": "care-de", "timezone": "Europe/Berlin", "week": WEEKDAYS_8_18,
        "holidays": {"country": "DE", "subdivision": "NW"}, **extra}))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_the_issues_example_friday_evening_to_monday_morning() -> None:
    cal = care_de()
    # Friday 17:00 (closed since 16:00) + 2 h → Monday 08:00 + 2 h.
    due = cal.add(berlin(2026, 12, 4, 17, 0), timedelta(hours=2))
    assert due == berlin(2026, 12, 7, 10, 0)
    assert due.tzinfo == UTC and due.hour == 9  # CET is UTC+1
    assert cal.between(berlin(2026, 12, 4, 17, 0), due) == timedelta(hours=2)


def test_deadline_that_runs_over_the_evening_continues_next_morning() -> None:
    cal = care_de()
    assert cal.add(berlin(2026, 12, 1, 17, 30), timedelta(hours=1)) == berlin(2026, 12, 2, 8, 30)
    assert cal.add(berlin(2026, 12, 1, 9, 0), timedelta(minutes=15)) == berlin(2026, 12, 1, 9, 15)
    assert cal.add(berlin(2026, 12, 1, 6, 0), timedelta(minutes=15)) == berlin(2026, 12, 1, 8, 15)  # before opening
    assert cal.is_open(berlin(2026, 12, 1, 12, 0)) and not cal.is_open(berlin(2026, 12, 1, 18, 0))
    assert cal.next_open(berlin(2026, 12, 5, 12, 0)) == berlin(2026, 12, 7, 8, 0)  # Saturday → Monday


def test_public_holidays_of_the_subdivision_and_extra_dates_are_closed() -> None:
    # Corpus Christi (Thu 4 June 2026) is a holiday in North Rhine-Westphalia but not in Berlin.
    start = berlin(2026, 6, 3, 17, 30)
    assert care_de().add(start, timedelta(hours=1)) == berlin(2026, 6, 5, 8, 30)
    berlin_state = BusinessCalendar(HoursSettings.model_validate({
        "name": "care-be", "timezone": "Europe/Berlin", "week": WEEKDAYS_8_18,
        "holidays": {"country": "DE", "subdivision": "BE"}}))
    assert berlin_state.add(start, timedelta(hours=1)) == berlin(2026, 6, 4, 8, 30)
    # Christmas: the 24th closed by `dates`, the 25th and 26th are public holidays, then the weekend.
    cal = care_de(dates=["2026-12-24"])
    assert cal.add(berlin(2026, 12, 23, 17, 0), timedelta(hours=2)) == berlin(2026, 12, 28, 9, 0)
    assert care_de().add(berlin(2026, 12, 23, 17, 0), timedelta(hours=2)) == berlin(2026, 12, 24, 9, 0)


def test_dst_changes_are_counted_in_real_time() -> None:
    cal = care_de()
    # Clocks go forward on Sunday 29 March 2026: Friday 15:00 CET (14:00 UTC) + 2 h → Monday 09:00 CEST (07:00 UTC).
    due = cal.add(berlin(2026, 3, 27, 15, 0), timedelta(hours=2))
    assert due == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # A Sunday open round the clock is 23 real hours on the spring change and 25 on the autumn one.
    sundays = BusinessCalendar(HoursSettings.model_validate(
        {"name": "sun", "timezone": "Europe/Berlin", "week": {"sun": "00:00-24:00"}}))
    assert sundays.between(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)) == timedelta(hours=23)
    assert sundays.between(berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)) == timedelta(hours=25)
    assert sundays.add(berlin(2026, 3, 29, 1, 0), timedelta(hours=2)) == berlin(2026, 3, 29, 4, 0)


def test_split_days_and_the_rules_deadline() -> None:
    cal = BusinessCalendar(HoursSettings.model_validate(
        {"name": "lunch", "timezone": "UTC", "week": {"mon": "08:00-12:00, 13:00-17:00"}}))
    monday = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)
    assert cal.add(monday, timedelta(hours=1)) == datetime(2026, 12, 7, 13, 30, tzinfo=UTC)
    task = RuleTask(first_response=timedelta(hours=1), hours="lunch")
    with pytest.raises(LookupError):
        task.deadline(monday)  # not bound to a calendar yet (the config does that)
    task.bind(cal)
    assert task.deadline(monday) == datetime(2026, 12, 7, 13, 30, tzinfo=UTC)
    assert RuleTask(first_response=timedelta(hours=1)).deadline(monday) == monday + timedelta(hours=1)


@pytest.mark.parametrize("text", ["18:00-08:00", "8-18", "08:00-25:00", "08:00-12:00, 11:00-13:00", "08:60-09:00"])
def test_bad_time_ranges_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ranges(text)
