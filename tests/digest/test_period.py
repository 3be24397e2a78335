"""Digest periods in the reader's time zone, and `[digest]` config errors that name their key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from listener.config import ConfigError, parse_settings
from listener.digest.period import iso_week, last_complete_week

BERLIN = ZoneInfo("Europe/Berlin")


def test_weeks_are_local_and_follow_daylight_saving() -> None:
    week = iso_week("2026-W43", BERLIN)  # clocks go back on Sunday 25 October 2026
    assert week.start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert week.end - week.start == timedelta(hours=169)
    starts = week.day_starts()
    assert starts[-2] == datetime(2026, 10, 24, 22, 0, tzinfo=UTC) and starts[-1] - starts[-2] == timedelta(hours=25)
    assert [w.key for w in week.trend_weeks()] == [f"2026-W{n}" for n in range(36, 44)]
    # Sunday 23:30 UTC is already Monday in Berlin: the last complete week is the one that just ended.
    assert last_complete_week(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), BERLIN).key == "2026-W48"
    assert last_complete_week(datetime(2026, 11, 29, 22, 30, tzinfo=UTC), BERLIN).key == "2026-W47"
    assert iso_week("2026-W53", BERLIN).key == "2026-W53"  # 2026 has 53 ISO weeks
    with pytest.raises(ValueError, match="not a week"):
        iso_week("2025-W53", BERLIN)


@pytest.mark.parametrize(("digest", "key", "message"), [
    ({"weekday": "montag"}, "digest.weekday", "expected one of monday"),
    ({"time": "8 Uhr"}, "digest.time", "expected a local time like '08:00'"),
    ({"timezone": "Berlin"}, "digest.timezone", "unknown time zone 'Berlin'"),
    ({"lang": "fr"}, "digest.lang", "expected 'de' or 'en'"),
    ({"recipients": ["a@b.example, c@d.example"]}, "digest.recipients", "not a plain e-mail address"),
    ({"recipients": ["m@b.example"]}, "digest.channel", "name the email channel"),
    ({"channel": "chat", "recipients": ["m@b.example"]}, "digest.channel", "no email channel named 'chat'"),
    ({"brands": ["Globex"]}, "digest.brands", "no own (non-competitor) brand named 'Globex'"),
    ({"sendempty": True}, "digest.sendempty", "unknown key"),
])
def test_digest_config_errors_name_the_key(digest: dict[str, object], key: str, message: str) -> None:
    raw = {"brand": [{"name": "Acme", "terms": ["Acme"]}, {"name": "Globex", "terms": ["Globex"], "competitor": True}],
           "channel": [{"name": "chat", "kind": "webhook", "url": "https://hooks.example/x"}],
           "digest": digest}
    with pytest.raises(ConfigError) as error:
        parse_settings(raw)
    ((found_key, found_message),) = error.value.problems
    assert found_key == key and message in found_message
