"""`listener doctor`: is this installation able to run? One line per check; exit code 1 if any check fails.

Checks the config, the database (reachable, migrations), the model, every channel (a connection, or a real
test alert with --send-test), every source (one poll whose result is thrown away), the write credentials of
every source that posts replies (present, and accepted where the platform can say who they are), disk space and
the clock.
Nothing is written to the database. A check that cannot tell (no NTP status here, a model not yet prepared,
which the daemon does at start) is a warning, not a failure.
"""

from __future__ import annotations

import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from listener.delivery.channels import AlertMessage, Channel, EmailChannel, WebhookChannel
from listener.delivery.helpdesk.handoff import HelpdeskChannel
from listener.delivery.helpdesk.model import HelpdeskError
from listener.ops.health import database_check
from listener.store.engine import alembic_config
from listener.store.models import MentionRow, SourceRow

if TYPE_CHECKING:  # handed the running App; builds none
    from listener.app import App

Status = Literal["ok", "warn", "FAIL"]
DISK_FAIL_BYTES = 500 * 2**20  # below this a poll or a migration may fail half-way
DISK_WARN_BYTES = 2 * 2**30
CLOCK_MAX_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class Result:
    status: Status
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<28} {self.detail}"


def _guard(name: str, check: Callable[[], Result]) -> Result:
    """A check that raises is a failure of that check, not of the doctor."""
    try:
        return check()
    except Exception as exc:  # noqa: BLE001
        return Result("FAIL", name, f"{type(exc).__name__}: {exc}"[:300])


def run_checks(app: App, send_test: bool = False) -> Iterator[Result]:
    yield _guard("database", lambda: _database(app))
    yield _guard("model", lambda: _model(app))
    try:
        channels, sources = app.channels, app.sources
    except Exception as exc:  # noqa: BLE001 - e.g. a source whose secret is missing
        yield Result("FAIL", "channels and sources", f"cannot be set up: {type(exc).__name__}: {exc}"[:300])
        channels, sources = {}, {}
    for name, channel in channels.items():
        yield _guard(f"channel {name}", lambda c=channel: _channel(c, send_test, app))  # type: ignore[misc]
    for name in sources:
        yield _guard(f"source {name}", lambda n=name: _source(app, n))  # type: ignore[misc]
    for name in app.reply_clients.reply_sources():  # write credentials of reply = true sources (listener/replies)
        yield _guard(f"replies {name}", lambda n=name: Result("ok", f"replies {n}",  # type: ignore[misc]
                                                              app.reply_clients.check(n)))
    for label, path in _disk_paths(app):
        yield _guard(f"disk {label}", lambda p=path, lb=label: _disk(lb, p))  # type: ignore[misc]
    yield _guard("clock", lambda: _clock(app))
    if app.settings.web is not None:
        yield _guard("web", lambda: _web(app))


# ----------------------------------------------------------------------------- database and model
def _database(app: App) -> Result:
    reachable = database_check(app.store)
    where = app.store.engine.url.render_as_string(hide_password=True)
    if not reachable.ok:
        return Result("FAIL", "database", f"{where}: {reachable.detail}")
    head = ScriptDirectory.from_config(alembic_config(app.store)).get_current_head()
    with app.store.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return Result("ok", "database", f"{where}: reachable, schema at {head}")
    if current is None:  # the daemon migrates at start
        return Result("warn", "database", f"{where}: reachable, no schema yet (listener db upgrade, or start)")
    return Result("warn", "database", f"{where}: schema at {current}, this version needs {head} "
                                      "(listener db upgrade, or the daemon does it at start)")


def _model(app: App) -> Result:
    nlp = app.settings.nlp
    if nlp.model == "embedded":
        from listener.nlp.convert import MODEL_DIRNAME, is_converted

        if not is_converted(app.settings.cache_dir / MODEL_DIRNAME):
            return Result("warn", "model", f"embedded model not prepared in {app.settings.cache_dir}: "
                                           "`listener nlp setup` (or the daemon's first start) takes about a minute")
    elif Path(nlp.model).is_absolute() and not (Path(nlp.model) / "config.json").is_file():
        return Result("FAIL", "model", f"{nlp.model}: no config.json: not a model directory")
    started = time.perf_counter()
    scorer = app.scorer
    sentiment = scorer.score(["Thanks, all good."])[0].sentiment
    return Result("ok", "model", f"{scorer.model_version} loaded and scored a test text ({sentiment}) in "
                                 f"{time.perf_counter() - started:.1f} s")


# ----------------------------------------------------------------------------- channels and sources
def test_message(channel: str, now: datetime) -> AlertMessage:
    return AlertMessage(
        idempotency_key=f"doctor-{channel}-{now:%Y%m%dT%H%M%S}", task_id=None, priority="P3", due_at=None,
        reasons=["test alert from `listener doctor --send-test`: no action needed"], brands=[], source="doctor",
        author=None, url=None, title="listener test alert", text="This is a test of the alert channel.",
        published_at=now, sentiment="neutral", confidence=1.0, language="en", categories=[],
    )


def _channel(channel: Channel, send_test: bool, app: App) -> Result:
    name = f"channel {channel.name}"
    if isinstance(channel, HelpdeskChannel):  # a test alert would open a ticket: an authenticated read instead
        try:
            return Result("ok", name, f"{channel.label}: {channel.check()}")
        except HelpdeskError as exc:
            return Result("FAIL", name, f"{channel.label}: {exc}"[:300])
    if send_test:
        channel.send(test_message(channel.name, app.clock.now()))
        return Result("ok", name, "test alert sent")
    if isinstance(channel, EmailChannel):
        smtp = channel.settings.smtp
        try:
            return Result("ok", name, _smtp_handshake(channel))
        except (OSError, smtplib.SMTPException) as exc:
            return Result("FAIL", name, f"SMTP {smtp.host}:{smtp.port}: {type(exc).__name__}: {exc}"[:300])
    if isinstance(channel, WebhookChannel):
        return Result("ok", name, _webhook_reachable(channel))
    return Result("warn", name, "no check for this kind of channel")


def _smtp_handshake(channel: EmailChannel) -> str:
    """Connect, EHLO, STARTTLS and login as configured, NOOP, QUIT: everything but sending."""
    from listener.secrets import get_secret

    smtp = channel.settings.smtp
    timeout = smtp.timeout.total_seconds()
    client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context()) \
        if smtp.ssl else smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with client:
        client.ehlo()
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.username:
            client.login(smtp.username, get_secret(smtp.password_secret) if smtp.password_secret else "")
        client.noop()
    steps = ["STARTTLS" if smtp.starttls else "", "login" if smtp.username else ""]
    return f"SMTP {smtp.host}:{smtp.port} answers ({', '.join(s for s in ['EHLO', *steps] if s)}); " \
           "--send-test sends a test alert"


def _webhook_reachable(channel: WebhookChannel) -> str:
    """The URL (or its secret) resolves and its host accepts a connection; the URL itself is never printed."""
    from listener.secrets import get_secret

    url = str(channel.settings.url) if channel.settings.url else get_secret(channel.settings.url_secret or "")
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    with socket.create_connection((parsed.host, port), timeout=channel.settings.timeout.total_seconds()):
        pass
    return f"host of the webhook URL accepts connections on port {port}; --send-test posts a test alert"


def _source(app: App, name: str) -> Result:
    """One poll with the stored cursor; its items are counted and dropped, the cursor is not advanced."""
    cursor = _stored(app, lambda session: session.scalar(select(SourceRow.cursor).where(SourceRow.name == name)))
    started = time.perf_counter()
    batch = app.sources[name].poll(dict(cursor or {}))
    took = time.perf_counter() - started
    if batch.not_modified:
        return Result("ok", f"source {name}", f"reachable, nothing new since the last poll ({took:.1f} s)")
    return Result("ok", f"source {name}", f"{len(batch.items)} items fetched ({took:.1f} s), none stored")


def _stored(app: App, query: Callable[[Session], Any]) -> Any:
    """A read from the database, or None where it cannot answer (down, or no schema yet: reported above)."""
    try:
        with app.store.read() as session:
            return query(session)
    except SQLAlchemyError:
        return None


# ----------------------------------------------------------------------------- disk and clock
def _disk_paths(app: App) -> list[tuple[str, Path]]:
    paths = [("model cache", app.settings.cache_dir)]
    url = make_url(app.settings.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        paths.insert(0, ("database", Path(url.database).expanduser().resolve().parent))
    return paths


def _disk(label: str, path: Path) -> Result:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the directory is created on first use: measure where it will be
    usage = shutil.disk_usage(existing)
    detail = f"{path}: {usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB"
    if usage.free < DISK_FAIL_BYTES:
        return Result("FAIL", f"disk {label}", detail)
    return Result("warn" if usage.free < DISK_WARN_BYTES else "ok", f"disk {label}", detail)


def _clock(app: App) -> Result:
    now = datetime.now(UTC)
    notes: list[str] = []
    status: Status = "ok"
    newest = _stored(app, lambda session: session.scalar(select(func.max(MentionRow.fetched_at))))
    server_now = _stored(app, lambda session: session.scalar(text("SELECT now()"))) \
        if app.store.engine.dialect.name == "postgresql" else None
    if newest is not None and newest - now > timedelta(minutes=5):
        status = "FAIL"
        notes.append(f"a mention was fetched at {newest:%Y-%m-%d %H:%M} UTC, later than now: the clock went back")
    if server_now is not None:
        skew = abs((server_now - now).total_seconds())
        if skew > CLOCK_MAX_SKEW.total_seconds():
            status = "FAIL"
        notes.append(f"{skew:.1f} s from the PostgreSQL server's clock")
    synced = _ntp_synchronized()
    if synced is False and status == "ok":
        status = "warn"
    notes.append({True: "NTP synchronised", False: "NTP not synchronised", None: "NTP status unknown"}[synced])
    return Result(status, "clock", f"{now:%Y-%m-%d %H:%M:%S} UTC; " + "; ".join(notes))


def _web(app: App) -> Result:
    from listener.web.proxies import proxy_problem

    config = app.settings.web
    assert config is not None
    problem = proxy_problem(config)
    if problem:
        return Result("warn", "web", problem)
    trusted = f"; trusts X-Forwarded-For from {', '.join(config.trusted_proxies)}" if config.trusted_proxies else ""
    return Result("ok", "web", f"care inbox on {config.listen}{trusted}")


def _ntp_synchronized() -> bool | None:
    if shutil.which("timedatectl") is None:
        return None
    try:
        out = subprocess.run(["timedatectl", "show", "--property=NTPSynchronized", "--value"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"yes": True, "no": False}.get(out.stdout.strip())
