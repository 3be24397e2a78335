"""The care team's commands: `listener tasks …` (list, ack, respond, resolve, dismiss, assign), `escalate`,
`silence add|list|remove`, `report` (the outbox's `listener alerts` is in listener/delivery/cli.py).

Registered in listener/cli/__init__.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy import select

from listener.commands import CliState, app_for, emit_json, iso
from listener.domain import TaskStatus
from listener.durations import format_duration, parse_duration


@click.command()
@click.pass_obj
def escalate(state: CliState) -> None:
    """Queue due escalations and grouped messages whose wait is over (`deliver` and the daemon do this too)."""
    with app_for(state) as app:
        report = app.escalate()
    click.echo(f"queued {report.escalations} escalation alerts, {report.grouped} grouped messages")


# ----------------------------------------------------------------------------- tasks
@click.group()
def tasks() -> None:
    """Follow-up tasks for the care team: list, ack, respond, resolve, dismiss."""


@tasks.command("list")
@click.option("--status", type=click.Choice(["all", *(s.value for s in TaskStatus)]), default="open", show_default=True,
              help="'open' includes acknowledged and responded.")
@click.option("--assignee", default=None, help="Only tasks assigned to this name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects.")
@click.pass_obj
def tasks_list(state: CliState, status: str, assignee: str | None, as_json: bool) -> None:
    """Tasks, most urgent and oldest deadline first."""
    from listener.domain import OPEN_STATES
    from listener.store.models import TaskRow

    with app_for(state) as app, app.store.read() as session:
        query = select(TaskRow).order_by(TaskRow.priority, TaskRow.due_at, TaskRow.id)
        if status == TaskStatus.OPEN:
            query = query.where(TaskRow.status.in_(OPEN_STATES))
        elif status != "all":
            query = query.where(TaskRow.status == status)
        if assignee:
            query = query.where(TaskRow.assignee == assignee)
        rows = list(session.scalars(query))
        now = app.clock.now()
        out: list[dict[str, Any]] = [{
            "id": t.id, "mention_id": t.mention_id, "status": t.status, "priority": t.priority,
            "due_at": iso(t.due_at), "reasons": t.reasons, "rule": t.rule, "created_at": iso(t.created_at),
            "url": t.mention.url, "overdue": bool(t.due_at and t.due_at < now and t.status == TaskStatus.OPEN),
            "assignee": t.assignee,
        } for t in rows]
    if as_json:
        emit_json(out)
        return
    for t in out:
        flag = (" OVERDUE" if t["overdue"] else "") + (f" @{t['assignee']}" if t["assignee"] else "")
        click.echo(f"#{t['id']:<5} {t['priority']} {t['status']:<12} due {t['due_at']}{flag}  "
                   f"mention #{t['mention_id']}: {'; '.join(t['reasons'])}")


def _task_action(action: str, help_text: str) -> None:
    @tasks.command(action, help=help_text)
    @click.argument("task_id", type=int)
    @click.option("--note", default=None, help="A note kept with the task.")
    @click.option("--by", "actor", default=None, help="Who did it, for the task's activity log (default: $USER).")
    @click.pass_obj
    def command(state: CliState, task_id: int, note: str | None, actor: str | None) -> None:
        import getpass

        from listener.acting.activity import perform
        from listener.acting.tasks import TaskError

        with app_for(state) as app:
            try:
                with app.store.write() as session:
                    task = perform(session, task_id, action, actor or getpass.getuser(), app.clock.now(), note)
                    status, mention_id = task.status, task.mention_id
            except TaskError as exc:
                raise click.ClickException(str(exc)) from None
        click.echo(f"task #{task_id} is now {status}")
        if action == "dismiss":  # a false alarm is what the model should learn from
            click.echo(f"to teach the model: listener mentions label {mention_id} SENTIMENT (see --help)")


_task_action("ack", "Acknowledge a task: someone is on it.")
_task_action("respond", "Mark a task responded: the customer has had a first answer.")
_task_action("resolve", "Resolve a task: the customer's issue is dealt with.")
_task_action("dismiss", "Dismiss a task as a false alarm.")
_task_action("reopen", "Reopen a resolved or dismissed task.")


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
@click.pass_obj
def silence_add(state: CliState, brand: str | None, category: str | None, rule: str | None, duration: str,
                note: str | None, created_by: str | None) -> None:
    """Mute alerts of tasks matching every given matcher."""
    from listener.acting.silences import SilenceError, add_silence
    from listener.nlp.categories import CATEGORIES

    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from None
    settings = state.settings
    if brand and brand not in {b.name for b in settings.brand}:
        raise click.BadParameter(f"no brand named {brand!r}", param_hint="--brand")
    if category and category not in CATEGORIES:
        raise click.BadParameter(f"{category!r} is not one of {', '.join(CATEGORIES)}", param_hint="--category")
    if rule and rule not in {r.name for r in settings.rule}:
        raise click.BadParameter(f"no rule named {rule!r}", param_hint="--rule")
    with app_for(state) as app:
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
@click.pass_obj
def silence_list(state: CliState, show_all: bool, as_json: bool) -> None:
    """Active silences (or all)."""
    from listener.store.models import SilenceRow

    with app_for(state) as app, app.store.read() as session:
        now = app.clock.now()
        query = select(SilenceRow).order_by(SilenceRow.id)
        if not show_all:
            query = query.where(SilenceRow.ends_at > now)
        rows: list[dict[str, Any]] = [{"id": s.id, "brand": s.brand, "category": s.category, "rule": s.rule,
                 "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(), "note": s.note,
                 "created_by": s.created_by, "active": s.starts_at <= now < s.ends_at,
                 "left": format_duration(s.ends_at - now) if s.ends_at > now else None}
                for s in session.scalars(query)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for s in rows:
        match = ", ".join(f"{k}={s[k]}" for k in ("brand", "category", "rule") if s[k])
        status = f"{s['left']} left" if s["active"] else "expired"
        click.echo(f"#{s['id']:<4} {match:<40} {status:<12} {s['note'] or ''}")


@silence.command("remove")
@click.argument("silence_id", type=int)
@click.pass_obj
def silence_remove(state: CliState, silence_id: int) -> None:
    """End a silence now."""
    from listener.acting.silences import SilenceError, expire_silence

    with app_for(state) as app:
        try:
            with app.store.write() as session:
                expire_silence(session, silence_id, app.clock.now())
        except SilenceError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"silence #{silence_id} ended")


# ----------------------------------------------------------------------------- assignment, report
@tasks.command("assign")
@click.argument("task_id", type=int)
@click.option("--to", "assignee", default=None, help="Who takes it (omit to unassign).")
@click.option("--by", "actor", default=None, help="Who did it, for the task's activity log (default: $USER).")
@click.pass_obj
def assign(state: CliState, task_id: int, assignee: str | None, actor: str | None) -> None:
    """Assign a task to a care agent."""
    import getpass

    from listener.acting.activity import assign as assign_task
    from listener.acting.tasks import TaskError

    with app_for(state) as app:
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
@click.pass_obj
def report(state: CliState, since: str | None, as_json: bool) -> None:
    """Response-time figures: first response (median, p90) in business and calendar time, share within the
    deadline, backlog by age, per rule (with its share of dismissed tasks) and per agent; then satisfaction
    (CSAT, CES, NPS, response rate) and sentiment recovery per rule, agent, brand, category and week."""
    from listener.acting.report import response_report
    from listener.surveys.report import satisfaction_report, text_lines

    with app_for(state) as app, app.store.read() as session:
        now = app.clock.now()
        figures = response_report(session, app.settings.rule, now, _since(since, now))
        satisfaction = satisfaction_report(session, app.settings, now, _since(since, now))
    if as_json:
        click.echo(json.dumps(figures.as_dict() | {"satisfaction": satisfaction.as_dict()}, ensure_ascii=False,
                              indent=2))
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
    click.echo()
    for line in text_lines(satisfaction):
        click.echo(line)


COMMANDS = (tasks, escalate, silence, report)


@tasks.command("merge")  # one conversation per customer (listener/contacts)
@click.argument("from_id", type=int)
@click.argument("into_id", type=int)
@click.option("--by", "actor", default=None, help="Who did it, for the log (default: $USER).")
@click.pass_obj
def merge(state: CliState, from_id: int, into_id: int, actor: str | None) -> None:
    """Merge open task FROM_ID into open task INTO_ID: one conversation; FROM_ID closes as merged."""
    import getpass

    from listener.acting.merging import merge_tasks
    from listener.acting.tasks import TaskError

    with app_for(state) as app:
        try:
            with app.store.write() as session:
                target = merge_tasks(session, from_id, into_id, actor or getpass.getuser(), app.clock.now())
                priority, due = target.priority, iso(target.due_at)
        except TaskError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"task #{from_id} merged into task #{into_id} ({priority}, due {due})")
