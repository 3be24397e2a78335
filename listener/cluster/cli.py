"""`listener cluster status`: the nodes of a cluster and the work in its job queue."""

from __future__ import annotations

import click
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from listener.commands import CliState, app_for


@click.group()
def cluster() -> None:
    """Several nodes on one PostgreSQL database (docs/scaling.md)."""


@cluster.command("status")
@click.pass_obj
def cluster_status(state: CliState) -> None:
    """Live and silent nodes, and the jobs waiting, running and failed per kind."""
    settings = state.settings
    if not settings.cluster.uses_queue(settings.database.url):
        raise click.ClickException("this config runs a single node (SQLite or [cluster] mode = \"single\")")
    timeout = settings.cluster.heartbeat_timeout.total_seconds()
    with app_for(state) as app, app.store.engine.connect() as conn:
        try:
            nodes = conn.execute(text(
                "SELECT id, last_heartbeat, last_heartbeat > now() - make_interval(secs => :s) AS alive "
                "FROM procrastinate_workers ORDER BY id"), {"s": timeout}).all()
            jobs = conn.execute(text(
                "SELECT task_name, status, count(*) FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing', 'failed') GROUP BY 1, 2 ORDER BY 1, 2")).all()
        except ProgrammingError:
            raise click.ClickException("no job queue in this database yet: start a node (`listener run`)") from None
    click.echo(f"nodes: {sum(1 for n in nodes if n.alive)} alive, {sum(1 for n in nodes if not n.alive)} silent")
    for node in nodes:
        click.echo(f"  worker {node.id:<6} last heartbeat {node.last_heartbeat.isoformat()}"
                   f"{'' if node.alive else '  (silent: its running jobs go to the others)'}")
    click.echo("jobs:" + ("" if jobs else " none waiting, running or failed"))
    for task_name, status, count in jobs:
        click.echo(f"  {task_name:<28} {status:<7} {count}")
