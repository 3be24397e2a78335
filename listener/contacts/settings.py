"""`[[rule]] task.join`: how long after a contact's last word their open task takes new mentions as follow-ups."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

from listener.durations import format_duration, parse_duration

DEFAULT_JOIN = timedelta(hours=72)
OFF = ("off", "no", "false", "none", "0")


def parse_join(value: Any) -> timedelta:
    """"72h" (a duration), or "off" / 0 / false: every matching mention opens its own task."""
    if value is False or (isinstance(value, str) and value.strip().lower() in OFF):
        return timedelta(0)
    try:
        window = parse_duration(value)
    except ValueError:
        raise ValueError(f"expected a duration like '72h' or 'off', got {value!r}") from None
    if window < timedelta(0):
        raise ValueError(f"expected a duration like '72h' or 'off', got {value!r}")
    return window


def format_join(value: timedelta) -> str:
    return format_duration(value) if value else "off"


JoinWindow = Annotated[timedelta, BeforeValidator(parse_join), PlainSerializer(format_join)]
