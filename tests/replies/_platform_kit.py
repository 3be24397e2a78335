"""What the platform write-client tests share: a [[source]] block validated as the config does (the source kind's
keys plus its platform's reply keys), the client built by the platform's own `make_client` with real secrets from
the environment, and a fake-platform server that can also drop a connection after reading the request (the
platform acted, its answer never arrived)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from listener.clock import Clock
from listener.replies.platforms import platform, with_reply_keys
from listener.replies.platforms.base import ReplyClient, ReplyTarget
from listener.secrets import env_name, get_secret
from listener.sources.kit import SourceSettings, get_source_class
from tests.sources._http import ApiServer, Reply, Request


class DropConnection(Exception):
    """Raised by a fake's `answer` to close the connection without an answer."""


class PlatformServer(ApiServer):
    """ApiServer whose `answer` may raise DropConnection: the socket is shut without a byte of answer, as when
    the platform posted the reply and the connection broke before its answer arrived."""

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

    def answer(self, request: Request) -> Reply:
        raise NotImplementedError


def source_settings(kind: str, **block: Any) -> SourceSettings:
    """The [[source]] block, validated by the model config.py uses for a reply-capable kind."""
    model = with_reply_keys(get_source_class(kind).settings_model, kind)
    return model.model_validate({"name": f"{kind}-main", "kind": kind, **block})


def set_secrets(monkeypatch: pytest.MonkeyPatch, **secrets: str) -> None:
    """Secrets as an operator provides them: $LISTENER_<NAME> (listener/secrets.py)."""
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    for name, value in secrets.items():
        monkeypatch.setenv(env_name(name), value)


def build_client(settings: SourceSettings, clock: Clock, http: httpx.Client | None = None) -> ReplyClient:
    module = platform(settings.kind)
    assert module is not None, f"no platform module for {settings.kind}"
    client: ReplyClient = module.make_client(settings, http or httpx.Client(timeout=5), get_secret, clock)
    return client


def target(kind: str, external_id: str, *, url: str | None = None, thread_id: str | None = None,
           parent_id: str | None = None, **extra: str) -> ReplyTarget:
    return ReplyTarget(source_kind=kind, source_name=f"{kind}-main", external_id=external_id, url=url,
                       thread_id=thread_id, parent_id=parent_id, extra=extra)
