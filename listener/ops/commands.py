"""`listener retention run` and `listener privacy export|erase` (registered in listener/cli/__init__.py)."""

from __future__ import annotations

import getpass
import json
from typing import Any

import click

from listener.ops.privacy import PrivacyError, Selector, author_key, erase, export
from listener.ops.retention import run_retention
from listener.secrets import MissingSecret


def _app(state: Any) -> Any:
    from listener.cli.context import app_for

    return app_for(state)


@click.group()
def retention() -> None:
    """Delete mentions past their `[retention]` period (the daemon does it daily)."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.pass_obj
def retention_run(state: Any, dry_run: bool) -> None:
    """Apply [retention] now, in small transactions (safe while the daemon runs)."""
    with _app(state) as app:
        report = run_retention(app.store, app.settings.retention, app.clock.now(), dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {report.total} mentions (neutral {report.mentions['neutral']}, other "
               f"{report.mentions['other']}, closed tasks {report.mentions['closed_tasks']}), "
               f"{report.tasks} tasks, {report.alerts} alerts")


@click.group()
def privacy() -> None:
    """Requests about one person's data: export (GDPR Art. 15) and erase (Art. 17)."""


def _selector(author: str | None, url: str | None, source: str | None, state: Any) -> Selector:
    try:
        selector = Selector(author=author, url=url, source=source)
    except PrivacyError as exc:
        raise click.UsageError(str(exc)) from None
    if source and source not in {s.name for s in state.settings.source}:
        raise click.UsageError(f"--source: no source named {source!r} in the config")
    return selector


def _key(app: Any) -> bytes | None:
    try:
        return author_key(app.settings.privacy)
    except MissingSecret as exc:
        raise click.ClickException(f"privacy.author_key_secret: {exc}") from None


_by_option = click.option("--by", default=None, help="Who handles the request (kept in the audit; default: OS user).")


@privacy.command("export")
@click.option("--author", default=None, help="The author's name as the platform shows it.")
@click.option("--url", default=None, help="Instead of --author: the mention at this URL.")
@click.option("--source", default=None, help="Only mentions from this configured source.")
@_by_option
@click.pass_obj
def privacy_export(state: Any, author: str | None, url: str | None, source: str | None, by: str | None) -> None:
    """Print everything stored about an author (or a URL) as JSON."""
    selector = _selector(author, url, source, state)
    with _app(state) as app:
        data = export(app.store, selector, _key(app), by or getpass.getuser(), app.clock.now())
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@privacy.command("erase")
@click.option("--author", default=None, help="The author's name as the platform shows it.")
@click.option("--url", default=None, help="Instead of --author: the mention at this URL.")
@click.option("--source", default=None, help="Only mentions from this configured source.")
@_by_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def privacy_erase(state: Any, author: str | None, url: str | None, source: str | None, by: str | None,
                  yes: bool) -> None:
    """Erase an author's (or a URL's) mentions, keeping anonymous counts; the erase is audited."""
    selector = _selector(author, url, source, state)
    if not yes:
        click.confirm(f"Erase every mention by this {selector.kind}? This cannot be undone", abort=True)
    with _app(state) as app:
        counts = erase(app.store, selector, _key(app), by or getpass.getuser(), app.clock.now())
    click.echo("erased: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
