"""The digest's figures, aggregated in the database: GROUP BY over the period's rows, never a row per mention
into Python (bench/bench_digest.py). The same SQL runs on SQLite and PostgreSQL.

What counts as what:
- a mention's *sentiment* is the care team's label where there is one (listener/labels.py), else the model's;
  unscored mentions count in the volume but not in the shares;
- a *negative service experience* and its categories likewise come from the label, else from the score;
- a mention's *potential reach* is the audience its platform gave (followers, views or reads: the largest), 0
  when none; a brand's potential reach is the sum over its mentions, reported with the share its largest post
  makes of it (reach.py), since one viral post can be most of it;
- *engagement* is counted per kind — likes, reposts (and quotes), replies, votes (and scores) — never mixed
  with the audience;
- a post's *reach* (which copy of a story, which posts are notable) is the largest of all those figures;
- days and weeks are local to the digest's time zone (period.py); a mention belongs to the day it was published.
Near-duplicates (a story syndicated to several sites) count once per site in the volume, as each copy was read
somewhere; a notable post is the most-reached copy of its story, so one story shows once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, Text, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from listener.clock import utc
from listener.digest.period import Period
from listener.domain import TaskStatus
from listener.nlp.categories import CATEGORIES
from listener.store.models import MentionBrand, MentionLabel, MentionRow, ScoreRow, SourceRow, TaskRow

REACH_KEYS = ("followers", "views", "reads", "score", "likes", "votes", "reposts", "replies")
AUDIENCE_KEYS = ("followers", "views", "reads")
ENGAGEMENT_KEYS = {"likes": ("likes",), "reposts": ("reposts", "quotes"), "replies": ("replies",),
                   "votes": ("score", "votes")}
NOTABLE_PER_SENTIMENT = 3
TOP_AUDIENCE = 3  # the largest contributors to a brand's potential reach


class greatest(FunctionElement[int]):  # noqa: N801 - SQL function name
    """GREATEST(a, b, …): `max(a, b, …)` in SQLite. Arguments must not be NULL (SQLite's max would be NULL)."""

    type = Integer()
    inherit_cache = True


@compiles(greatest)
def _greatest_default(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


def _figure(key: str) -> ColumnElement[int]:
    return func.coalesce(MentionRow.reach[key].as_integer(), 0)


def reach_expr() -> ColumnElement[int]:
    return greatest(*(_figure(key) for key in REACH_KEYS))


def audience_expr() -> ColumnElement[int]:
    return greatest(*(_figure(key) for key in AUDIENCE_KEYS))


def engagement_expr(kind: str) -> ColumnElement[int]:
    keys = ENGAGEMENT_KEYS[kind]
    total: ColumnElement[int] = _figure(keys[0])
    for key in keys[1:]:
        total = total + _figure(key)
    return total


def sentiment_expr() -> ColumnElement[str]:
    return func.coalesce(MentionLabel.sentiment, ScoreRow.sentiment)


def _labelled() -> ColumnElement[bool]:
    return MentionLabel.mention_id.is_not(None)


def service_expr() -> ColumnElement[int]:
    """1 for a negative service experience (label first, then score), else 0."""
    return case((_labelled(), case((cast(MentionLabel.service_categories, Text) != "[]", 1), else_=0)),
                (ScoreRow.negative_service == true(), 1), else_=0)


def category_expr(category: str) -> ColumnElement[int]:
    """1 when a negative service experience names `category`. JSON lists are matched as text ('"billing"'),
    which both databases do alike, with no JSON table functions."""
    categories = case((_labelled(), cast(MentionLabel.service_categories, Text)),
                      else_=cast(ScoreRow.categories, Text))
    return case((and_(service_expr() == 1, categories.like(f'%"{category}"%')), 1), else_=0)


def bucket(column: Any, boundaries: Sequence[datetime]) -> ColumnElement[int]:
    """Index i of the [boundaries[i], boundaries[i+1]) interval the column falls in (rows outside are filtered)."""
    return case(*((column < b, i) for i, b in enumerate(boundaries[1:])), else_=None)


def _mentions_of(brands: Sequence[str], start: datetime, end: datetime) -> Select[Any]:
    """The join every figure starts from: mention × brand, with the score and the care team's label."""
    return (select()
            .select_from(MentionRow)
            .join(MentionBrand, MentionBrand.mention_id == MentionRow.id)
            .outerjoin(ScoreRow, ScoreRow.mention_id == MentionRow.id)
            .outerjoin(MentionLabel, MentionLabel.mention_id == MentionRow.id)
            .where(MentionRow.published_at >= start, MentionRow.published_at < end,
                   MentionBrand.brand.in_(list(brands))))


mentions_of = _mentions_of  # for the digest's other queries (days.py)


@dataclass(frozen=True)
class CubeRow:
    """Mentions of one brand on one day from one source in one language with one sentiment."""

    brand: str
    day: int  # index into previous.days + current.days
    source_id: int
    language: str
    sentiment: str | None
    mentions: int
    service: int
    audience: int
    engagement: dict[str, int]  # likes, reposts, replies, votes
    rating_sum: float
    rating_count: int
    categories: dict[str, int]


def cube(session: Session, brands: Sequence[str], current: Period, previous: Period) -> list[CubeRow]:
    """One pass over both periods, grouped finely; report.py sums the few hundred groups as each section needs."""
    boundaries = previous.day_starts()[:-1] + current.day_starts()
    kinds = list(ENGAGEMENT_KEYS)
    rows = _mentions_of(brands, previous.start, current.end).add_columns(
        MentionBrand.brand.label("brand"),
        bucket(MentionRow.published_at, boundaries).label("day"),
        MentionRow.source_id.label("source_id"),
        func.coalesce(ScoreRow.language, "unknown").label("language"),
        sentiment_expr().label("sentiment"),
        service_expr().label("service"),
        audience_expr().label("audience"),
        *(engagement_expr(kind).label(f"eng_{kind}") for kind in kinds),
        MentionRow.rating.label("rating"),
        *(category_expr(c).label(f"cat_{c}") for c in CATEGORIES),
    ).subquery()
    keys = (rows.c.brand, rows.c.day, rows.c.source_id, rows.c.language, rows.c.sentiment)
    query = select(*keys, func.count(), func.sum(rows.c.service), func.sum(rows.c.audience),
                   *(func.sum(rows.c[f"eng_{kind}"]) for kind in kinds),
                   func.sum(rows.c.rating), func.count(rows.c.rating),
                   *(func.sum(rows.c[f"cat_{c}"]) for c in CATEGORIES)).group_by(*keys)
    out = []
    for r in session.execute(query):
        engagement = {kind: int(n or 0) for kind, n in zip(kinds, r[8:8 + len(kinds)], strict=True)}
        rest = r[8 + len(kinds):]
        cats = {c: int(n or 0) for c, n in zip(CATEGORIES, rest[2:], strict=True)}
        out.append(CubeRow(r[0], int(r[1]), int(r[2]), r[3], r[4], int(r[5]), int(r[6] or 0), int(r[7] or 0),
                           engagement, float(rest[0] or 0.0), int(rest[1]), cats))
    return out


@dataclass(frozen=True)
class TrendRow:
    brand: str
    week: int
    source_id: int
    sentiment: str | None
    mentions: int
    rating_sum: float
    rating_count: int


def trend(session: Session, brands: Sequence[str], weeks: Sequence[Period]) -> list[TrendRow]:
    boundaries = [w.start for w in weeks] + [weeks[-1].end]
    rows = _mentions_of(brands, boundaries[0], boundaries[-1]).add_columns(
        MentionBrand.brand.label("brand"), bucket(MentionRow.published_at, boundaries).label("week"),
        MentionRow.source_id.label("source_id"), sentiment_expr().label("sentiment"),
        MentionRow.rating.label("rating"),
    ).subquery()
    keys = (rows.c.brand, rows.c.week, rows.c.source_id, rows.c.sentiment)
    query = select(*keys, func.count(), func.sum(rows.c.rating), func.count(rows.c.rating)).group_by(*keys)
    return [TrendRow(r[0], int(r[1]), int(r[2]), r[3], int(r[4]), float(r[5] or 0.0), int(r[6]))
            for r in session.execute(query)]


def source_names(session: Session) -> dict[int, tuple[str, str]]:
    return {r.id: (r.name, r.kind) for r in session.execute(select(SourceRow.id, SourceRow.name, SourceRow.kind))}


def notable(session: Session, brands: Sequence[str], period: Period,
            ) -> dict[tuple[str, str], list[int]]:
    """Ids of the posts a digest names, most reached first: (brand, "negative" | "positive") → the most-reached
    negative and positive posts; (brand, "any") → the most-reached post; (brand, "audience") → the posts with the
    largest audience, the top contributors to the potential reach (every copy counts there, as each was seen).
    Otherwise a story copied to several sites is one post: its most-reached copy (an agency story is read on the
    big site, not where it was first stored). One pass over the period's rows."""
    rows = _mentions_of(brands, period.start, period.end).add_columns(
        MentionRow.id.label("id"), MentionBrand.brand.label("brand"), sentiment_expr().label("sentiment"),
        func.coalesce(MentionRow.canonical_id, MentionRow.id).label("story"), reach_expr().label("reach"),
        audience_expr().label("audience"),
    ).subquery()  # the reach (eight JSON lookups) once per row, not once per use
    copies = select(
        rows.c.id, rows.c.brand, rows.c.sentiment, rows.c.reach,
        func.row_number().over(partition_by=(rows.c.brand, rows.c.story),
                               order_by=(rows.c.reach.desc(), rows.c.id)).label("copy"),
        case((rows.c.audience > 0, func.row_number().over(partition_by=rows.c.brand, order_by=(
            rows.c.audience.desc(), rows.c.id))), else_=None).label("audience_rank"),
    ).subquery()
    best = case((copies.c.copy == 1, 1), else_=0)  # ranks among the best copies only
    stories = select(
        copies.c.brand, copies.c.sentiment, copies.c.id, copies.c.copy, copies.c.audience_rank,
        func.row_number().over(partition_by=(copies.c.brand, best, copies.c.sentiment),
                               order_by=(copies.c.reach.desc(), copies.c.id)).label("rank"),
        func.row_number().over(partition_by=(copies.c.brand, best),
                               order_by=(copies.c.reach.desc(), copies.c.id)).label("overall"),
    ).subquery()
    query = (select(stories.c.brand, stories.c.sentiment, stories.c.id, stories.c.copy, stories.c.rank,
                    stories.c.overall, stories.c.audience_rank)
             .where(or_(and_(stories.c.copy == 1, or_(and_(stories.c.sentiment.in_(("negative", "positive")),
                                                            stories.c.rank <= NOTABLE_PER_SENTIMENT),
                                                       stories.c.overall == 1)),
                        stories.c.audience_rank <= TOP_AUDIENCE))
             .order_by(stories.c.brand, stories.c.sentiment, stories.c.rank))
    out: dict[tuple[str, str], list[int]] = {}
    audience: dict[str, list[tuple[int, int]]] = {}
    for brand, sentiment, mention_id, copy, rank, overall, audience_rank in session.execute(query):
        if copy == 1 and overall == 1:
            out[(brand, "any")] = [mention_id]
        if copy == 1 and sentiment in ("negative", "positive") and rank <= NOTABLE_PER_SENTIMENT:
            out.setdefault((brand, sentiment), []).append(mention_id)
        if audience_rank is not None and audience_rank <= TOP_AUDIENCE:
            audience.setdefault(brand, []).append((audience_rank, mention_id))
    for brand, ranked in audience.items():
        out[(brand, "audience")] = [mention_id for _, mention_id in sorted(ranked)]
    return out


def mentions_by_id(session: Session, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The few mentions a digest quotes (notable posts, theme examples), with their reach figures and source."""
    if not ids:
        return {}
    query = (select(MentionRow.id, MentionRow.url, MentionRow.title, MentionRow.text, MentionRow.author,
                    MentionRow.published_at, MentionRow.rating, SourceRow.name, sentiment_expr(),
                    reach_expr(), MentionRow.reach)
             .join(SourceRow, SourceRow.id == MentionRow.source_id)
             .outerjoin(ScoreRow, ScoreRow.mention_id == MentionRow.id)
             .outerjoin(MentionLabel, MentionLabel.mention_id == MentionRow.id)
             .where(MentionRow.id.in_(list(ids))))
    return {r[0]: {"id": r[0], "url": r[1], "title": r[2], "text": r[3], "author": r[4],
                   "published_at": utc(r[5]).isoformat() if r[5] else None, "rating": r[6], "source": r[7],
                   "sentiment": r[8], "reach": int(r[9] or 0), "figures": dict(r[10] or {})}
            for r in session.execute(query)}


def copies_of(session: Session, ids: Sequence[int]) -> dict[int, list[tuple[int, int]]]:
    """Canonical mention id → [(copy id, reach)] of its near-duplicate copies (syndicated stories)."""
    if not ids:
        return {}
    out: dict[int, list[tuple[int, int]]] = {}
    query = select(MentionRow.canonical_id, MentionRow.id, reach_expr()).where(MentionRow.canonical_id.in_(list(ids)))
    for canonical, copy, reach in session.execute(query):
        if canonical is not None:
            out.setdefault(int(canonical), []).append((int(copy), int(reach or 0)))
    return out


# ----------------------------------------------------------------------------- care figures
def _first_response() -> ColumnElement[datetime]:
    """When the customer got an answer: `responded`, or the close of a task resolved without that step."""
    return func.coalesce(TaskRow.responded_at,
                         case((TaskRow.status == TaskStatus.RESOLVED, TaskRow.closed_at), else_=None))


def _tasks_of(brands: Sequence[str]) -> Select[Any]:
    return (select().select_from(TaskRow)
            .join(MentionBrand, MentionBrand.mention_id == TaskRow.mention_id)
            .where(MentionBrand.brand.in_(list(brands))))


@dataclass
class CareRow:
    created: int = 0
    dismissed: int = 0
    answerable: int = 0  # created and not dismissed: the deadline applies
    within_deadline: int = 0
    open_backlog: int = 0
    response_seconds: list[float] | None = None


def care(session: Session, brands: Sequence[str], current: Period, previous: Period) -> dict[tuple[str, int], CareRow]:
    """(brand, 0 = previous | 1 = current) → task figures of the tasks created in that period.

    First-response times are the one thing read row by row: one pair of timestamps per answered task (tasks are
    a small share of mentions), because median and 90th percentile have no portable SQL aggregate."""
    boundaries = [previous.start, current.start, current.end]
    first = _first_response()
    inner = _tasks_of(brands).add_columns(
        MentionBrand.brand.label("brand"), bucket(TaskRow.created_at, boundaries).label("period"),
        case((TaskRow.status == TaskStatus.DISMISSED, 1), else_=0).label("dismissed"),
        # merged: answered there
        case((TaskRow.status.in_((TaskStatus.DISMISSED, TaskStatus.MERGED)), 0), else_=1).label("answerable"),
        case((and_(TaskRow.status != TaskStatus.DISMISSED, TaskRow.due_at.is_not(None), first <= TaskRow.due_at), 1),
             else_=0).label("within"),
    ).where(TaskRow.created_at >= previous.start, TaskRow.created_at < current.end).subquery()
    out: dict[tuple[str, int], CareRow] = {}
    query = select(inner.c.brand, inner.c.period, func.count(), func.sum(inner.c.dismissed),
                   func.sum(inner.c.answerable), func.sum(inner.c.within)).group_by(inner.c.brand, inner.c.period)
    for brand, period, created, dismissed, answerable, within in session.execute(query):
        out[(brand, int(period))] = CareRow(int(created), int(dismissed or 0), int(answerable or 0), int(within or 0))
    for index, end in ((0, previous.end), (1, current.end)):  # still waiting for an answer at the period's end
        backlog = (_tasks_of(brands).add_columns(MentionBrand.brand, func.count())
                   .where(TaskRow.created_at < end, or_(TaskRow.closed_at.is_(None), TaskRow.closed_at >= end),
                          or_(TaskRow.responded_at.is_(None), TaskRow.responded_at >= end))
                   .group_by(MentionBrand.brand))
        for brand, count in session.execute(backlog):
            out.setdefault((brand, index), CareRow()).open_backlog = int(count)
    answered = (_tasks_of(brands).add_columns(MentionBrand.brand, TaskRow.created_at, first.label("first"))
                .where(TaskRow.created_at >= previous.start, TaskRow.created_at < current.end,
                       TaskRow.status != TaskStatus.DISMISSED, first.is_not(None)))
    for brand, created_at, first_at in session.execute(answered):
        index = 1 if created_at >= current.start else 0
        row = out.setdefault((brand, index), CareRow())
        row.response_seconds = (row.response_seconds or []) + [(first_at - created_at).total_seconds()]
    return out


def sample_texts(every: dict[str, int], start: datetime, end: datetime,
                 ) -> Select[str, int, str | None, str, str | None, int, str, datetime | None]:
    """For each brand, every `every[brand]`-th canonical scored mention of it in [start, end) (by id): the bounded
    samples the themes are counted on (themes.py), in one pass over the stretch for all brands. Rows: brand, id,
    title, text, language, reach, sentiment, published."""
    stride = case(*((MentionBrand.brand == brand, n) for brand, n in every.items()), else_=1)
    return (select(MentionBrand.brand, MentionRow.id, MentionRow.title, MentionRow.text, ScoreRow.language,
                   reach_expr(), sentiment_expr(), MentionRow.published_at)
            .join(MentionBrand, MentionBrand.mention_id == MentionRow.id)
            .join(ScoreRow, ScoreRow.mention_id == MentionRow.id)
            .outerjoin(MentionLabel, MentionLabel.mention_id == MentionRow.id)
            .where(MentionBrand.brand.in_(list(every)), MentionRow.published_at >= start,
                   MentionRow.published_at < end, MentionRow.canonical_id.is_(None),
                   ScoreRow.language.in_(("de", "en")), MentionRow.id % stride == literal(0)))
