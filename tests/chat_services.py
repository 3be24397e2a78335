"""Local stand-ins for the chat services Apprise talks to: each checks the request the real service expects.

One HTTP server on 127.0.0.1 answers the routes of Mattermost, ntfy, Matrix, Rocket.Chat (reached directly through
their custom-host URLs) and of Discord, Telegram, Google Chat and Teams Workflows (whose URLs name fixed public
hosts: `reroute` points requests' transport at this server and records the host Apprise meant to reach).
A request missing what the real service requires gets the real service's error status, so delivery fails.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import requests.adapters

from listener.demo.servers import LoopbackServer, _Quiet

MATRIX_ROOM_ID = "!room1:localhost"
ORIGINAL_HOST = "X-Test-Original-Host"
PUBLIC_HOSTS = ("discord.com", "api.telegram.org", "chat.googleapis.com", "logic.azure.com")


@dataclass
class Request:
    service: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any

    @property
    def host(self) -> str:
        return self.headers.get(ORIGINAL_HOST, "127.0.0.1")


Reply = tuple[int, dict[str, Any] | None]


def _need(body: Any, *keys: str) -> bool:
    return isinstance(body, dict) and all(k in body and body[k] not in (None, "") for k in keys)


def _mattermost(r: Request) -> Reply:  # POST /hooks/<token> {"text": …}
    return (200, None) if _need(r.body, "text") else (400, {"message": "Unable to parse incoming data"})


def _rocket(r: Request) -> Reply:  # POST /hooks/<id>/<token> {"text": …, "channel": …}
    return (200, {"success": True}) if _need(r.body, "text") else (400, {"success": False})


def _ntfy(r: Request) -> Reply:  # POST / {"topic": …, "message": …} (JSON publishing)
    if not _need(r.body, "topic", "message"):
        return 400, {"code": 40001, "error": "invalid request"}
    return 200, {"id": "m1", "topic": r.body["topic"], "event": "message"}


def _matrix(r: Request) -> Reply:
    if r.headers.get("Authorization") != "Bearer syt_test_token":
        return 401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}
    if r.path.endswith("/account/whoami"):
        return 200, {"user_id": "@listener:localhost"}
    if "/join/" in r.path:
        return 200, {"room_id": MATRIX_ROOM_ID}
    if r.method == "PUT" and f"/rooms/{MATRIX_ROOM_ID}/send/m.room.message/" in r.path:
        return (200, {"event_id": "$e1"}) if _need(r.body, "msgtype", "body") else (400, {"errcode": "M_BAD_JSON"})
    return 404, {"errcode": "M_UNRECOGNIZED"}


def _discord(r: Request) -> Reply:  # POST /api/webhooks/<id>/<token> {"content": …}
    return (200, {"id": "1"}) if _need(r.body, "content") else (400, {"message": "Cannot send an empty message"})


def _telegram(r: Request) -> Reply:  # POST /bot<token>/sendMessage {"chat_id": …, "text": …}
    if not _need(r.body, "chat_id", "text"):
        return 400, {"ok": False, "description": "Bad Request: message text is empty"}
    return 200, {"ok": True, "result": {"message_id": 7}}


def _google_chat(r: Request) -> Reply:  # POST /v1/spaces/<space>/messages?key=…&token=… {"text": …}
    if not (r.query.get("key") and r.query.get("token")) or not _need(r.body, "text"):
        return 400, {"error": {"code": 400}}
    return 200, {"name": "spaces/SPACE/messages/1"}


def _workflows(r: Request) -> Reply:  # POST /workflows/<id>/triggers/manual/paths/invoke?…&sig=… (Adaptive Card)
    if not r.query.get("sig") or not r.query.get("api-version"):
        return 401, {"error": {"code": "DirectApiAuthorizationRequired"}}
    cards = r.body.get("attachments", []) if isinstance(r.body, dict) else []
    ok = cards and cards[0].get("contentType") == "application/vnd.microsoft.card.adaptive"
    return (202, None) if ok else (400, {"error": {"code": "InvalidTemplate"}})


ROUTES: list[tuple[str, re.Pattern[str], Callable[[Request], Reply]]] = [
    ("mattermost", re.compile(r"^/hooks/[^/]+$"), _mattermost),
    ("rocketchat", re.compile(r"^/hooks/[^/]+/[^/]+$"), _rocket),
    ("ntfy", re.compile(r"^/$"), _ntfy),
    ("matrix", re.compile(r"^/_matrix/client/"), _matrix),
    ("discord", re.compile(r"^/api/webhooks/\d+/[\w-]+$"), _discord),
    ("telegram", re.compile(r"^/bot\d+:[\w-]+/sendMessage$"), _telegram),
    ("googlechat", re.compile(r"^/v1/spaces/[^/]+/messages$"), _google_chat),
    ("workflows", re.compile(r"^/workflows/[^/]+/triggers/manual/paths/invoke$"), _workflows),
]


class ChatServices(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.requests: list[Request] = []
        self.fail_with: int | None = None  # answer every request with this status (an outage)
        self.lock = threading.Lock()

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.httpd.server_address[1]}"

    def of(self, service: str) -> list[Request]:
        return [r for r in self.requests if r.service == service]


class _Handler(_Quiet):
    def _handle(self) -> None:
        services: ChatServices = self.server.owner  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        for service, pattern, handler in ROUTES:
            if pattern.match(path):
                request = Request(service, self.command, path, parse_qs(parts.query), dict(self.headers), body)
                with services.lock:
                    services.requests.append(request)
                status, reply = (services.fail_with, {"error": "down"}) if services.fail_with else handler(request)
                break
        else:
            status, reply = 404, {"error": f"no such route {path}"}
        data = json.dumps(reply).encode() if reply is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _handle  # noqa: N815 - http.server's naming


@contextmanager
def reroute(services: ChatServices) -> Iterator[None]:
    """Send requests for the fixed public hosts to `services` (plain HTTP on loopback); refuse any other host."""
    original = requests.adapters.HTTPAdapter.send

    def send(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest,
             **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        host = parts.hostname or ""
        if host != "127.0.0.1":
            if not any(host == h or host.endswith("." + h) for h in PUBLIC_HOSTS):
                raise AssertionError(f"a test tried to reach {host}")
            request.headers[ORIGINAL_HOST] = parts.netloc
            request.url = urlunsplit(("http", services.netloc, parts.path, parts.query, parts.fragment))
        return original(self, request, **kwargs)

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        requests.adapters.HTTPAdapter.send = original  # type: ignore[method-assign]
