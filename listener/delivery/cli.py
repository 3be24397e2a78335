"""`listener alerts list|retry`: the outbox that announces tasks, escalations, grouped messages and spikes.

Registered in listener/cli/__init__.py.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from listener.commands import CliState, app_for, emit_json, iso
from listener.domain import AlertStatus


@click.group()
def alerts() -> None:
    """The alert outbox: what was sent, what waits, what is parked."""


@alerts.command("list")
@click.option("--status", type=click.Choice(["all", *(s.value for s in AlertStatus)]), default="all",
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
        out: list[dict[str, Any]] = [{
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
    from listener.delivery.outbox import retry_parked

    with app_for(state) as app, app.store.write() as session:
        n = retry_parked(session, alert_id, app.clock.now())
    click.echo(f"{n} parked alerts queued again")
