"""The queue: open tasks, overdue first, then by due time and priority; facet filters with counts.

One ordered read of a few plain columns per open task (the backlog: thousands at most, however many millions of
mentions are stored) plus their brands; filters and the counts of every facet are computed from that read in one
pass, so the counts always agree with the list. Only the shown page's texts are read afterwards.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from listener.contacts.models import TaskFollowUp
from listener.domain import OPEN_STATES, WAITING_STATES
from listener.store.models import (
    MentionBrand,
    MentionRow,
    ScoreRow,
    SourceRow,
    TaskEvent,
    TaskRow,
)
from listener.web.versions import versions

FACETS = ("status", "priority", "brand", "category", "source", "language", "assignee")
VIEWS = ("all", "mine", "unassigned", "overdue")
SORTS = ("due", "priority", "newest", "oldest")
PAGE_SIZE = 100
UNASSIGNED = "-"
UNKNOWN_LANGUAGE = "?"


@dataclass
class QueueItem:
    task_id: int
    mention_id: int
    status: str
    priority: str
    overdue: bool
    source: str
    language: str | None
    categories: tuple[str, ...]
    assignee: str | None
    brands: tuple[str, ...]
    due_at: datetime | None = None
    author: str | None = None
    title: str | None = None
    excerpt: str = ""
    follow_ups: int = 0  # mentions of the contact that joined this task (listener/acting/joining.py)
    created_at: datetime | None = None
    version: int = 0  # the last activity-log entry: bulk actions refuse tasks changed since (web/versions.py)


@dataclass
class Queue:
    items: list[QueueItem]  # the page shown
    total: int  # matching the filters
    open_total: int
    overdue: int
    counts: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # facet -> (value, tasks)


@lru_cache(maxsize=1024)
def _categories(raw: str | None) -> tuple[str, ...]:
    """Scores keep categories as a JSON list; the same few lists repeat, so each is parsed once."""
    return tuple(json.loads(raw)) if raw else ()


@dataclass(frozen=True)
class Shift:
    """What an agent narrows the queue to besides the facets: a view, a sort order, words to search for."""

    view: str = "all"  # all | mine | unassigned | overdue
    me: str = ""  # the agent, for "mine"
    sort: str = "due"  # due (overdue first, then due time, priority) | priority | newest | oldest
    search: str = ""  # in the mention's text, title or author

    def key(self) -> tuple[str, str, str, str]:
        return self.view, self.me if self.view == "mine" else "", self.sort, self.search.lower()

    def keeps(self, late: int, assignee: str | None) -> bool:
        if self.view == "mine":
            return assignee == self.me
        if self.view == "unassigned":
            return assignee is None
        return bool(late) if self.view == "overdue" else True


def _searched(session: Session, words: str) -> set[int]:
    """Open tasks whose mention's text, title or author contains `words` (the backlog only: thousands at most)."""
    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = (select(TaskRow.id).join(MentionRow, MentionRow.id == TaskRow.mention_id)
             .where(TaskRow.status.in_(OPEN_STATES),
                    or_(MentionRow.text.ilike(pattern, escape="\\"), MentionRow.title.ilike(pattern, escape="\\"),
                        MentionRow.author.ilike(pattern, escape="\\"))))
    return set(session.scalars(query))


def build_queue(session: Session, now: datetime, filters: Mapping[str, str], page: int = 0,
                shift: Shift = Shift()) -> Queue:
    filters = {k: v for k, v in filters.items() if k in FACETS and v}
    found = _searched(session, shift.search) if shift.search else None
    sources = {i: name for i, name in session.execute(select(SourceRow.id, SourceRow.name))}
    open_task = TaskRow.status.in_(OPEN_STATES)
    brands: dict[int, tuple[str, ...]] = {}
    for mention_id, brand in session.execute(select(MentionBrand.mention_id, MentionBrand.brand).join(
            TaskRow, TaskRow.mention_id == MentionBrand.mention_id).where(open_task).order_by(MentionBrand.brand)):
        brands[mention_id] = (*brands.get(mention_id, ()), brand)
    overdue = case((and_(TaskRow.due_at < now, TaskRow.status.in_(WAITING_STATES)), 1), else_=0)
    rows = session.execute(
        select(TaskRow.id, TaskRow.mention_id, TaskRow.status, TaskRow.priority, overdue, MentionRow.source_id,
               ScoreRow.language, TaskRow.assignee, cast(ScoreRow.categories, String), TaskRow.due_at,
               TaskRow.created_at)
        .select_from(TaskRow)
        .join(MentionRow, MentionRow.id == TaskRow.mention_id)
        .outerjoin(ScoreRow, ScoreRow.mention_id == TaskRow.mention_id)
        .where(open_task)
        .order_by(overdue.desc(), TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.priority, TaskRow.id))
    counts: dict[str, Counter[str]] = {facet: Counter() for facet in FACETS}
    chosen = []
    open_total = overdue_total = 0
    for task_id, mention_id, status, priority, late, source_id, language, assignee, raw_categories, due_at, \
            created_at in rows:
        if not shift.keeps(late, assignee) or (found is not None and task_id not in found):
            continue  # outside the view or the search: counted nowhere
        values = {"status": (status,), "priority": (priority,), "brand": brands.get(mention_id, ()),
                  "category": _categories(raw_categories), "source": (sources.get(source_id, "?"),),
                  "language": (language or UNKNOWN_LANGUAGE,), "assignee": (assignee or UNASSIGNED,)}
        open_total += 1
        overdue_total += late
        # A facet's counts honour every filter but its own: a task failing no filter counts in every facet, one
        # failing exactly one filter only in that facet (so the facet's other values stay reachable).
        failed = [facet for facet, value in filters.items() if value not in values[facet]]
        if not failed:
            chosen.append((task_id, mention_id, status, priority, late, language, assignee, values, due_at,
                           created_at))
        if len(failed) <= 1:
            for facet in failed or FACETS:
                counter = counts[facet]
                for value in values[facet]:
                    counter[value] += 1
    if shift.sort != "due":  # the query's order is "due"; the others re-sort the chosen few
        chosen.sort(key=SORT_KEYS[shift.sort])
    shown = [QueueItem(task_id, mention_id, status, priority, bool(late), values["source"][0], language,
                       values["category"], assignee, values["brand"])
             for task_id, mention_id, status, priority, late, language, assignee, values, _due, _created
             in chosen[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]
    _add_details(session, shown)
    ordered = {facet: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for facet, c in counts.items()}
    return Queue(shown, len(chosen), open_total, overdue_total, ordered)


_FAR = datetime.max.replace(tzinfo=UTC)
SORT_KEYS: dict[str, Any] = {  # over the chosen rows: (id, mention, status, priority, late, …, due_at, created_at)
    "priority": lambda r: (r[3], -r[4], r[8] or _FAR, r[0]),
    "newest": lambda r: (-(r[9].timestamp() if r[9] else 0), -r[0]),
    "oldest": lambda r: (r[9].timestamp() if r[9] else 0, r[0]),
}


def _add_details(session: Session, items: list[QueueItem]) -> None:
    by_task = {i.task_id: i for i in items}
    if not by_task:
        return
    for task_id, follow_ups in session.execute(select(TaskFollowUp.task_id, func.count()).where(
            TaskFollowUp.task_id.in_(by_task)).group_by(TaskFollowUp.task_id)):
        by_task[task_id].follow_ups = follow_ups
    query = (select(TaskRow.id, TaskRow.due_at, MentionRow.author, MentionRow.title,
                    func.substr(MentionRow.text, 1, 240), TaskRow.created_at)
             .join(MentionRow, MentionRow.id == TaskRow.mention_id).where(TaskRow.id.in_(by_task)))
    for task_id, due_at, author, title, text, created_at in session.execute(query):
        item = by_task[task_id]
        item.due_at, item.author, item.title, item.excerpt = due_at, author, title, " ".join((text or "").split())
        item.created_at = created_at
    for task_id, version in versions(session, by_task).items():
        by_task[task_id].version = version


SNAPSHOT_TTL = timedelta(seconds=5)
CACHE_ENTRIES = 256


class QueueCache:
    """Agents watching the same queue share one computation: a built queue is reused while the tasks' version
    (new tasks, open tasks, actions in the activity log) is unchanged, for at most SNAPSHOT_TTL (which also bounds
    how late a task turns overdue on screen, or a change made outside the activity log shows)."""

    def __init__(self, ttl: timedelta = SNAPSHOT_TTL):
        self.ttl = ttl
        self._entries: dict[tuple[Any, ...], tuple[tuple[Any, ...], datetime, Queue]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def version(session: Session) -> tuple[Any, ...]:
        row = session.execute(select(
            select(func.max(TaskRow.id)).scalar_subquery(),
            select(func.count(TaskRow.id)).where(TaskRow.status.in_(OPEN_STATES)).scalar_subquery(),
            select(func.max(TaskEvent.id)).scalar_subquery(),
        )).one()
        return tuple(row)

    def get(self, session: Session, now: datetime, filters: Mapping[str, str], page: int = 0,
            shift: Shift = Shift()) -> Queue:
        key = (tuple(sorted((k, v) for k, v in filters.items() if k in FACETS and v)), page, shift.key())
        version = self.version(session)
        with self._lock:
            hit = self._entries.get(key)
        if hit and hit[0] == version and now < hit[1]:
            return hit[2]
        queue = build_queue(session, now, dict(key[0]), page, shift)
        with self._lock:
            if len(self._entries) >= CACHE_ENTRIES:
                self._entries.clear()
            self._entries[key] = (version, now + self.ttl, queue)
        return queue
