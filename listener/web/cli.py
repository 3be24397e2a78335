"""`listener web` (serve the care inbox alone) and `listener users …` (its accounts)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from listener.commands import CliState, app_for
from listener.web.users import ROLES, UserError

if TYPE_CHECKING:
    from listener.app import App


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _change_users(state: CliState, change: Callable[[Session, App], object]) -> None:
    """Run `change(session, app)` in one write transaction; a UserError is the command's error message."""
    with app_for(state) as app:
        try:
            with app.store.write() as session:
                change(session, app)
        except UserError as exc:
            raise click.ClickException(str(exc)) from None


@click.command("web")
@click.pass_obj
def web(state: CliState) -> None:
    """Serve the care inbox alone ([web] listen); `listener run` serves it beside the scheduler."""
    from listener.web.security import MissingSecret
    from listener.web.server import make_server

    settings = state.settings
    if settings.web is None:
        raise click.ClickException("no [web] section in the config (see config/listener.example.toml)")
    with app_for(state) as app:
        try:
            server = make_server(settings, app.store, app.clock)
        except MissingSecret as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"care inbox on http://{settings.web.listen}", err=True)
        server.run()


@click.group()
def users() -> None:
    """Care-inbox users: add, list, disable, enable, passwd, role."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option("--no-password", is_flag=True, help="Sign-in through the reverse proxy only ([web] auth = \"header\").")
@click.pass_obj
def users_add(state: CliState, name: str, role: str, password_stdin: bool, no_password: bool) -> None:
    """Add a user (the password is asked for, or read from stdin; stored as an Argon2 hash)."""
    from listener.web.users import add_user

    password = None if no_password else _password(password_stdin)
    _change_users(state, lambda session, app: add_user(session, name, role, password, app.clock.now()))
    click.echo(f"user {name} added ({role})")


@users.command("list")
@click.pass_obj
def users_list(state: CliState) -> None:
    """Users, their roles and whether they can sign in."""
    from listener.web.users import list_users

    with app_for(state) as app, app.store.read() as session:
        for user in list_users(session):
            status = "disabled" if user.disabled else ("proxy only" if user.password_hash is None else "active")
            click.echo(f"{user.name:<24} {user.role:<7} {status}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.pass_obj
def users_passwd(state: CliState, name: str, password_stdin: bool) -> None:
    """Set a user's password."""
    from listener.web.users import set_password

    password = _password(password_stdin)
    _change_users(state, lambda session, _app: set_password(session, name, password))
    click.echo(f"password of {name} changed")


def _toggle(command: str, disabled: bool) -> None:
    @users.command(command, help=f"{command.capitalize()} a user's sign-in (their history stays).")
    @click.argument("name")
    @click.pass_obj
    def toggle(state: CliState, name: str) -> None:
        from listener.web.users import set_disabled

        _change_users(state, lambda session, _app: set_disabled(session, name, disabled))
        click.echo(f"user {name} {command}d")


_toggle("disable", True)
_toggle("enable", False)


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_obj
def users_role(state: CliState, name: str, role: str) -> None:
    """Change a user's role."""
    from listener.web.users import set_role

    _change_users(state, lambda session, _app: set_role(session, name, role))
    click.echo(f"user {name} is now {role}")
