"""What the tests of the review, Q&A and YouTube write clients share: the [[source]] block parsed by the real
config parser (the kind's keys plus its platform's reply keys), the client built the way the daemon builds it
(`ReplyClients`, secrets from the environment), and a fake-platform server that can drop the connection after it
acted on a request (the platform posted the reply, its answer never arrived)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from listener.clock import Clock, FakeClock
from listener.config import ConfigError, Settings
from listener.replies.clients import ReplyClients
from listener.replies.outbox import deliver_replies
from listener.replies.platforms.base import ReplyClient, ReplyTarget
from listener.replies.service import submit
from listener.secrets import env_name
from listener.sources.kit import SourceSettings
from listener.store.engine import Store
from listener.store.models import ReplyRow, TaskRow
from tests.replies.helpers import seed_task, settings_with
from tests.sources._http import ApiServer


class DropConnection(Exception):
    """Raised by a fake's `answer` to close the connection without an answer."""


class PlatformServer(ApiServer):
    """ApiServer whose `answer` may raise DropConnection: the socket is shut without a byte of answer."""

    def __init__(self) -> None:
        super().__init__()
        handler = self.httpd.RequestHandlerClass
        serve = handler.serve  # type: ignore[attr-defined]

        def serve_or_drop(self: Any, method: str) -> None:
            try:
                serve(self, method)
            except DropConnection:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        handler.serve = serve_or_drop  # type: ignore[attr-defined]


def source_block(kind: str, **block: Any) -> dict[str, Any]:
    return {"name": f"{kind}-main", "kind": kind, **block}


def source_settings(kind: str, **block: Any) -> SourceSettings:
    """The [[source]] block as the config parser validates it."""
    return settings_with(source_block(kind, **block)).source_by_name(f"{kind}-main")


def config_problems(kind: str, **block: Any) -> dict[str, str]:
    """What the config parser says about a [[source]] block it refuses: key → message."""
    with pytest.raises(ConfigError) as refused:
        settings_with(source_block(kind, **block))
    return dict(refused.value.problems)


def set_secrets(monkeypatch: pytest.MonkeyPatch, **secrets: str) -> None:
    """Secrets as an operator provides them: $LISTENER_<NAME> (listener/secrets.py)."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    for name, value in secrets.items():
        monkeypatch.setenv(env_name(name), value)


def build_client(kind: str, clock: Clock, **block: Any) -> ReplyClient:
    """The write client of a `kind` source with these keys, built as the daemon builds it."""
    return ReplyClients(settings_with(source_block(kind, **block)), clock)(f"{kind}-main")


def target(kind: str, external_id: str, *, url: str | None = None, thread_id: str | None = None,
           parent_id: str | None = None, **extra: str) -> ReplyTarget:
    return ReplyTarget(source_kind=kind, source_name=f"{kind}-main", external_id=external_id, url=url,
                       thread_id=thread_id, parent_id=parent_id, extra=extra)


class Outbox:
    """One reply through the real outbox: a stored mention with an open task, the agent's reply queued by the
    service the task page uses, delivered by `deliver_replies` with the daemon's `ReplyClients`."""

    def __init__(self, store: Store, clock: FakeClock, kind: str, **block: Any) -> None:
        self.store, self.clock = store, clock
        self.settings: Settings = settings_with(source_block(kind, **block))
        self.clients = ReplyClients(self.settings, clock)
        self.kind = kind

    def queue(self, external_id: str, text: str, *, url: str | None = None, thread_id: str | None = None) -> int:
        task_id = seed_task(self.store, self.clock, f"{self.kind}-main", self.kind, external_id, thread_id=thread_id,
                            url=url)
        with self.store.write() as session:
            return submit(session, self.settings, task_id, text, "anna", "agent", self.clock.now()).id

    def deliver(self) -> None:
        deliver_replies(self.store, self.settings, self.clients, self.clock)

    def reply(self, reply_id: int) -> ReplyRow:
        with self.store.read() as session:
            row = session.get_one(ReplyRow, reply_id)
            session.expunge(row)
            return row

    def task_status(self, reply_id: int) -> str:
        with self.store.read() as session:
            return session.get_one(TaskRow, session.get_one(ReplyRow, reply_id).task_id).status
