"""/metrics, /healthz and /readyz: handler functions any HTTP server can mount, and a small server for them.

`Endpoints.reply(path)` returns status, content type and body; the stdlib server below serves them on
`[metrics] listen` (a web app can mount the same three functions under its own routes).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from listener.clock import Clock
from listener.ops.collectors import DatabaseCollector
from listener.ops.health import Check, Probes
from listener.ops.settings import split_address
from listener.surveys.metrics import SurveyCollector

log = logging.getLogger(__name__)


class ListenError(Exception):
    """The `[metrics] listen` address cannot be bound (in use, not local, no permission)."""


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


class Endpoints:
    def __init__(self, probes: Probes, clock: Clock):
        self.probes = probes
        self.database = CollectorRegistry(auto_describe=False)
        self.database.register(DatabaseCollector(probes.store, clock))
        self.database.register(SurveyCollector(probes.store))  # answers by score (listener/surveys)

    def metrics(self) -> Reply:
        # The process's counters (default registry) followed by the gauges read from the database.
        return Reply(200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY) + generate_latest(self.database))

    def healthz(self) -> Reply:
        return Reply(200, "text/plain; charset=utf-8", b"ok\n")

    def readyz(self) -> Reply:
        return _checks_reply(self.probes.readiness())

    def reply(self, path: str) -> Reply | None:
        handler = {"/metrics": self.metrics, "/healthz": self.healthz, "/readyz": self.readyz}.get(path)
        return handler() if handler else None


def _checks_reply(checks: list[Check]) -> Reply:
    ready = all(c.ok for c in checks)
    body = {"ready": ready, "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}}
    return Reply(200 if ready else 503, "application/json", json.dumps(body).encode() + b"\n")


class _Handler(BaseHTTPRequestHandler):
    server_version = "listener"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        endpoints: Endpoints = self.server.endpoints  # type: ignore[attr-defined]
        try:
            reply = endpoints.reply(self.path.split("?")[0]) or Reply(404, "text/plain", b"not found\n")
        except Exception:  # noqa: BLE001 - answer 500, keep serving
            log.exception("event=ops_endpoint_failed path=%s", self.path.split("?")[0])
            reply = Reply(500, "text/plain", b"internal error\n")
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:  # scrapes every 15 s would flood the journal
        pass


class _ThreadingHTTPServer6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class OpsServer:
    """Serves `Endpoints` on a background thread until `close()`."""

    def __init__(self, listen: str, endpoints: Endpoints):
        host, port = split_address(listen)
        try:
            server_class = _ThreadingHTTPServer6 if ":" in host else ThreadingHTTPServer
            self.httpd = server_class((host, port), _Handler)
        except OSError as exc:
            raise ListenError(f"metrics.listen {listen}: cannot listen: {exc.strerror or exc}") from exc
        self.httpd.daemon_threads = True
        self.httpd.endpoints = endpoints  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="ops-http", daemon=True)
        self.thread.start()
        log.info("event=metrics_listening address=%s:%d", host, self.port)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
