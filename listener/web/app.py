"""The care inbox as an ASGI app: sign-in, roles, CSRF and rendering around the route handlers.

Handlers are plain functions `(web, request, user, form) -> Response` run in the thread pool (the store is
synchronous SQLAlchemy); `guarded` resolves the user first, so every page and action without a session lands
on the sign-in page, a POST without the session's CSRF token gets 403, and a role check refuses the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from listener.clock import Clock
from listener.config import Settings
from listener.store.engine import Store
from listener.store.models import UserRow
from listener.web.i18n import Formatter, negotiate, regional
from listener.web.params import BadParam
from listener.web.proxies import note_untrusted_forwarding
from listener.web.queue import QueueCache
from listener.web.security import AckLinks, csrf_ok, new_csrf_token
from listener.web.settings import WebSettings
from listener.web.throttle import SignInGuard
from listener.web.users import can_act, can_edit_silences, can_edit_templates, get_user

Handler = Callable[["Web", Request, UserRow, FormData | None], Response]
ACTION_LABELS = {"ack": "acknowledged", "respond": "responded", "resolve": "resolved", "dismiss": "dismissed",
                 "assign": "assigned", "note": "note", "label": "verdict corrected", "reopen": "reopened",
                 "create": "created",
                 # replies to the platforms (listener/replies/service.py)
                 "reply_queued": "reply queued", "reply_pending_approval": "reply waits for approval",
                 "reply_draft": "reply draft saved", "reply_approved": "reply approved",
                 "reply_returned": "reply sent back", "replied": "replied on the platform",
                 "reply_failed": "reply failed", "reply_unknown": "reply outcome unknown",
                 # contacts (listener/contacts)
                 "follow_up": "follow-up", "merge": "task merged in", "merged": "merged",
                 "contact_link": "contacts linked", "contact_unlink": "link undone",
                 "handoff": "handed to the helpdesk"}


@dataclass
class Web:
    settings: Settings
    store: Store
    clock: Clock
    env: Environment
    acks: AckLinks
    throttle: SignInGuard
    queues: QueueCache

    @property
    def config(self) -> WebSettings:
        assert self.settings.web is not None
        return self.settings.web


def safe_url(url: str | None) -> str | None:
    """Only http(s) links become hrefs: a `javascript:` or `data:` URL in a mention stays text."""
    return url if url and url.lower().startswith(("https://", "http://")) else None


def environment() -> Environment:
    env = Environment(loader=PackageLoader("listener.web", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_url"] = safe_url
    env.globals["can_act"] = can_act
    env.globals["can_edit_templates"] = can_edit_templates
    env.globals["can_edit_silences"] = can_edit_silences
    env.globals["action_labels"] = ACTION_LABELS
    return env


def client_address(web: Web, request: Request) -> str:
    """The peer, or behind a trusted proxy the address it forwarded (for throttling sign-ins per client)."""
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and web.config.is_trusted_proxy(peer):
        return forwarded.split(",")[-1].strip()
    if forwarded:
        note_untrusted_forwarding(peer)
    return peer


def formatter(web: Web, request: Request, user: UserRow | None) -> Formatter:
    accept = request.headers.get("accept-language")
    language = (user.locale if user else None) or negotiate(accept)
    return Formatter(language, web.config.timezone, regional(accept, language), web.settings.digest.category_names)


def csrf_token(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = new_csrf_token()
    return str(request.session["csrf"])


def render(web: Web, request: Request, user: UserRow | None, template: str, status: int = 200,
           **context: Any) -> HTMLResponse:
    fmt = formatter(web, request, user)
    html = web.env.get_template(template).render(
        request=request, user=user, csrf=csrf_token(request), path=request.url.path,
        refresh_ms=int(web.config.refresh.total_seconds() * 1000), auth=web.config.auth, **fmt.context(), **context)
    return HTMLResponse(html, status_code=status)


def refuse(web: Web, request: Request, user: UserRow | None, status: int, message: str) -> HTMLResponse:
    return render(web, request, user, "error.html", status=status, message=message)


def sign_in_redirect(request: Request) -> RedirectResponse:
    """Back to the page after sign-in; a POST's form is lost anyway, and its URL answers only POSTs."""
    if request.method != "GET":
        return RedirectResponse("/login", status_code=303)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def current_user(web: Web, request: Request) -> UserRow | HTMLResponse | None:
    with web.store.read() as session:
        if web.config.auth == "header":
            peer = request.client.host if request.client else None
            name = request.headers.get(web.config.user_header)
            if not web.config.is_trusted_proxy(peer):
                return refuse(web, request, None, 403, "Sign-in is accepted only through the configured proxy.")
            user = get_user(session, name) if name else None
            if user is None or user.disabled:
                return refuse(web, request, None, 403, "The proxy named no known, enabled user.")
            return user
        name = request.session.get("user")
        user = get_user(session, name) if isinstance(name, str) else None
        if user is None or user.disabled or user.password_hash is None:
            return None
        if request.session.get("pw") != password_mark(user.password_hash):
            return None  # the password changed since this session signed in
        return user


def password_mark(password_hash: str) -> str:
    """Ties a session to the password it signed in with (a one-way digest: the cookie is signed, not secret)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def guarded(web: Web, handler: Handler, request: Request, form: FormData | None,
            allowed: Callable[[str], bool] | None) -> Response:
    user = current_user(web, request)
    if isinstance(user, Response):
        return user
    if user is None:
        request.session.pop("user", None)
        return sign_in_redirect(request)
    if request.method == "POST" and not csrf_ok(request.session.get("csrf"), form.get("csrf") if form else None):
        return refuse(web, request, user, 403, "This form has expired. Reload the page and try again.")
    if allowed is not None and not allowed(user.role):
        return refuse(web, request, user, 403, "Your role may not do this.")
    try:
        return handler(web, request, user, form)
    except BadParam as exc:  # a malformed or impossible value in the request: 400/404, never a 500
        fmt = formatter(web, request, user)
        return refuse(web, request, user, exc.status, fmt.gettext(exc.message).format(**exc.params))


def page(allowed: Callable[[str], bool] | None = None) -> Callable[[Handler], Callable[[Request],
                                                                                       Awaitable[Response]]]:
    """Wrap a handler: sign-in required; POST needs the CSRF token; `allowed(role)` limits who may call it."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            form = await request.form(max_files=0, max_fields=200) if request.method == "POST" else None
            web: Web = request.app.state.web
            return await run_in_threadpool(guarded, web, handler, request, form, allowed)
        endpoint.__name__ = handler.__name__
        return endpoint
    return wrap
