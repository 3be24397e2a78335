"""`listener doctor`: the operator's check of an installation (listener/ops/doctor.py)."""

from __future__ import annotations

import sys
from typing import Any

import click


@click.command()
@click.option("--send-test", is_flag=True, help="Send a test alert through every channel instead of only connecting.")
@click.pass_obj
def doctor(state: Any, send_test: bool) -> None:
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
