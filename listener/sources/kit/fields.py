"""Helpers that turn platform fields into Mention fields: times, counts and the brands' search terms.

Every helper takes whatever the platform sent (any JSON value, or None) and returns either a clean value
or None: a missing or malformed field never raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from listener.sources.kit.source import BrandTerms


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 time ("…Z" and "…+02:00" alike) in UTC; a time without an offset is taken as UTC.
    Anything that is not a non-empty ISO string gives None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def unix_time(value: Any) -> datetime | None:
    """Unix seconds (int or float, not bool) as a UTC time; anything else, or out of range, gives None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):  # NaN, infinity, years past 9999
        return None


def as_int(value: Any) -> int | None:
    """An int or float (not bool) as an int, truncated; strings, None, NaN and infinity give None."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value)


def counts(**values: Any) -> dict[str, int]:
    """Reach figures that the platform actually gave (numbers only; None and junk are left out)."""
    found = {key: as_int(value) for key, value in values.items()}
    return {key: value for key, value in found.items() if value is not None}


def as_text(value: Any) -> str | None:
    """A non-empty string (stripped), or a number as text (account ids come as either); anything else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON object as it is; anything else (None, a list, a string) as an empty dict."""
    return value if isinstance(value, dict) else {}


def search_terms(brands: Iterable[BrandTerms]) -> list[str]:
    """Every distinct search term of every configured brand (competitors too, for share of voice):
    the brand's `terms` and the positive terms of its `query` (`BrandSettings.search_terms`)."""
    seen: set[str] = set()
    terms: list[str] = []
    for brand in brands:
        for candidate in brand.search_terms():
            term = " ".join(str(candidate).split())
            if term and term.casefold() not in seen:
                seen.add(term.casefold())
                terms.append(term)
    return terms
