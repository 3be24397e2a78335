"""The operator's commands: `listener doctor` (listener/ops/doctor.py), `db backup`, `retention run` and
`privacy export|erase`."""

from __future__ import annotations

import getpass
import json
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from listener.commands import CliState, app_for
from listener.ops.backup import BackupError, backup_sqlite
from listener.ops.privacy import PrivacyError, Selector, author_key, erase, export
from listener.ops.retention import run_retention
from listener.secrets import MissingSecret

if TYPE_CHECKING:
    from listener.app import App


@click.command()
@click.option("--send-test", is_flag=True, help="Send a test alert through every channel instead of only connecting.")
@click.pass_obj
def doctor(state: CliState, send_test: bool) -> None:
    """Check config, database and migrations, model, channels, sources (one poll, nothing stored), disk space and
    clock: one line per check; exit code 1 if any check fails."""
    from listener.app import App
    from listener.config import ConfigError, find_config, load_settings
    from listener.ops.doctor import Result, run_checks

    try:
        path = find_config(state.config)
        settings = load_settings(path)
    except ConfigError as exc:
        click.echo(Result("FAIL", "config", str(exc).replace("\n", " ")).line())
        sys.exit(1)
    click.echo(Result("ok", "config", f"{path}: {len(settings.brand)} brands, {len(settings.source)} sources, "
                                      f"{len(settings.channel)} channels, {len(settings.rule)} rules").line())
    app = App(settings)
    failed = False
    try:
        for result in run_checks(app, send_test):
            click.echo(result.line())
            failed |= result.status == "FAIL"
    finally:
        app.close()
    sys.exit(1 if failed else 0)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def db_backup(state: CliState, target: Path) -> None:
    """Copy the SQLite database to TARGET while the daemon runs (PostgreSQL: use pg_dump)."""
    settings = state.settings
    try:
        size = backup_sqlite(settings.database.url, target)
    except (BackupError, sqlite3.Error) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up to {target} ({size} bytes)")


@click.group()
def retention() -> None:
    """Delete mentions past their `[retention]` period (the daemon does it daily)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.pass_obj
def retention_run(state: CliState, dry_run: bool) -> None:
    """Apply [retention] now, in small transactions (safe while the daemon runs)."""
    with app_for(state) as app:
        report = run_retention(app.store, app.settings.retention, app.clock.now(), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {report.total} mentions (neutral {report.mentions['neutral']}, other "
               f"{report.mentions['other']}, closed tasks {report.mentions['closed_tasks']}), "
               f"{report.tasks} tasks, {report.alerts} alerts")


@click.group()
def privacy() -> None:
    """Requests about one person's data: export (GDPR Art. 15) and erase (Art. 17)."""


def _selector(author: str | None, url: str | None, source: str | None, state: CliState,
              contact: int | None = None) -> Selector:
    try:
        selector = Selector(author=author, url=url, source=source, contact=contact)
    except PrivacyError as exc:
        raise click.UsageError(str(exc)) from None
    if source and source not in {s.name for s in state.settings.source}:
        raise click.UsageError(f"--source: no source named {source!r} in the config")
    return selector


def _key(app: App) -> bytes | None:
    try:
        return author_key(app.settings.privacy)
    except MissingSecret as exc:
        raise click.ClickException(f"privacy.author_key_secret: {exc}") from None


_by_option = click.option("--by", default=None, help="Who handles the request (kept in the audit; default: OS user).")
_contact_option = click.option("--contact", type=int, default=None,
                               help="Instead of --author: a contact (listener contacts show), every platform of it.")


@privacy.command("export")
@click.option("--author", default=None, help="The author's name as the platform shows it.")
@click.option("--url", default=None, help="Instead of --author: the mention at this URL.")
@click.option("--source", default=None, help="Only mentions from this configured source.")
@_contact_option
@_by_option
@click.pass_obj
def privacy_export(state: CliState, author: str | None, url: str | None, source: str | None, contact: int | None,
                   by: str | None) -> None:
    """Print everything stored about an author (or a URL, or a contact) as JSON."""
    selector = _selector(author, url, source, state, contact)
    with app_for(state) as app:
        try:
            data = export(app.store, selector, _key(app), by or getpass.getuser(), app.clock.now())
        except PrivacyError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@privacy.command("erase")
@click.option("--author", default=None, help="The author's name as the platform shows it.")
@click.option("--url", default=None, help="Instead of --author: the mention at this URL.")
@click.option("--source", default=None, help="Only mentions from this configured source.")
@_contact_option
@_by_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def privacy_erase(state: CliState, author: str | None, url: str | None, source: str | None, contact: int | None,
                  by: str | None, yes: bool) -> None:
    """Erase an author's (or a URL's, or a contact's) mentions, keeping anonymous counts; the erase is audited."""
    selector = _selector(author, url, source, state, contact)
    if not yes:
        click.confirm(f"Erase every mention by this {selector.kind}? This cannot be undone", abort=True)
    with app_for(state) as app:
        try:
            counts = erase(app.store, selector, _key(app), by or getpass.getuser(), app.clock.now())
        except PrivacyError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo("erased: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
