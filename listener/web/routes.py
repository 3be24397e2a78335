"""Sign-in, the queue, the task page and its actions, acknowledge links, preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from listener.acting.activity import add_note, assign, correct_verdict, perform
from listener.acting.tasks import TaskError
from listener.contacts.linking import ContactError
from listener.delivery.helpdesk.webhooks import hook_endpoint
from listener.labels import LabelError
from listener.store.models import UserRow
from listener.web.app import (
    Web,
    client_address,
    current_user,
    page,
    password_mark,
    refuse,
    render,
)
from listener.web.contacts import CONTACT_ACTIONS, contact_action
from listener.web.i18n import LANGUAGES
from listener.web.pages import page_routes
from listener.web.queue import FACETS
from listener.web.replies import reply_routes
from listener.web.security import InvalidAckLink, csrf_ok, new_csrf_token
from listener.web.survey_page import survey_routes
from listener.web.taskpage import show_task
from listener.web.taskview import task_view
from listener.web.users import authenticate, can_act, get_user

WORKFLOW = ("ack", "respond", "resolve", "dismiss")


def local_target(value: str | None) -> str:
    """Only paths on this site: `next=//evil.example` or `https://…` would make sign-in an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/queue"


# ----------------------------------------------------------------------------- sign-in
def _login_page(web: Web, request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    return render(web, request, None, "login.html", status=status, error=error,
                  next=local_target(request.query_params.get("next")))


def login_form(web: Web, request: Request) -> Response:
    if web.config.auth == "header":
        user = current_user(web, request)
        return user if isinstance(user, Response) else RedirectResponse("/queue", status_code=303)
    return _login_page(web, request)


def login_submit(web: Web, request: Request, form: FormData) -> Response:
    if web.config.auth == "header":
        return refuse(web, request, None, 404, "Sign-in happens at the proxy.")
    if not csrf_ok(request.session.get("csrf"), form.get("csrf")):
        return refuse(web, request, None, 403, "This form has expired. Reload the page and try again.")
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    address = client_address(web, request)
    if web.throttle.blocked(name, address):
        return _login_page(web, request, "Too many failed sign-ins. Try again later.", 429)
    with web.store.read() as session:
        user = authenticate(session, name, password)
    if user is None:
        web.throttle.failed(name, address)
        return _login_page(web, request, "Wrong name or password.", 401)
    web.throttle.succeeded(name)
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    assert user.password_hash is not None
    request.session.update({"user": user.name, "pw": password_mark(user.password_hash), "csrf": new_csrf_token()})
    return RedirectResponse(local_target(str(form.get("next", ""))), status_code=303)


async def login(request: Request) -> Response:
    web: Web = request.app.state.web
    if request.method == "POST":
        form = await request.form(max_files=0, max_fields=10)
        return await run_in_threadpool(login_submit, web, request, form)
    return await run_in_threadpool(login_form, web, request)


@page()
def logout(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@page()
def set_language(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    choice = str(form.get("language", "")) if form else ""
    with web.store.write() as session:
        row = get_user(session, user.name)
        assert row is not None
        row.locale = choice if choice in LANGUAGES else None
    return RedirectResponse(local_target(str(form.get("next", "")) if form else None), status_code=303)


# ----------------------------------------------------------------------------- queue
def _filters(request: Request) -> dict[str, str]:
    return {f: request.query_params[f] for f in FACETS if request.query_params.get(f)}


def _queue_context(web: Web, request: Request) -> dict[str, Any]:
    try:
        page_no = max(0, int(request.query_params.get("page", "0")))
    except ValueError:
        page_no = 0
    filters = _filters(request)
    with web.store.read() as session:
        queue = web.queues.get(session, web.clock.now(), filters, page_no)
    return {"queue": queue, "filters": filters, "page_no": page_no, "now": web.clock.now(), "facets": FACETS}


@page()
def queue_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    return render(web, request, user, "queue.html", **_queue_context(web, request))


@page()
def queue_fragment(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    return render(web, request, user, "_queue.html", **_queue_context(web, request))


@page()
def home(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    return RedirectResponse("/queue", status_code=303)


# ----------------------------------------------------------------------------- task page and actions
def _task_id(request: Request) -> int:
    return int(request.path_params["task_id"])


def _show_task(web: Web, request: Request, user: UserRow, task_id: int, error: str | None = None,
               status: int = 200) -> Response:
    return show_task(web, request, user, task_id, error=error, status=status)


@page()
def task_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    return _show_task(web, request, user, _task_id(request))


@page(can_act)
def task_action(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    assert form is not None
    task_id, action, now = _task_id(request), str(form.get("action", "")), web.clock.now()
    try:
        with web.store.write() as session:
            if action in WORKFLOW:
                perform(session, task_id, action, user.name, now, str(form.get("note", "")))
            elif action == "assign":
                assignee = str(form.get("assignee", ""))
                assignee = user.name if assignee == "me" else assignee
                if assignee and not _assignable(session, assignee):
                    raise TaskError(f"{assignee} cannot take tasks")
                assign(session, task_id, assignee or None, user.name, now)
            elif action == "note":
                add_note(session, task_id, str(form.get("note", "")), user.name, now)
            elif action == "label":
                categories = [str(c) for c in form.getlist("category")]
                correct_verdict(session, task_id, str(form.get("sentiment", "")), categories, user.name, now)
            elif action in CONTACT_ACTIONS:  # link / unlink the contact, merge the task (listener/web/contacts.py)
                contact_action(session, task_id, action, form, user.name, now)
            else:
                return refuse(web, request, user, 400, "Unknown action.")
    except (TaskError, LabelError, ContactError) as exc:
        return _show_task(web, request, user, task_id, error=str(exc), status=409)
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


def _assignable(session: Session, name: str) -> bool:
    user = get_user(session, name)
    return user is not None and not user.disabled and can_act(user.role)


# ----------------------------------------------------------------------------- acknowledge links from alerts
@page()
def ack_link(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    """GET shows a confirmation (link previews in mail scanners stop here); POST acknowledges."""
    token = str(request.path_params["token"])
    try:
        task_id = web.acks.task_id(token)
    except InvalidAckLink as exc:
        message = "This acknowledge link has expired." if exc.expired else "This acknowledge link is not valid."
        return refuse(web, request, user, 400, message)
    if request.method == "GET":
        with web.store.read() as session:
            view = task_view(session, task_id)
            if view is None:
                return refuse(web, request, user, 404, f"There is no task #{task_id}.")
            return render(web, request, user, "ack.html", t=view.task, m=view.mention, token=token)
    if not can_act(user.role):
        return refuse(web, request, user, 403, "Your role may not do this.")
    try:
        with web.store.write() as session:
            perform(session, task_id, "ack", user.name, web.clock.now(), None)
    except TaskError as exc:
        return _show_task(web, request, user, task_id, error=str(exc), status=409)
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/", home),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/prefs/language", set_language, methods=["POST"]),
        Route("/queue", queue_page),
        Route("/queue/fragment", queue_fragment),
        Route("/tasks/{task_id:int}", task_page),
        Route("/tasks/{task_id:int}/act", task_action, methods=["POST"]),
        Route("/ack/{token:str}", ack_link, methods=["GET", "POST"]),
        Route("/hooks/{channel:str}", hook_endpoint, methods=["POST"]),  # signed by the helpdesk, not CSRF
        *page_routes(),
        *reply_routes(),
        *survey_routes(),  # public: no sign-in (listener/web/survey_page.py)
    ]

