"""`listener tasks` (the care team's follow-up tasks) and `listener alerts` (the outbox that announces them)."""

from __future__ import annotations

import click
from sqlalchemy import select

from listener.alerts import cli as alert_commands
from listener.cli.context import CliState, app_for, emit_json, iso


@click.group()
def tasks() -> None:
    """Follow-up tasks for the care team: list, ack, respond, resolve, dismiss."""


@tasks.command("list")
@click.option("--status", type=click.Choice(["open", "all", "acknowledged", "responded", "resolved", "dismissed",
                                            "merged"]),
              default="open", show_default=True, help="'open' includes acknowledged and responded.")
@click.option("--assignee", default=None, help="Only tasks assigned to this name.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects.")
@click.pass_obj
def tasks_list(state: CliState, status: str, assignee: str | None, as_json: bool) -> None:
    """Tasks, most urgent and oldest deadline first."""
    from listener.alerts.tasks import OPEN_STATES
    from listener.store.models import TaskRow

    with app_for(state) as app, app.store.read() as session:
        query = select(TaskRow).order_by(TaskRow.priority, TaskRow.due_at, TaskRow.id)
        if status == "open":
            query = query.where(TaskRow.status.in_(OPEN_STATES))
        elif status != "all":
            query = query.where(TaskRow.status == status)
        if assignee:
            query = query.where(TaskRow.assignee == assignee)
        rows = list(session.scalars(query))
        now = app.clock.now()
        out = [{
            "id": t.id, "mention_id": t.mention_id, "status": t.status, "priority": t.priority,
            "due_at": iso(t.due_at), "reasons": t.reasons, "rule": t.rule, "created_at": iso(t.created_at),
            "url": t.mention.url, "overdue": bool(t.due_at and t.due_at < now and t.status == "open"),
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

        from listener.alerts.activity import perform
        from listener.alerts.tasks import TaskError

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
tasks.add_command(alert_commands.assign)


# ----------------------------------------------------------------------------- alerts
@click.group()
def alerts() -> None:
    """The alert outbox: what was sent, what waits, what is parked."""


@alerts.command("list")
@click.option("--status", type=click.Choice(["all", "pending", "sending", "sent", "parked"]), default="all",
              show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def alerts_list(state: CliState, status: str, as_json: bool) -> None:
    """Outbox rows, newest first."""
    from listener.store.models import AlertRow

    with app_for(state) as app, app.store.read() as session:
        query = select(AlertRow).order_by(AlertRow.id.desc())
        if status != "all":
            query = query.where(AlertRow.status == status)
        out = [{
            "id": a.id, "task_id": a.task_id, "kind": a.kind, "step": a.step, "group_id": a.group_id,
            "spike_id": a.spike_id, "channel": a.channel, "status": a.status, "attempts": a.attempts,
            "next_attempt_at": iso(a.next_attempt_at), "sent_at": iso(a.sent_at), "last_error": a.last_error,
        } for a in session.scalars(query)]
    if as_json:
        emit_json(out)
        return
    for a in out:
        extra = f" last error: {a['last_error']}" if a["last_error"] else ""
        about = {"group": f"group #{a['group_id']}", "spike": f"spike #{a['spike_id']}"}.get(
            a["kind"], f"task #{a['task_id']}") + (f" step {a['step']}" if a["step"] else "")
        click.echo(f"#{a['id']:<5} {about:<18} → {a['channel']:<14} {a['status']:<8} "
                   f"attempts {a['attempts']}{extra}")


@alerts.command("retry")
@click.argument("alert_id", type=int, required=False)
@click.pass_obj
def alerts_retry(state: CliState, alert_id: int | None) -> None:
    """Queue parked alerts (all, or one) for delivery again."""
    from listener.alerts.outbox import retry_parked

    with app_for(state) as app, app.store.write() as session:
        n = retry_parked(session, alert_id, app.clock.now())
    click.echo(f"{n} parked alerts queued again")
