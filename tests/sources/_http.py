"""The one HTTP fake of the source tests: a real HTTP server on loopback whose answers depend on the request.

`ApiServer(handler)` answers each request with `handler(request)`; a platform's fake with state (sessions,
paging, quotas) subclasses it and overrides `answer`. `fail = (status, headers, body)` makes every request
misbehave (the contract suite's 429 and 503); `requests` keeps what was asked, in order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from listener.demo.servers import LoopbackServer

Reply = tuple[int, dict[str, str], bytes]  # status, headers, body
JSON = {"Content-Type": "application/json; charset=utf-8"}
_FRAMING = {"content-length", "transfer-encoding"}  # the server frames the body itself


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: httpx.Headers  # case-insensitive, as HTTP header names are
    body: bytes = b""

    def param(self, key: str, default: str | None = None) -> str | None:
        """The first value of query parameter `key`."""
        return self.params.get(key, [default])[0]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


def json_reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, {**JSON, **(headers or {})}, json.dumps(data).encode()


def send_reply(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes) -> None:
    """Answer the handler's request with `status`, `headers` and `body` (Content-Length is added)."""
    handler.send_response(status)
    for key, value in headers.items():
        if key.lower() not in _FRAMING:
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class ApiServer(LoopbackServer):
    def __init__(self, handler: Callable[[Request], Reply] | None = None):
        owner = self
        self.handler = handler
        self.requests: list[Request] = []
        self.fail: Reply | None = None

        class Handler(BaseHTTPRequestHandler):
            def serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(method, parts.path, parse_qs(parts.query), httpx.Headers(self.headers.items()), body)
                owner.requests.append(request)
                send_reply(self, *(owner.fail or owner.answer(request)))

            def do_GET(self) -> None:  # noqa: N802
                self.serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self.serve("POST")

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)

    def answer(self, request: Request) -> Reply:
        if self.handler is None:
            raise NotImplementedError("give ApiServer a handler or override answer()")
        return self.handler(request)

    def url(self, path: str = "") -> str:
        return self.base_url + path
