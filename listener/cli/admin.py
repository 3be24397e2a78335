"""`listener sources` (their health), `listener db` and `listener config`: looking after the installation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select

from listener.commands import CliState, app_for, emit_json, iso

if TYPE_CHECKING:
    from listener.store.engine import Store


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def sources(state: CliState, as_json: bool) -> None:
    """Health of every configured source: last success, failures, next attempt, last error, failing targets."""
    from listener.store.models import SourceRow

    with app_for(state) as app, app.store.read() as session:
        rows = {r.name: r for r in session.scalars(select(SourceRow))}
        out: list[dict[str, Any]] = []
        for source in app.settings.source:
            row = rows.get(source.name)
            h = row.health if row else None
            out.append({
                "name": source.name, "kind": source.kind, "enabled": source.enabled,
                "every": int(source.every.total_seconds()),
                "last_success_at": iso(h.last_success_at) if h else None,
                "consecutive_failures": h.consecutive_failures if h else 0,
                "next_attempt_at": iso(h.next_attempt_at) if h else None,
                "last_error": h.last_error if h else None,
                "failing_targets": dict(h.failing_targets or {}) if h else {},
                "status": "never polled" if not h or not h.last_attempt_at else
                          ("failing" if h.consecutive_failures else "ok"),
            })
    if as_json:
        emit_json(out)
        return
    for s in out:
        line = f"{s['name']:<20} {s['kind']:<10} {s['status']:<12} last success {s['last_success_at'] or '-'}"
        if s["consecutive_failures"]:
            line += f"  failures {s['consecutive_failures']}, next try {s['next_attempt_at']}: {s['last_error']}"
        click.echo(line)
        for target, failing in s["failing_targets"].items():
            click.echo(f"{'':<20} target {target} failing since {failing['since']} "
                       f"(failed polls: {failing['failures']}): {failing['error']}")


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(state: CliState) -> None:
    """Apply migrations (also done at daemon start). Safe to run repeatedly."""
    with app_for(state, migrate=False) as app:
        before = _revision(app.store)
        app.migrate()
        after = _revision(app.store)
    where = app.store.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"database at {where} is up to date ({after})")
    else:
        click.echo(f"database at {where}: upgraded {before or 'an empty database'} → {after}")


def _revision(store: Store) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@click.group("config")
def config_group() -> None:
    """The config file."""


@config_group.command("check")
@click.pass_obj
def config_check(state: CliState) -> None:
    """Validate the config file; every problem names its key."""
    settings = state.settings
    click.echo(f"config OK: {len(settings.brand)} brands, {len(settings.source)} sources, "
               f"{len(settings.channel)} channels, {len(settings.rule)} rules")
