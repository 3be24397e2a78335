"""What every command shares, wherever its group lives: the state the `listener` group hands each command
(`CliState`, taken with `@click.pass_obj`), the App for one command (`app_for`), and output helpers.

Command groups live beside their feature (`listener/<part>/cli.py`; the flow's own stages in listener/cli/, which
only assembles them all); each imports this module, which imports none of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from listener.config import ConfigError, Settings, load_settings
from listener.nlp.scoring import ModelUnavailable
from listener.nlp.settings import NlpSettings
from listener.secrets import MissingSecret

if TYPE_CHECKING:
    from listener.app import App


class CliState:
    """Loads the config only when a command needs it, so `--help` and `config check` work without one."""

    def __init__(self, config: str | None):
        self.config = config
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def nlp(self) -> NlpSettings:  # used by `listener nlp …`, which also works without a config file
        try:
            return self.settings.nlp
        except click.ClickException:
            if self.config:
                raise
            return NlpSettings()

    @property
    def cache_dir(self) -> Path:
        try:
            return self.settings.cache_dir
        except click.ClickException:
            return Settings().cache_dir


@contextmanager
def app_for(state: CliState, migrate: bool = True) -> Iterator[App]:
    """The App for one command (migrated unless told not to), closed after it; a missing secret or model is the
    command's error message."""
    from listener.app import App

    try:
        app = App(state.settings)
    except MissingSecret as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if migrate:
            app.migrate()
        yield app
    except (ModelUnavailable, MissingSecret) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        app.close()


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def emit_json(rows: list[dict[str, Any]]) -> None:
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
