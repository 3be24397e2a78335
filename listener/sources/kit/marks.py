"""The newest-review mark that the review sources (App Store, Google Play, Trustpilot) keep in their cursors:
`{"newest": ISO time, "newest_id": "…"}` of the newest dated review seen. A later poll reads pages until it
reaches a review at or before that time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from listener.domain import Mention


def newest_mark(items: Iterable[Mention], known: datetime | None) -> dict[str, str] | None:
    """The mark of the newest dated item when it is newer than `known` (or nothing is known yet); None when
    the items bring nothing newer, and the caller keeps the mark it had."""
    dated = [(m.published_at, m.external_id) for m in items if m.published_at is not None]
    if not dated:
        return None
    newest_at, newest_id = max(dated)
    if known and newest_at <= known:
        return None
    return {"newest": newest_at.isoformat(), "newest_id": newest_id}
