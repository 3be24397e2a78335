"""A helpdesk's REST API on loopback: a real HTTP server whose routes check each request as the helpdesk's API
documentation says (method, path, auth, body fields and their types) and answer with the documented shapes.

A request the real API would refuse is answered with that helpdesk's error (401, 404, 422 …) *and* noted in
`violations`, so a test can tell "the helpdesk said no" from "we sent something undocumented". `fail(route, reply)`
queues a misbehaviour (a 429 with Retry-After, a 503, a 422) for the next call of one route.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from listener.clock import Clock
from listener.demo.servers import LoopbackServer
from tests.sources._http import JSON, Reply, Request, json_reply, send_reply

Handler = Callable[..., Reply]


class Invalid(Exception):
    """A request that does not match the documentation: the route answers `reply`."""

    def __init__(self, message: str, reply: Reply):
        super().__init__(message)
        self.reply = reply


class Refusal(Exception):
    """A documented refusal (a 404 for a deleted ticket): answered as `reply`, not a violation of ours."""

    def __init__(self, reply: Reply):
        super().__init__("refused")
        self.reply = reply


class FakeApi(LoopbackServer):
    def __init__(self, clock: Clock):
        owner = self
        self.clock = clock
        self.lock = threading.RLock()
        self.requests: list[Request] = []
        self.violations: list[str] = []
        self.failures: dict[str, list[Reply]] = {}
        self.routes: list[tuple[str, re.Pattern[str], str, Handler]] = []
        self._next_id = 100

        class Server(BaseHTTPRequestHandler):
            def serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(method, parts.path, parse_qs(parts.query, keep_blank_values=True),
                                  httpx.Headers(self.headers.items()), body)
                send_reply(self, *owner.answer(request))

            def do_GET(self) -> None:  # noqa: N802
                self.serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self.serve("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self.serve("PUT")

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Server)
        self.register()

    # ------------------------------------------------------------------------- for subclasses
    def register(self) -> None:
        """Add the routes (`self.route(...)`)."""

    def route(self, method: str, pattern: str, name: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), name, handler))

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> Reply:
        return json_reply({"error": "Unauthorized"}, 401)

    def not_found(self, what: str) -> Reply:
        return json_reply({"error": f"{what} not found"}, 404)

    def invalid(self, message: str) -> Reply:
        return json_reply({"error": message}, 422)

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # ------------------------------------------------------------------------- serving
    def answer(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            if not self.authorized(request):
                return self.unauthorized()
            for method, pattern, name, handler in self.routes:
                match = pattern.match(request.path)
                if match and method == request.method:
                    if self.failures.get(name):
                        return self.failures[name].pop(0)
                    try:
                        return handler(request, **match.groupdict())
                    except Invalid as exc:
                        self.violations.append(f"{request.method} {request.path}: {exc}")
                        return exc.reply
                    except Refusal as exc:
                        return exc.reply
            self.violations.append(f"no such endpoint: {request.method} {request.path}")
            return self.not_found("endpoint")

    def fail(self, route: str, reply: Reply, times: int = 1) -> None:
        with self.lock:
            self.failures.setdefault(route, []).extend([reply] * times)

    def calls(self, method: str, path_prefix: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # ------------------------------------------------------------------------- checking bodies
    def body(self, request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            raise Invalid("the body is not sent as application/json", self.invalid("Content-Type must be JSON"))
        try:
            data = json.loads(request.body)
        except ValueError:
            raise Invalid("the body is not JSON", json_reply({"error": "bad JSON"}, 400)) from None
        if not isinstance(data, dict):
            raise Invalid("the body is not an object", json_reply({"error": "bad JSON"}, 400))
        return data

    def check(self, data: dict[str, Any], where: str, required: dict[str, Any],
              optional: dict[str, Any] | None = None) -> dict[str, Any]:
        """Every required field present with its type, nothing undocumented: what the documentation lists."""
        allowed = {**required, **(optional or {})}
        for key in required:
            if key not in data:
                raise Invalid(f"{where}: {key} is missing", self.invalid(f"{key} is missing"))
        for key, value in data.items():
            if key not in allowed:
                raise Invalid(f"{where}: {key} is not a documented field", self.invalid(f"unknown field {key}"))
            kind = allowed[key]
            if kind is not None and not isinstance(value, kind):
                raise Invalid(f"{where}: {key} should be {kind}, is {type(value).__name__}",
                              self.invalid(f"{key} has the wrong type"))
        return data

    def param(self, request: Request, key: str) -> str:
        value = request.param(key)
        if value is None:
            raise Invalid(f"query parameter {key} is missing", self.invalid(f"{key} is missing"))
        return value


def ok(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return json_reply(data, status, headers)


__all__ = ["JSON", "FakeApi", "Invalid", "Refusal", "Reply", "Request", "json_reply", "ok"]
