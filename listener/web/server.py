"""The care inbox assembled (routes, static files, sessions, security headers) and served with uvicorn: alone
(`listener web`) or in a thread beside the scheduler (`listener run`)."""

from __future__ import annotations

import logging
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from listener.clock import Clock
from listener.config import Settings
from listener.store.engine import Store
from listener.web.app import Web, environment
from listener.web.errors import EXCEPTION_HANDLERS
from listener.web.guards import PrivatePages, SameOrigin
from listener.web.queue import QueueCache
from listener.web.routes import routes
from listener.web.security import AckLinks, session_secret
from listener.web.settings import WebSettings
from listener.web.throttle import SignInGuard

log = logging.getLogger(__name__)
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                 b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}  # a page may bring its own, stricter policy
                message["headers"] = headers + [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, store: Store, clock: Clock) -> Starlette:
    config = settings.web or WebSettings()
    settings = settings.model_copy(update={"web": config})
    secret = session_secret(config)
    web = Web(settings, store, clock, environment(), AckLinks(secret, clock, config.ack_link_valid),
              SignInGuard.from_settings(config, clock, secret), QueueCache())
    all_routes: list[BaseRoute] = [*routes(),
                                   Mount("/static", StaticFiles(packages=[("listener.web", "static")]), name="static")]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(PrivatePages, config=config),
        Middleware(SameOrigin, config=config),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="listener_session",
                   max_age=int(config.session_max_age.total_seconds()), same_site="lax",
                   https_only=config.secure_cookies),
    ]
    app = Starlette(routes=all_routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS)
    app.state.web = web
    return app


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
