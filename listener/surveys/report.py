"""Satisfaction and recovery for care leads: `listener report` (after the response times), the care inbox's report
page and the digest's care section all read `satisfaction_report` / `digest_figures`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listener.config import Settings
from listener.durations import format_duration
from listener.store.models import TaskRow
from listener.surveys.figures import Figures, Grouped, brand_figures, grouped


@dataclass
class SatisfactionReport:
    since: datetime | None
    until: datetime
    window: timedelta
    weeks: list[datetime]  # Monday 00:00 in [report] timezone, the first week holding `since`
    figures: Grouped

    def week_key(self, index: int) -> str:
        year, week, _ = self.weeks[index].isocalendar()
        return f"{year}-W{week:02d}"

    def rows(self) -> list[tuple[str, str | None, Figures]]:
        """(group kind, name, figures) in the order pages and the CLI show them."""
        f = self.figures
        return [("all tasks", None, f.overall), *(("rule", k, v) for k, v in f.per_rule.items()),
                *(("agent", k, v) for k, v in f.per_agent.items()), *(("brand", k, v) for k, v in f.per_brand.items()),
                *(("category", k, v) for k, v in f.per_category.items()),
                *(("week", self.week_key(k), v) for k, v in sorted(f.per_week.items()))]

    def as_dict(self) -> dict[str, object]:
        f = self.figures
        return {"since": self.since.isoformat() if self.since else None, "until": self.until.isoformat(),
                "recovery_window": format_duration(self.window), "overall": f.overall.as_dict(),
                "per_rule": {k: v.as_dict() for k, v in f.per_rule.items()},
                "per_agent": {k: v.as_dict() for k, v in f.per_agent.items()},
                "per_brand": {k: v.as_dict() for k, v in f.per_brand.items()},
                "per_category": {k: v.as_dict() for k, v in f.per_category.items()},
                "per_week": {self.week_key(k): v.as_dict() | {"first_day": self.weeks[k].date().isoformat()}
                             for k, v in sorted(f.per_week.items())}}


def week_starts(first: datetime, until: datetime, timezone: str) -> list[datetime]:
    """Monday 00:00 (local) of `first`'s week, and of every week up to `until`'s."""
    zone = ZoneInfo(timezone)
    local = first.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone) - timedelta(days=local.weekday())
    starts = []
    while start <= until:
        starts.append(start)
        start += timedelta(days=7)  # wall-clock arithmetic: Monday 00:00 local across DST changes too
    return starts or [start]


def satisfaction_report(session: Session, settings: Settings, now: datetime,
                        since: datetime | None = None) -> SatisfactionReport:
    """Survey figures and recovery of the tasks created since `since` (all when None) up to `now`."""
    first = since or session.scalar(select(func.min(TaskRow.created_at))) or now
    weeks = week_starts(first, now, settings.report.timezone)
    base_url = settings.web.base_url if settings.web else None
    window = settings.report.recovery_window
    return SatisfactionReport(since, now, window, weeks, grouped(session, since, now, weeks, base_url, window))


def digest_figures(session: Session, settings: Settings, brands: list[str], start: datetime, end: datetime,
                   now: datetime) -> dict[str, Figures]:
    """Per brand, the tasks created in [start, end): CSAT, NPS, response rate and recovery for the digest."""
    base_url = settings.web.base_url if settings.web else None
    return brand_figures(session, brands, start, end, now, base_url, settings.report.recovery_window)


# ----------------------------------------------------------------------------- text for `listener report`
def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def text_lines(report: SatisfactionReport) -> list[str]:
    lines = [f"satisfaction and recovery (what the contact posted next within {format_duration(report.window)}):",
             f"{'':<22} {'answered':>8} {'invited':>7} {'answers':>7} {'rate':>5} {'CSAT':>5} {'CES':>4} "
             f"{'NPS':>5} {'P/P/D':>9} {'silent':>6} {'better':>6} {'neg.':>5} {'pending':>7}"]
    for kind, name, f in report.rows():
        label = f"{kind} {name}" if name else kind
        lines.append(f"{label[:22]:<22} {f.answered:>8} {f.invited:>7} {f.answers:>7} {_share(f.response_rate):>5} "
                     f"{_share(f.csat):>5} {_number(f.ces):>4} {_number(f.nps, 0):>5} "
                     f"{f'{f.promoters}/{f.passives}/{f.detractors}':>9} {_share(f.share('silent')):>6} "
                     f"{_share(f.share('recovered')):>6} {_share(f.share('negative_again')):>5} {f.pending:>7}")
    return lines
