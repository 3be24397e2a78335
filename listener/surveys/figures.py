"""Satisfaction figures, aggregated in the database (GROUP BY; the same SQL on SQLite and PostgreSQL).

Over the tasks created in a period, per group (all, rule, agent, brand, category, week):
- answered: tasks with a first response (marked responded, or resolved without that step; not dismissed);
- invited: tasks with a posted reply carrying their survey link (`<base_url>/survey/`), or with an answer (a link
  copied by hand onto a platform without a write API still counts once it is answered);
- CSAT: the share of csat answers of 4 or 5; CES: the average of ces answers (1 very difficult … 7 very easy);
  NPS: promoters (9–10) minus detractors (0–6), in points of the nps answers, passives 7–8;
- response rate: answers / invited;
- recovery (recovery.py): what the contact posted next after the first response; shares over the decided tasks
  (silent + recovered + negative again; pending ones are still inside their window).
A task about two brands counts for each; a task's categories are the care team's label, else the model's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Subquery, Text, and_, case, cast, exists, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from listener.nlp.categories import CATEGORIES
from listener.store.models import MentionBrand, MentionLabel, ReplyRow, ScoreRow, TaskRow
from listener.surveys.links import PATH
from listener.surveys.models import SurveyAnswer
from listener.surveys.recovery import outcomes

UNASSIGNED = "(unassigned)"


@dataclass
class Figures:
    tasks: int = 0
    answered: int = 0
    invited: int = 0
    answers: int = 0
    csat_answers: int = 0
    csat_satisfied: int = 0  # 4 or 5
    ces_answers: int = 0
    ces_total: int = 0
    nps_answers: int = 0
    promoters: int = 0  # 9–10
    passives: int = 0  # 7–8
    detractors: int = 0  # 0–6
    silent: int = 0
    recovered: int = 0
    negative_again: int = 0
    pending: int = 0

    @property
    def csat(self) -> float | None:
        return self.csat_satisfied / self.csat_answers if self.csat_answers else None

    @property
    def ces(self) -> float | None:
        return self.ces_total / self.ces_answers if self.ces_answers else None

    @property
    def nps(self) -> float | None:
        return 100 * (self.promoters - self.detractors) / self.nps_answers if self.nps_answers else None

    @property
    def response_rate(self) -> float | None:
        return self.answers / self.invited if self.invited else None

    @property
    def decided(self) -> int:
        return self.silent + self.recovered + self.negative_again

    def share(self, outcome: str) -> float | None:
        return getattr(self, outcome) / self.decided if self.decided else None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "csat": self.csat, "ces": self.ces, "nps": self.nps, "response_rate": self.response_rate,
            "recovery": {"decided": self.decided, **{f"{o}_share": self.share(o)
                                                     for o in ("silent", "recovered", "negative_again")}}}


@dataclass
class Grouped:
    overall: Figures
    per_rule: dict[str, Figures] = field(default_factory=dict)
    per_agent: dict[str, Figures] = field(default_factory=dict)
    per_brand: dict[str, Figures] = field(default_factory=dict)
    per_category: dict[str, Figures] = field(default_factory=dict)
    per_week: dict[int, Figures] = field(default_factory=dict)  # index into the report's week starts


def first_response() -> ColumnElement[datetime]:
    """When the customer got an answer: `responded`, or the close of a task resolved without that step."""
    return func.coalesce(TaskRow.responded_at, case((TaskRow.status == "resolved", TaskRow.closed_at), else_=None))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _invited(base_url: str | None) -> ColumnElement[bool]:
    answered = SurveyAnswer.id.is_not(None)  # outer-joined in task_rows
    if not base_url:
        return answered
    link = ReplyRow.text.like(f"%{_like_escape(base_url + PATH)}%", escape="\\")
    return or_(answered, exists().where(ReplyRow.task_id == TaskRow.id, ReplyRow.status == "posted", link))


def task_rows(since: datetime | None, until: datetime, now: datetime, week_starts: Sequence[datetime],
              base_url: str | None, window: timedelta) -> Subquery:
    """One row per task created in [since, until]: its groups and what the figures count; recovery as of `now`
    (a task answered less than a window before `now` with no post yet is pending)."""
    first = first_response()
    answered_flag = and_(first.is_not(None), TaskRow.status != "dismissed")
    period = [TaskRow.created_at <= until] + ([TaskRow.created_at >= since] if since is not None else [])
    answered = (select(TaskRow.id.label("task_id"), TaskRow.mention_id, first.label("at"))
                .where(answered_flag, *period).subquery("answered"))
    recovery = outcomes(answered, window, now)
    week = case(*((TaskRow.created_at < start, i - 1) for i, start in enumerate(week_starts) if i),
                else_=len(week_starts) - 1) if len(week_starts) > 1 else literal(0)
    categories = case((MentionLabel.mention_id.is_not(None), cast(MentionLabel.service_categories, Text)),
                      else_=cast(ScoreRow.categories, Text))
    return (select(TaskRow.id.label("task_id"), TaskRow.mention_id, TaskRow.rule,
                   func.coalesce(TaskRow.assignee, UNASSIGNED).label("agent"), week.label("week"),
                   func.coalesce(categories, "[]").label("categories"),
                   case((answered_flag, 1), else_=0).label("answered"),
                   case((_invited(base_url), 1), else_=0).label("invited"),
                   SurveyAnswer.kind, SurveyAnswer.score, recovery.c.outcome)
            .outerjoin(SurveyAnswer, SurveyAnswer.task_id == TaskRow.id)
            .outerjoin(ScoreRow, ScoreRow.mention_id == TaskRow.mention_id)
            .outerjoin(MentionLabel, MentionLabel.mention_id == TaskRow.mention_id)
            .outerjoin(recovery, recovery.c.task_id == TaskRow.id)
            .where(*period)
            .subquery("task_rows"))


def _counts(rows: Subquery) -> list[ColumnElement[Any]]:
    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    kind, score, outcome = rows.c.kind, rows.c.score, rows.c.outcome
    return [func.count(), func.sum(rows.c.answered), func.sum(rows.c.invited), count_if(kind.is_not(None)),
            count_if(kind == "csat"), count_if(and_(kind == "csat", score >= 4)),
            count_if(kind == "ces"), func.sum(case((kind == "ces", score), else_=0)),
            count_if(kind == "nps"), count_if(and_(kind == "nps", score >= 9)),
            count_if(and_(kind == "nps", score.between(7, 8))), count_if(and_(kind == "nps", score <= 6)),
            *(count_if(outcome == o) for o in ("silent", "recovered", "negative_again", "pending"))]


def _figures(values: Sequence[Any]) -> Figures:
    return Figures(*(int(v or 0) for v in values))


def grouped(session: Session, since: datetime | None, until: datetime, week_starts: Sequence[datetime],
            base_url: str | None, window: timedelta) -> Grouped:
    """The figures of the tasks created in [since, until], overall and per group; `until` is also "now"."""
    rows = task_rows(since, until, until, week_starts, base_url, window)
    counts = _counts(rows)
    overall = session.execute(select(*counts)).one()
    out = Grouped(_figures(overall))
    for attr, key in (("per_rule", rows.c.rule), ("per_agent", rows.c.agent), ("per_week", rows.c.week)):
        query = select(key, *counts).group_by(key).order_by(key)
        getattr(out, attr).update({k: _figures(v) for k, *v in session.execute(query) if k is not None})
    by_brand: Select[Any] = (select(MentionBrand.brand, *counts).select_from(rows)
                             .join(MentionBrand, MentionBrand.mention_id == rows.c.mention_id)
                             .group_by(MentionBrand.brand).order_by(MentionBrand.brand))
    out.per_brand = {k: _figures(v) for k, *v in session.execute(by_brand)}
    by_category = union_all(*(select(literal(c).label("category"), *counts).where(
        rows.c.categories.like(f'%"{c}"%')) for c in CATEGORIES)).subquery("by_category")
    out.per_category = {k: _figures(v) for k, *v in session.execute(select(by_category))
                        if k is not None and v[0]}
    return out


def brand_figures(session: Session, brands: Sequence[str], since: datetime, until: datetime, now: datetime,
                  base_url: str | None, window: timedelta) -> dict[str, Figures]:
    """Per brand, the tasks created in [since, until), recovery as of `now`: the digest's care section."""
    rows = task_rows(since, until - timedelta(microseconds=1), now, [since], base_url, window)
    query = (select(MentionBrand.brand, *_counts(rows)).select_from(rows)
             .join(MentionBrand, MentionBrand.mention_id == rows.c.mention_id)
             .where(MentionBrand.brand.in_(list(brands))).group_by(MentionBrand.brand))
    return {k: _figures(v) for k, *v in session.execute(query)}


