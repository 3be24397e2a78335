"""The write clients of the reply-enabled sources, built on first use and kept (a client may hold a session or
a token it renewed), with one HTTP client for all of them."""

from __future__ import annotations

import threading

import httpx

from listener import __version__
from listener.clock import Clock
from listener.config import Settings
from listener.replies.platforms import platform, reply_enabled
from listener.replies.platforms.base import ReplyClient
from listener.secrets import get_secret


def reply_http(settings: Settings) -> httpx.Client:
    """Timeouts and user agent of [http]; a POST is never re-sent by a redirect."""
    return httpx.Client(timeout=settings.http.timeout.total_seconds(), follow_redirects=False,
                        headers={"User-Agent": settings.http.user_agent or f"listener/{__version__}"})


class ReplyClients:
    def __init__(self, settings: Settings, clock: Clock, http: httpx.Client | None = None):
        self.settings = settings
        self.clock = clock
        self.http = http or reply_http(settings)
        self._clients: dict[str, ReplyClient] = {}
        self._lock = threading.Lock()

    def __call__(self, source_name: str) -> ReplyClient:
        """The client answering through `source_name`; raises MissingSecret when a write secret is not set, and
        KeyError when the source cannot reply."""
        with self._lock:
            if source_name not in self._clients:
                self._clients[source_name] = self.build(source_name)
            return self._clients[source_name]

    def build(self, source_name: str) -> ReplyClient:
        source = self.settings.source_by_name(source_name)
        module = platform(source.kind)
        if module is None or not reply_enabled(source):
            raise KeyError(f"source {source_name!r} does not post replies")
        client: ReplyClient = module.make_client(source, self.http, get_secret, self.clock)
        return client

    def close(self) -> None:
        self.http.close()

    def reply_sources(self) -> list[str]:
        return [s.name for s in self.settings.source if platform(s.kind) is not None and reply_enabled(s)]

    def check(self, source_name: str) -> str:
        """For `listener doctor`: the write secrets are there and, where the client can ask the platform who it
        is (its optional `verify()`), the platform accepts them. Posts nothing; raises on failure."""
        client = self.build(source_name)
        verify = getattr(client, "verify", None)
        if verify is None:
            return "write credentials present (this platform is not asked before the first reply)"
        return f"write credentials accepted: {verify()}"
