"""Serving the care inbox with uvicorn: alone (`listener web`) or in a thread beside the scheduler (`listener run`)."""

from __future__ import annotations

import logging
import threading

import uvicorn

from listener.clock import Clock
from listener.config import Settings
from listener.store.engine import Store
from listener.web.app import create_app

log = logging.getLogger(__name__)


def make_server(settings: Settings, store: Store, clock: Clock) -> uvicorn.Server:
    config = settings.web
    assert config is not None
    app = create_app(settings, store, clock)
    # proxy_headers off: the peer address must stay the proxy's, which header sign-in checks (trusted_proxies).
    return uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port, proxy_headers=False,
                                         access_log=False, log_level="warning", server_header=False))


class BackgroundServer:
    """uvicorn in a thread; `stop()` lets open requests finish."""

    def __init__(self, server: uvicorn.Server):
        self.server = server
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    def start(self, timeout: float = 15.0) -> None:
        """Start and wait until it listens: a taken port fails the daemon's start, not silently later."""
        self.thread.start()
        ready = threading.Event()
        for _ in range(int(timeout / 0.05)):
            if self.server.started or not self.thread.is_alive():
                break
            ready.wait(0.05)
        config = self.server.config
        if not self.server.started:
            self.stop()
            raise RuntimeError(f"the care inbox could not listen on {config.host}:{config.port} (see the log)")
        log.info("event=web_started listen=%s:%s", config.host, config.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
