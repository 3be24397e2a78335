"""Reading what a request says — path ids, numbers, dates, text — so that a malformed value is a 400 or 404
with the page's own error, never a 500.

Python reads more than a URL should mean: `int("²")` fails although `"²".isdigit()`, `int("١٢")` is 12, and
`int("99999999999999999999")` fits no database column. Numbers here are ASCII digits within a range; ids fit the
store's INTEGER columns; text loses NUL characters (PostgreSQL refuses them) and is cut to a length.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request

MAX_ID = 2**31 - 1  # the store's INTEGER ids (PostgreSQL's int4)
_DIGITS = re.compile(r"[0-9]{1,12}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LAST_DAY = date(9999, 12, 30)  # a day after which "the day after" still exists


class BadParam(Exception):
    """A request value that cannot be used: the page answers `status` with `message` (English, translated, then
    filled with `params`)."""

    def __init__(self, status: int, message: str, **params: Any):
        self.status, self.message, self.params = status, message, params
        super().__init__(message.format(**params))


def text(value: Any, limit: int = 1000) -> str:
    """A text field as a plain string: NUL characters dropped (PostgreSQL refuses them), at most `limit` long."""
    return str(value or "").replace("\x00", "")[:limit]


def whole(value: str | None, name: str, default: int, low: int, high: int) -> int:
    """An optional whole number from `low` to `high` in ASCII digits; empty or missing: `default`."""
    if value is None or value.strip() == "":
        return default
    value = value.strip()
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise BadParam(400, "{name}: expected a whole number from {low} to {high}.", name=name, low=low, high=high)
    return int(value)


def ident(value: str | None) -> int | None:
    """An id (1 … MAX_ID in ASCII digits), or None for anything else (no such row)."""
    value = (value or "").strip()
    if not _DIGITS.fullmatch(value) or not 1 <= int(value) <= MAX_ID:
        return None
    return int(value)


def path_id(request: Request, key: str, missing: str) -> int:
    """The id in the path (routes declare `{key:int}`); an id no row can have answers 404 with `missing`."""
    raw = str(request.path_params.get(key, ""))
    found = ident(raw)
    if found is None:
        raise BadParam(404, missing, id=raw[:20])
    return found


def day(value: str | None, name: str) -> datetime | None:
    """An optional date (YYYY-MM-DD) as midnight UTC."""
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    try:
        parsed = datetime.strptime(value, "%Y-%m-%d").date() if _DATE.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed > LAST_DAY:
        raise BadParam(400, "{name}: expected a date such as 2026-01-31.", name=name)
    return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)


def choice(value: str | None, name: str, allowed: tuple[str, ...], default: str) -> str:
    """One of `allowed`; empty or missing: `default`."""
    if not value:
        return default
    if value not in allowed:
        raise BadParam(400, "{name}: expected one of {allowed}.", name=name, allowed=", ".join(allowed))
    return value
