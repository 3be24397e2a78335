"""What a source test asks of the store after a poll through the pipeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from listener.store.engine import Store
from listener.store.models import MentionRow, SourceHealth


def count(store: Store, model: Any = MentionRow) -> int:
    """Rows of `model` (mentions unless told)."""
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def health(store: Store) -> SourceHealth:
    """The health row of the only source in the store, detached from its session."""
    with store.read() as session:
        row = session.scalars(select(SourceHealth)).one()
        session.expunge(row)
        return row
