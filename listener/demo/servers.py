"""Small real servers on loopback: a feed server, an SMTP sink and a webhook receiver.

Used by `listener demo` and by the tests — real HTTP and SMTP conversations, nothing mocked.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) for the life of a `with` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class FeedServer(LoopbackServer):
    """Serves fixed documents with ETag / Last-Modified and answers conditional GETs with 304.

    `routes[path] = (body, content_type)`; `fail[path] = (status, headers, body)` makes a path misbehave.
    """

    LAST_MODIFIED = "Mon, 05 Jan 2026 09:00:00 GMT"

    def __init__(self, routes: dict[str, tuple[bytes, str]] | None = None):
        super().__init__(_FeedHandler)
        self.routes: dict[str, tuple[bytes, str]] = dict(routes or {})
        self.fail: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


class _FeedHandler(_Quiet):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        server: FeedServer = self.server.owner  # type: ignore[attr-defined]
        path = self.path.split("?")[0]
        with server.lock:
            server.requests.append((self.path, dict(self.headers)))
            failure = server.fail.get(path)
            route = server.routes.get(path)
        if failure:
            status, headers, body = failure
            self._send(status, body, headers)
            return
        if route is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"})
            return
        body, content_type = route
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", {"ETag": etag})
            return
        self._send(200, body, {"Content-Type": content_type, "ETag": etag,
                               "Last-Modified": FeedServer.LAST_MODIFIED})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)


class WebhookReceiver(LoopbackServer):
    """Collects JSON posted to it (like a Slack incoming webhook); `status` makes it fail on purpose."""

    def __init__(self) -> None:
        super().__init__(_WebhookHandler)
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200

    @property
    def url(self) -> str:
        return self.base_url + "/hooks/T000/B000"


class _WebhookHandler(_Quiet):
    def do_POST(self) -> None:  # noqa: N802
        receiver: WebhookReceiver = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if receiver.status == 200:
            receiver.received.append(json.loads(body))
            receiver.headers.append(dict(self.headers))
        reply = b"ok" if receiver.status == 200 else b"error"
        self.send_response(receiver.status)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


class _Collect:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.sink.messages.append(message)
        self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
