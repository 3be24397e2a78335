"""Sentiment recovery: for every answered task, what the same contact posted next within `[report]
recovery_window` after our first response — nothing, a non-negative post, or another negative one.

All in SQL over the mentions store, the same statements on SQLite and PostgreSQL: the contact's later mentions
(`contact_mentions_after`), the first of them inside the window that has a sentiment (the care team's label,
else the model's; unscored mentions wait for their score), ranked with ROW_NUMBER() per task. A task answered
less than a window ago with no post yet is `pending`: it is not counted as silent before its window is over.
Time is a mention's publication time (its fetch time when the platform gives none), to the second.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Select, Subquery, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from listener.contacts.models import Identity, IdentityMention
from listener.store.models import MentionLabel, MentionRow, ScoreRow

OUTCOMES = ("silent", "recovered", "negative_again", "pending")


class epoch(FunctionElement[int]):  # noqa: N801 - SQL function name
    """Whole seconds since 1970 of a stored UTC time, alike on both databases (so windows agree to the second)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch)
def _epoch_default(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


def contact_mentions_after(answered: Subquery) -> Select[Any]:
    """Mentions by the contact of each answered task (listener/contacts: every identity of the contact, on every
    platform, links between contacts followed), posted after its first response.

    `answered` has task_id, mention_id (the task's mention) and at (the first response). Rows: task_id, at,
    mention_id, seen_at. A mention that names nobody has no contact, and its task no later mentions."""
    own_link, own_identity = aliased(IdentityMention), aliased(Identity)
    same_contact, later_link = aliased(Identity), aliased(IdentityMention)
    later = aliased(MentionRow)
    seen = func.coalesce(later.published_at, later.fetched_at)
    return (select(answered.c.task_id, answered.c.at, later.id.label("mention_id"), seen.label("seen_at"))
            .select_from(answered)
            .join(own_link, own_link.mention_id == answered.c.mention_id)
            .join(own_identity, own_identity.id == own_link.identity_id)
            .join(same_contact, same_contact.contact_id == own_identity.contact_id)
            .join(later_link, later_link.identity_id == same_contact.id)
            .join(later, later.id == later_link.mention_id)
            .where(later.id != answered.c.mention_id, seen > answered.c.at))


def outcomes(answered: Subquery, window: timedelta, now: datetime) -> Subquery:
    """task_id, outcome (silent | recovered | negative_again | pending) for every row of `answered`."""
    later = contact_mentions_after(answered).subquery("later")
    sentiment = func.coalesce(MentionLabel.sentiment, ScoreRow.sentiment)
    ranked = (select(later.c.task_id, sentiment.label("sentiment"),
                     func.row_number().over(partition_by=later.c.task_id,
                                            order_by=(later.c.seen_at, later.c.mention_id)).label("rank"))
              .select_from(later)
              .outerjoin(ScoreRow, ScoreRow.mention_id == later.c.mention_id)
              .outerjoin(MentionLabel, MentionLabel.mention_id == later.c.mention_id)
              .where(epoch(later.c.seen_at) - epoch(later.c.at) <= literal(int(window.total_seconds())),
                     sentiment.is_not(None))
              .subquery("ranked"))
    first = select(ranked.c.task_id, ranked.c.sentiment).where(ranked.c.rank == 1).subquery("first_post")
    outcome: ColumnElement[str] = case(
        (first.c.sentiment == "negative", "negative_again"),
        (first.c.sentiment.is_not(None), "recovered"),
        (answered.c.at > now - window, "pending"),
        else_="silent")
    return (select(answered.c.task_id, outcome.label("outcome"))
            .select_from(answered).outerjoin(first, first.c.task_id == answered.c.task_id)
            .subquery("outcomes"))
