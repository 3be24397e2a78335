"""The end of `listener demo`: the care inbox served on the demo's data, so a newcomer sees what the care team
sees — the queue, a task, the actions — not only the terminal. Until Ctrl-C; `listener demo --no-web` skips it."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import click

from listener.demo.servers import free_port

if TYPE_CHECKING:
    from listener.app import App

DEMO_AGENT = "anna"
SECRET_ENV = "LISTENER_WEB_SESSION_SECRET"


def port_or_free(port: int) -> int:
    """`port` when nothing listens on it yet, else any free port."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return free_port()
    return port


def serve_inbox(app: App, config_path: Path, port: int) -> None:
    from listener.web.server import make_server
    from listener.web.settings import WebSettings
    from listener.web.users import add_user, get_user, set_password

    os.environ.setdefault(SECRET_ENV, secrets.token_hex(32))  # this demo's sessions only
    port = port_or_free(port)
    web = WebSettings(listen=f"127.0.0.1:{port}", base_url=f"http://127.0.0.1:{port}")
    with config_path.open("a", encoding="utf-8") as config:
        config.write(f'\n[web]\nlisten = "{web.listen}"\nbase_url = "{web.base_url}"\n')
    password = secrets.token_urlsafe(9)
    with app.store.write() as session:
        if get_user(session, DEMO_AGENT) is None:
            add_user(session, DEMO_AGENT, "agent", password, app.clock.now())
        else:
            set_password(session, DEMO_AGENT, password)
    server = make_server(app.settings.model_copy(update={"web": web}), app.store, app.clock)
    click.echo("\n== care inbox (the care team's view of the tasks above)")
    click.echo(f"  open {web.base_url}/queue")
    click.echo(f"  sign in as {DEMO_AGENT} with the password {password}")
    click.echo("  Ctrl-C stops the demo (`listener demo --no-web` ends without it)")
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn stops gracefully on Ctrl-C, then passes the signal on
        pass
    click.echo("care inbox stopped")
