"""Our own posts read back by a source — the replies listener posted, and anything by the accounts a source lists
in `own_accounts` — are not mentions: the poll drops them before matching, so they are never scored or turned
into tasks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.domain import Mention
from listener.store.models import ReplyRow


def _handle(name: str) -> str:
    return name.strip().lstrip("@").casefold()


def own_accounts(settings: Any) -> list[str]:
    """The source's `own_accounts`, and the accounts its reply keys name (Discourse `reply_username`, Bluesky
    `reply_handle`): whatever they post is ours."""
    named = [getattr(settings, key, None) for key in ("reply_username", "reply_handle")]
    return list(getattr(settings, "own_accounts", [])) + [n for n in named if isinstance(n, str) and n]


def own_posts(session: Session, kind: str, own_accounts: Sequence[str], mentions: Iterable[Mention]) -> set[str]:
    """External ids of `mentions` that are ours: posted by one of `own_accounts`, or stored as the platform id
    of a reply listener posted on this kind of platform."""
    mentions = list(mentions)
    accounts = {_handle(a) for a in own_accounts if a.strip()}
    ours = {m.external_id for m in mentions if accounts and m.author and _handle(m.author) in accounts}
    ids = [m.external_id for m in mentions if m.external_id not in ours]
    for start in range(0, len(ids), 500):
        ours.update(session.scalars(select(ReplyRow.platform_id).where(
            ReplyRow.source_kind == kind, ReplyRow.platform_id.in_(ids[start:start + 500]))))
    return ours
