"""Sign-in, the queue, the task page and its actions, acknowledge links, preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from listener.acting.activity import add_note, assign, correct_verdict, perform
from listener.acting.tasks import TaskError
from listener.contacts.linking import ContactError
from listener.delivery.helpdesk.webhooks import hook_endpoint
from listener.labels import LabelError
from listener.store.models import UserRow
from listener.web.app import Web, page, refuse, render
from listener.web.contacts import CONTACT_ACTIONS, contact_action
from listener.web.i18n import LANGUAGES
from listener.web.pages import page_routes
from listener.web.params import BadParam, choice, ident, path_id, text, whole
from listener.web.queue import FACETS, SORTS, VIEWS, Shift
from listener.web.replies import reply_routes
from listener.web.security import InvalidAckLink
from listener.web.shift import shift_routes
from listener.web.signin import local_target, login
from listener.web.stale import refuse_if_stale
from listener.web.survey_page import survey_routes
from listener.web.taskpage import show_task
from listener.web.taskview import task_view
from listener.web.users import assignable_names, can_act, get_user

WORKFLOW = ("ack", "respond", "resolve", "dismiss", "reopen")
NO_TASK = "There is no task #{id}."


# ----------------------------------------------------------------------------- sign-out, preferences
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
    return {f: text(request.query_params[f], 200) for f in FACETS if request.query_params.get(f)}


def _queue_context(web: Web, request: Request, user: UserRow) -> dict[str, Any]:
    q = request.query_params
    page_no = whole(q.get("page"), "page", 0, 0, 100_000)
    filters = _filters(request)
    shift = Shift(choice(q.get("view"), "view", VIEWS, "all"), user.name, choice(q.get("sort"), "sort", SORTS, "due"),
                  text(q.get("q"), 200).strip())
    # view, sort and search travel with every facet and page link
    keep = {k: v for k, v in (("view", shift.view), ("sort", shift.sort), ("q", shift.search))
            if v and v not in ("all", "due")}
    with web.store.read() as session:
        queue = web.queues.get(session, web.clock.now(), filters, page_no, shift)
    return {"queue": queue, "filters": filters, "page_no": page_no, "now": web.clock.now(), "facets": FACETS,
            "shift": shift, "keep": keep, "views": VIEWS, "sorts": SORTS}


@page()
def queue_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    with web.store.read() as session:
        assignable = assignable_names(session)
    return render(web, request, user, "queue.html", flash=request.session.pop("flash", None),
                  assignable=assignable, skip_to="tasks", **_queue_context(web, request, user))


@page()
def queue_fragment(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    return render(web, request, user, "_queue.html", **_queue_context(web, request, user))


@page()
def home(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    return RedirectResponse("/queue", status_code=303)


# ----------------------------------------------------------------------------- task page and actions
def _task_id(request: Request) -> int:
    return path_id(request, "task_id", NO_TASK)


def _show_task(web: Web, request: Request, user: UserRow, task_id: int, error: str | None = None,
               status: int = 200) -> Response:
    return show_task(web, request, user, task_id, error=error, status=status)


@page()
def task_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    return _show_task(web, request, user, _task_id(request))


@page(can_act)
def task_action(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    assert form is not None
    task_id, action, now = _task_id(request), text(form.get("action"), 20), web.clock.now()
    try:
        with web.store.write() as session:
            refuse_if_stale(web, request, user, session, task_id, form, action)
            if action in WORKFLOW:
                perform(session, task_id, action, user.name, now, text(form.get("note"), 20_000))
            elif action == "assign":
                assignee = text(form.get("assignee"), 200)
                assignee = user.name if assignee == "me" else assignee
                if assignee and not _assignable(session, assignee):
                    raise TaskError(f"{assignee} cannot take tasks")
                assign(session, task_id, assignee or None, user.name, now)
            elif action == "note":
                add_note(session, task_id, text(form.get("note"), 20_000), user.name, now)
            elif action == "label":
                categories = [text(c, 50) for c in form.getlist("category")]
                correct_verdict(session, task_id, text(form.get("sentiment"), 20), categories, user.name, now)
            elif action in CONTACT_ACTIONS:  # link / unlink the contact, merge the task (listener/web/contacts.py)
                contact_action(session, task_id, action, form, user.name, now)
            else:
                return refuse(web, request, user, 400, "Unknown action.")
    except (TaskError, LabelError, ContactError) as exc:
        return _show_task(web, request, user, task_id, error=str(exc), status=409)
    back = text(form.get("next"), 2000)
    return RedirectResponse(local_target(back) if back else f"/tasks/{task_id}", status_code=303)


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
        if ident(str(task_id)) is None:
            raise InvalidAckLink(expired=False)
    except InvalidAckLink as exc:
        message = "This acknowledge link has expired." if exc.expired else "This acknowledge link is not valid."
        return refuse(web, request, user, 400, message)
    if request.method == "GET":
        with web.store.read() as session:
            view = task_view(session, task_id)
            if view is None:
                raise BadParam(404, NO_TASK, id=task_id)
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
        *shift_routes(),
    ]

