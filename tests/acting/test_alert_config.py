"""Config errors of hours, escalation, grouping and routes name the key."""

from __future__ import annotations

import pytest

from listener.config import ConfigError
from tests.alerting import alert_settings


def problems(rules: str) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        alert_settings(2525, "http://127.0.0.1:9/hook", rules)
    return caught.value.problems


@pytest.mark.parametrize(("rules", "key", "message"), [
    ('[[rule]]\nname = "r"\ntask = { hours = "care-fr" }', "rule[0].task.hours",
     "no hours named 'care-fr' (hours: care-de)"),
    ('[[rule]]\nname = "r"\nnotify = ["pager"]', "rule[0].notify", "no channel named 'pager' (channels: chat, mail)"),
    ('[[rule]]\nname = "r"\nescalate = [{ after = "due", notify = ["mail"] }, { after = "due+1h", notify = ["x"] }]',
     "rule[0].escalate[1].notify", "no channel named 'x'"),
    ('[[rule]]\nname = "r"\ntask = { hours = "care-de" }\noutside_hours = { notify = ["oncall"] }',
     "rule[0].outside_hours.notify", "no channel named 'oncall'"),
    ('[[rule]]\nname = "r"\noutside_hours = { notify = ["mail"] }', "rule[0].outside_hours", "needs task.hours"),
    ('[[rule]]\nname = "r"\nescalate = [{ after = "1h", notify = ["mail"] }]', "rule[0].escalate[0].after",
     "expected 'due' or 'due+<duration>'"),
    ('[[rule]]\nname = "r"\ngroup = { by = ["colour"] }', "rule[0].group.by[0]", "Input should be"),
    ('[[rule]]\nname = "r"\ngroup = { wait = "soon" }', "rule[0].group.wait", "expected a duration"),
    ('[[rule]]\nname = "r"\ngroup = { by = ["brand"], repeat = "1h" }', "rule[0].group.repeat", "unknown key"),
    ('[[hours]]\nname = "x"\nweek = { mon = "18:00-08:00" }', "hours[1].week.mon", "ends before it starts"),
    ('[[hours]]\nname = "x"\nweek = { mon = "9-5" }', "hours[1].week.mon", "expected a time range like"),
    ('[[hours]]\nname = "x"\nweek = { monday = "09:00-17:00" }', "hours[1].week.monday", "unknown key"),
    ('[[hours]]\nname = "x"\nweek = { mon = "09:00-17:00" }\nholidays = { country = "XX" }', "hours[1].holidays",
     "unknown country or subdivision"),
    ('[[hours]]\nname = "x"\ntimezone = "Berlin"\nweek = { mon = "09:00-17:00" }', "hours[1].timezone",
     "unknown time zone 'Berlin'"),
    ('[[hours]]\nname = "care-de"\nweek = { mon = "09:00-17:00" }', "hours[1].name", "'care-de' is used twice"),
])
def test_config_errors_name_the_key(rules: str, key: str, message: str) -> None:
    found = problems(rules)
    assert any(k == key and message in m for k, m in found), found


def test_task_url_needs_the_task_number() -> None:
    from listener.delivery.settings import DeliverySettings

    with pytest.raises(ValueError, match="with \\{id\\} where the task number goes"):
        DeliverySettings(task_url="https://care.example.com/tasks")
