"""`ZoneName`: a config value naming an IANA time zone, checked when the config is read (not when first used)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Europe/Berlin')") from None
    return value


ZoneName = Annotated[str, AfterValidator(known_zone)]
