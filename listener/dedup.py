"""Duplicates.

Exact: the same (source, external id) is stored once — enforced by a unique constraint, and checked
before insert so a re-poll is cheap. Copies: a mention whose normalised text equals one already stored
(a cross-post, a syndicated article) is linked to that first, canonical mention, so one story alerts once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.matching import normalise
from listener.store.models import MentionRow

_CHUNK = 500


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def known_external_ids(session: Session, source_id: int, external_ids: Iterable[str]) -> set[str]:
    ids = list(dict.fromkeys(external_ids))
    known: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        known.update(session.scalars(
            select(MentionRow.external_id).where(MentionRow.source_id == source_id,
                                                 MentionRow.external_id.in_(chunk))
        ))
    return known


def canonical_for(session: Session, digest: str) -> int | None:
    """The id of the first stored mention with this normalised text, if any."""
    return session.scalar(
        select(MentionRow.id).where(MentionRow.content_hash == digest, MentionRow.canonical_id.is_(None))
        .order_by(MentionRow.id).limit(1)
    )
