"""The contact's history on the task page: what this person said on every platform (every identity of the
contact, links followed), the tasks it opened or joined and how they ended, newest first.

Other parts add their own entries through a provider (e.g. replies posted to a platform, once listener posts them):

    from listener.contacts.history import HistoryEntry, HistoryScope, history_provider

    @history_provider
    def replies(session: Session, scope: HistoryScope) -> list[HistoryEntry]:
        ...  # at most scope.limit entries about scope.mention_ids / scope.contact_id, any order

A provider is called with the contact's scope and returns entries; all entries are merged newest first and cut to
the limit. Register providers at import time of a module the web app imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from listener.contacts.lookup import live_contact, mention_ids_of
from listener.contacts.models import IdentityMention, TaskFollowUp, TaskMerge
from listener.store.models import MentionRow, TaskRow

HISTORY_LIMIT = 30


@dataclass
class HistoryEntry:
    at: datetime
    kind: str  # "mention", or what a provider adds ("reply", …)
    platform: str  # the platform kind: "reddit", "discourse" …
    source: str | None  # the configured source it came through
    who: str | None  # the handle or name it was written under
    text: str  # title or text, plain (templates escape it)
    url: str | None = None
    mention_id: int | None = None
    task: TaskRow | None = None  # the task it opened or joined
    joined: bool = False  # a follow-up of `task` rather than the mention that opened it
    merged_into: int | None = None  # the task `task` was merged into
    label: str | None = None  # the care team's verdict on it


@dataclass(frozen=True)
class HistoryScope:
    contact_id: int
    mention_ids: Select[int]  # every mention of the contact, as a subquery
    exclude: frozenset[int]  # mention ids not to list (the task's own, shown above the history)
    limit: int


HistoryProvider = Callable[[Session, HistoryScope], list[HistoryEntry]]
_providers: list[HistoryProvider] = []


def history_provider(provider: HistoryProvider) -> HistoryProvider:
    """Register a provider of history entries (usable as a decorator)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def _when(row: MentionRow) -> datetime:
    return row.published_at or row.fetched_at


def mention_entries(session: Session, scope: HistoryScope) -> list[HistoryEntry]:
    """The contact's mentions, each with the task it opened or joined, that task's outcome and the label."""
    query = (select(MentionRow, IdentityMention.identity_id).join(IdentityMention,
                                                                   IdentityMention.mention_id == MentionRow.id)
             .where(MentionRow.id.in_(scope.mention_ids), MentionRow.id.not_in(scope.exclude))
             .order_by(func.coalesce(MentionRow.published_at, MentionRow.fetched_at).desc(), MentionRow.id.desc())
             .limit(scope.limit))
    rows = [row for row, _identity in session.execute(query).all()]
    if not rows:
        return []
    ids = [r.id for r in rows]
    opened = {t.mention_id: t for t in session.scalars(select(TaskRow).where(TaskRow.mention_id.in_(ids)))}
    joined_ids = dict(session.execute(select(TaskFollowUp.mention_id, TaskFollowUp.task_id)
                                      .where(TaskFollowUp.mention_id.in_(ids))).all())
    joined = {t.id: t for t in session.scalars(select(TaskRow).where(TaskRow.id.in_(set(joined_ids.values()))))}
    task_ids = {t.id for t in opened.values()} | set(joined)
    merged = dict(session.execute(select(TaskMerge.from_task_id, TaskMerge.into_task_id)
                                  .where(TaskMerge.from_task_id.in_(task_ids))).all()) if task_ids else {}
    entries = []
    for row in rows:
        follow_up_of = joined.get(joined_ids.get(row.id, -1))
        task = opened.get(row.id)
        # A mention whose task was merged into another is a follow-up there: show where it lives now.
        if task is not None and follow_up_of is not None:
            task = follow_up_of
        task = task or follow_up_of
        text = " ".join(((row.title + ": " if row.title else "") + row.text).split())
        entries.append(HistoryEntry(
            at=_when(row), kind="mention", platform=row.source_kind, source=row.source.name, who=row.author,
            text=text, url=row.url, mention_id=row.id, task=task, joined=row.id in joined_ids,
            merged_into=merged.get(task.id) if task is not None else None,
            label=row.label.sentiment if row.label is not None else None))
    return entries


def contact_history(session: Session, contact_id: int, exclude: frozenset[int] = frozenset(),
                    limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """Everything known about the contact, newest first (mentions and whatever providers add)."""
    contact = live_contact(session, contact_id)
    if contact is None:
        return []
    scope = HistoryScope(contact.id, mention_ids_of(contact.id), exclude, limit)
    entries = mention_entries(session, scope)
    for provider in list(_providers):
        entries += provider(session, scope)
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]
