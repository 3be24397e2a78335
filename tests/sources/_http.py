"""A loopback HTTP server for source tests whose answers depend on path and query."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from listener.demo.servers import LoopbackServer

Reply = tuple[int, dict[str, str], bytes]  # status, headers, body


def send_reply(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    """Answer the handler's request with `status`, `headers` and `body` (Content-Length is added)."""
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class ApiServer(LoopbackServer):
    """A loopback HTTP server whose answers depend on path and query: `handler(path, params) -> reply`."""

    def __init__(self, handler: Callable[[str, dict[str, list[str]]], Reply]):
        owner = self
        self.handler = handler
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                params = parse_qs(parts.query)
                owner.requests.append((parts.path, params, dict(self.headers)))
                send_reply(self, *owner.handler(parts.path, params))

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)


