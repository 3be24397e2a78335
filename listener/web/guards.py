"""Two ASGI guards around every route of the care inbox.

`SameOrigin`: a POST (or any other state-changing method) whose `Sec-Fetch-Site` says it came from another site,
or whose `Origin` is not this site, is refused with 403 before a handler sees it — a second wall behind the CSRF
token. Requests without either header (scripts, old browsers) still need the token.

`PrivatePages`: every page and fragment is sent with `Cache-Control: no-store` (they show customers' posts and
carry the session's CSRF token: no shared or back-button cache keeps them after sign-out), and with
`Strict-Transport-Security` when `base_url` is https. Static files keep their normal caching.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from listener.web.german import GERMAN
from listener.web.i18n import negotiate
from listener.web.settings import WebSettings

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SAME_SITE = {"same-origin", "none"}  # "none": typed in, a bookmark
HSTS = b"max-age=31536000"
REFUSED = "This form was sent from another site and was refused. Reload the page here and try again."


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _origin(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


class SameOrigin:
    def __init__(self, app: ASGIApp, config: WebSettings):
        self.app = app
        self.public = _origin(config.base_url) if config.base_url else None

    def allowed(self, scope: Scope) -> bool:
        fetch_site = _header(scope, b"sec-fetch-site")
        if fetch_site is not None and fetch_site.strip().lower() not in SAME_SITE:
            return False
        origin = _header(scope, b"origin")
        if origin is None:
            return True
        given = _origin(origin.strip())
        if given is None:  # "null" (sandboxed frames, some redirects) or garbage
            return False
        host = (_header(scope, b"host") or "").strip().lower()
        return given == self.public or (bool(host) and given[1] == host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or self.allowed(scope):
            await self.app(scope, receive, send)
            return
        language = negotiate(_header(scope, b"accept-language"))
        message = GERMAN.get(REFUSED, REFUSED) if language == "de" else REFUSED
        body = (f'<!doctype html><html lang="{language}"><meta charset="utf-8"><title>403 · listener</title>'
                f'<main><h1>403</h1><p class="error" role="alert">{message}</p></main></html>').encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class PrivatePages:
    def __init__(self, app: ASGIApp, config: WebSettings):
        self.app = app
        self.hsts = config.secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = not scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if private and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", HSTS))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
