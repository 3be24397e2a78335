"""The care lead's commands: `listener escalate`, `silence add|list|remove`, `tasks assign`, `report`.

Registered in listener/cli/__init__.py (`tasks assign` in listener/cli/tasks.py); `listener.cli.context` is
imported inside the commands (listener.cli imports this module).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import click

from listener.durations import format_duration, parse_duration


def _app(ctx: click.Context) -> Any:
    from listener.cli.context import app_for

    return app_for(ctx.obj)


@click.command()
@click.pass_context
def escalate(ctx: click.Context) -> None:
    """Queue due escalations and grouped messages whose wait is over (`deliver` and the daemon do this too)."""
    with _app(ctx) as app:
        report = app.escalate()
    click.echo(f"queued {report.escalations} escalation alerts, {report.grouped} grouped messages")


# ----------------------------------------------------------------------------- silences
@click.group()
def silence() -> None:
    """Mute alerts for a while (tasks are still created): add, list, remove."""


@silence.command("add")
@click.option("--brand", default=None, help="Only tasks about this brand.")
@click.option("--category", default=None, help="Only tasks with this service category (e.g. digital).")
@click.option("--rule", default=None, help="Only tasks of this rule.")
@click.option("--for", "duration", required=True, help="How long, e.g. 30m, 2h, 1d.")
@click.option("--note", default=None, help="Why (shown in `silence list`), e.g. 'known outage'.")
@click.option("--by", "created_by", default=None, help="Who silenced it.")
@click.pass_context
def silence_add(ctx: click.Context, brand: str | None, category: str | None, rule: str | None, duration: str,
                note: str | None, created_by: str | None) -> None:
    """Mute alerts of tasks matching every given matcher."""
    from listener.alerts.silences import SilenceError, add_silence
    from listener.nlp.categories import CATEGORIES

    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from None
    settings = ctx.obj.settings
    if brand and brand not in {b.name for b in settings.brand}:
        raise click.BadParameter(f"no brand named {brand!r}", param_hint="--brand")
    if category and category not in CATEGORIES:
        raise click.BadParameter(f"{category!r} is not one of {', '.join(CATEGORIES)}", param_hint="--category")
    if rule and rule not in {r.name for r in settings.rule}:
        raise click.BadParameter(f"no rule named {rule!r}", param_hint="--rule")
    with _app(ctx) as app:
        try:
            with app.store.write() as session:
                row = add_silence(session, app.clock.now(), length, brand, category, rule, note, created_by)
                silence_id, ends = row.id, row.ends_at
        except SilenceError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"silence #{silence_id} until {ends:%Y-%m-%d %H:%M} UTC")


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include expired silences.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def silence_list(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Active silences (or all)."""
    from sqlalchemy import select

    from listener.store.models import SilenceRow

    with _app(ctx) as app, app.store.read() as session:
        now = app.clock.now()
        query = select(SilenceRow).order_by(SilenceRow.id)
        if not show_all:
            query = query.where(SilenceRow.ends_at > now)
        rows = [{"id": s.id, "brand": s.brand, "category": s.category, "rule": s.rule,
                 "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(), "note": s.note,
                 "created_by": s.created_by, "active": s.starts_at <= now < s.ends_at,
                 "left": format_duration(s.ends_at - now) if s.ends_at > now else None}
                for s in session.scalars(query)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for s in rows:
        match = ", ".join(f"{k}={s[k]}" for k in ("brand", "category", "rule") if s[k])
        state = f"{s['left']} left" if s["active"] else "expired"
        click.echo(f"#{s['id']:<4} {match:<40} {state:<12} {s['note'] or ''}")


@silence.command("remove")
@click.argument("silence_id", type=int)
@click.pass_context
def silence_remove(ctx: click.Context, silence_id: int) -> None:
    """End a silence now."""
    from listener.alerts.silences import SilenceError, expire_silence

    with _app(ctx) as app:
        try:
            with app.store.write() as session:
                expire_silence(session, silence_id, app.clock.now())
        except SilenceError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"silence #{silence_id} ended")


# ----------------------------------------------------------------------------- assignment, report
@click.command("assign")
@click.argument("task_id", type=int)
@click.option("--to", "assignee", default=None, help="Who takes it (omit to unassign).")
@click.option("--by", "actor", default=None, help="Who did it, for the task's activity log (default: $USER).")
@click.pass_context
def assign(ctx: click.Context, task_id: int, assignee: str | None, actor: str | None) -> None:
    """Assign a task to a care agent."""
    import getpass

    from listener.alerts.activity import assign as assign_task
    from listener.alerts.tasks import TaskError

    with _app(ctx) as app:
        try:
            with app.store.write() as session:
                task = assign_task(session, task_id, assignee, actor or getpass.getuser(), app.clock.now())
                who = task.assignee
        except TaskError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"task #{task_id} assigned to {who}" if who else f"task #{task_id} unassigned")


def _since(value: str | None, now: datetime) -> datetime | None:
    if value is None or value == "all":
        return None
    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    try:
        from listener.clock import utc

        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise click.BadParameter(f"expected a duration like 7d or a date like 2026-12-01, got {value!r}",
                                 param_hint="--since") from None


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else format_duration(timedelta(seconds=round(seconds / 60) * 60))


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


@click.command()
@click.option("--since", default=None, help="Tasks created since: a duration (7d) or a date; default: all.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def report(ctx: click.Context, since: str | None, as_json: bool) -> None:
    """Response-time figures: first response (median, p90) in business and calendar time, share within the
    deadline, backlog by age, per rule (with its share of dismissed tasks) and per agent."""
    from listener.alerts.report import response_report

    with _app(ctx) as app, app.store.read() as session:
        now = app.clock.now()
        figures = response_report(session, app.settings.rule, now, _since(since, now))
    if as_json:
        click.echo(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{'':<22} {'created':>7} {'answered':>8} {'median':>8} {'p90':>8} {'median':>9} {'p90':>8} "
               f"{'in time':>7} {'dismissed':>9}")
    click.echo(f"{'':<22} {'':>7} {'':>8} {'(business time)':>17} {'(calendar time)':>18}")
    rows = [("all tasks", figures.overall)] + [(f"rule {k}", v) for k, v in figures.per_rule.items()] + \
           [(f"agent {k}", v) for k, v in figures.per_agent.items()]
    for name, f in rows:
        b, c = f.first_response_business, f.first_response_calendar
        click.echo(f"{name[:22]:<22} {f.created:>7} {f.responded:>8} {_minutes(b.median):>8} {_minutes(b.p90):>8} "
                   f"{_minutes(c.median):>9} {_minutes(c.p90):>8} {_share(f.within_deadline):>7} "
                   f"{_share(f.dismissed_share):>9}")
    click.echo("backlog (waiting for a first response) by age: "
               + ", ".join(f"{k} {v}" for k, v in figures.backlog_by_age.items()))


COMMANDS = (escalate, silence, report)
