"""The sign-in form: CSRF, then the throttle's budgets (before any hash), then one of a bounded number of password
checks (listener/web/throttle.py); a signed-in browser is remembered so its owner is never locked out by others."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from listener.store.models import UserRow
from listener.web.app import Web, client_address, current_user, formatter, password_mark, refuse, render
from listener.web.params import text
from listener.web.security import csrf_ok, new_csrf_token
from listener.web.throttle import DEVICE_COOKIE, DEVICE_MAX_AGE, Refused
from listener.web.users import check_password, get_user

TOO_MANY = "Too many failed sign-ins. Try again in {wait}."
BUSY = "The sign-in is busy. Try again in a moment."


def local_target(value: str | None) -> str:
    """Only paths on this site: `next=//evil.example` or `https://…` would make sign-in an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value and \
            not any(c < " " or c == "\x7f" for c in value):
        return value
    return "/queue"


def login_page(web: Web, request: Request, error: str | None = None, status: int = 200,
               next_path: str | None = None) -> HTMLResponse:
    return render(web, request, None, "login.html", status=status, error=error,
                  next=local_target(next_path or request.query_params.get("next")))


def login_form(web: Web, request: Request) -> Response:
    if web.config.auth == "header":
        user = current_user(web, request)
        return user if isinstance(user, Response) else RedirectResponse("/queue", status_code=303)
    return login_page(web, request)


def _check(web: Web, name: str, password: str) -> UserRow | None:
    with web.store.read() as session:
        user = get_user(session, name)
    return check_password(user, password)  # the hash: no database connection held meanwhile


def _wait_text(web: Web, request: Request, seconds: int) -> str:
    fmt = formatter(web, request, None)
    return fmt.gettext(TOO_MANY).format(wait=fmt.duration(seconds))


async def login(request: Request) -> Response:
    web: Web = request.app.state.web
    if request.method != "POST":
        return await run_in_threadpool(login_form, web, request)
    form = await request.form(max_files=0, max_fields=10)
    return await submit(web, request, form)


async def submit(web: Web, request: Request, form: FormData) -> Response:
    if web.config.auth == "header":
        return refuse(web, request, None, 404, "Sign-in happens at the proxy.")
    if not csrf_ok(request.session.get("csrf"), form.get("csrf")):
        return refuse(web, request, None, 403, "This form has expired. Reload the page and try again.")
    name, password = text(form.get("name"), 200).strip(), str(form.get("password", ""))[:1000]
    next_path = str(form.get("next", ""))
    guard = web.throttle
    device = guard.known.device(request.cookies.get(DEVICE_COOKIE), name)
    ticket = guard.throttle.admit(name, client_address(web, request), device)
    if isinstance(ticket, Refused):  # refused before any hash is computed
        page = login_page(web, request, _wait_text(web, request, ticket.retry_after), 429, next_path)
        page.headers["Retry-After"] = str(ticket.retry_after)
        return page
    try:
        async with guard.hashes:
            user = await run_in_threadpool(_check, web, name, password)
    except TimeoutError:
        ticket.cancel()
        page = login_page(web, request, BUSY, 503, next_path)
        page.headers["Retry-After"] = "5"
        return page
    except BaseException:
        ticket.cancel()
        raise
    if user is None:
        ticket.failed()
        return login_page(web, request, "Wrong name or password.", 401, next_path)
    ticket.succeeded()
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    assert user.password_hash is not None
    request.session.update({"user": user.name, "pw": password_mark(user.password_hash), "csrf": new_csrf_token()})
    response = RedirectResponse(local_target(next_path), status_code=303)
    remembered = guard.known.remember(request.cookies.get(DEVICE_COOKIE), user.name, secrets.token_urlsafe(12))
    response.set_cookie(DEVICE_COOKIE, remembered, max_age=int(DEVICE_MAX_AGE.total_seconds()), path="/login",
                        httponly=True, samesite="strict", secure=web.config.secure_cookies)
    return response
