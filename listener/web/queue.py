"""The queue: open tasks, overdue first, then by due time and priority; facet filters with counts.

One light query reads the facts of every open task (a few thousand rows at most: the care team's backlog);
filtering, counting and ordering happen in Python, so the counts of every facet come from the same read.
Only the shown page's mention texts are read afterwards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.alerts.rules import URGENCY_RANK
from listener.alerts.tasks import OPEN_STATES
from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceRow, TaskAssignment, TaskRow

FACETS = ("status", "priority", "brand", "category", "source", "language", "assignee")
PAGE_SIZE = 100
UNASSIGNED = "-"
WAITING_STATES = ("open", "acknowledged")  # no first response yet: these can be overdue


@dataclass
class QueueItem:
    task_id: int
    mention_id: int
    status: str
    priority: str
    due_at: datetime | None
    created_at: datetime
    source: str
    author: str | None
    language: str | None
    categories: list[str]
    assignee: str | None
    brands: list[str] = field(default_factory=list)
    overdue: bool = False
    title: str | None = None
    excerpt: str = ""

    def facet_values(self, facet: str) -> list[str]:
        match facet:
            case "brand":
                return self.brands
            case "category":
                return self.categories
            case "assignee":
                return [self.assignee or UNASSIGNED]
            case "language":
                return [self.language or "?"]
            case _:
                return [str(getattr(self, facet))]

    def sort_key(self) -> tuple[int, float, int, int]:
        due = self.due_at.timestamp() if self.due_at else float("inf")
        return (0 if self.overdue else 1, due, URGENCY_RANK.get(self.priority, 9), self.task_id)


@dataclass
class Queue:
    items: list[QueueItem]  # the page shown
    total: int  # matching the filters
    open_total: int
    overdue: int
    counts: dict[str, list[tuple[str, int]]]  # facet -> (value, tasks matching the other filters and this value)


def open_items(session: Session, now: datetime) -> list[QueueItem]:
    query = (
        select(TaskRow.id, TaskRow.mention_id, TaskRow.status, TaskRow.priority, TaskRow.due_at, TaskRow.created_at,
               SourceRow.name, MentionRow.author, ScoreRow.language, ScoreRow.categories, TaskAssignment.assignee)
        .join(MentionRow, MentionRow.id == TaskRow.mention_id)
        .join(SourceRow, SourceRow.id == MentionRow.source_id)
        .outerjoin(ScoreRow, ScoreRow.mention_id == TaskRow.mention_id)
        .outerjoin(TaskAssignment, TaskAssignment.task_id == TaskRow.id)
        .where(TaskRow.status.in_(OPEN_STATES))
    )
    items = {}
    for row in session.execute(query):
        item = QueueItem(*row[:9], categories=list(row[9] or []), assignee=row[10])
        item.overdue = bool(item.due_at and item.due_at < now and item.status in WAITING_STATES)
        items[item.mention_id] = item
    brands = select(MentionBrand.mention_id, MentionBrand.brand).join(
        TaskRow, TaskRow.mention_id == MentionBrand.mention_id).where(TaskRow.status.in_(OPEN_STATES))
    for mention_id, brand in session.execute(brands):
        if mention_id in items:
            items[mention_id].brands.append(brand)
    return list(items.values())


def matches(item: QueueItem, filters: Mapping[str, str], skip: str | None = None) -> bool:
    return all(value in item.facet_values(facet) for facet, value in filters.items() if facet != skip and value)


def build_queue(session: Session, now: datetime, filters: Mapping[str, str], page: int = 0) -> Queue:
    filters = {k: v for k, v in filters.items() if k in FACETS and v}
    everything = open_items(session, now)
    chosen = sorted((i for i in everything if matches(i, filters)), key=QueueItem.sort_key)
    counts = {}
    for facet in FACETS:
        counter: Counter[str] = Counter()
        for item in everything:
            if matches(item, filters, skip=facet):
                counter.update(set(item.facet_values(facet)))
        counts[facet] = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = chosen[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    _add_texts(session, shown)
    return Queue(shown, len(chosen), len(everything), sum(i.overdue for i in everything), counts)


def _add_texts(session: Session, items: list[QueueItem]) -> None:
    if not items:
        return
    by_mention = {i.mention_id: i for i in items}
    query = select(MentionRow.id, MentionRow.title, func.substr(MentionRow.text, 1, 240)).where(
        MentionRow.id.in_(by_mention))
    for mention_id, title, text in session.execute(query):
        by_mention[mention_id].title = title
        by_mention[mention_id].excerpt = " ".join((text or "").split())
