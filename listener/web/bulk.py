"""Several tasks at once from the queue: acknowledge, assign, resolve or dismiss the ticked ones.

Each ticked box carries the task's version as the list showed it (listener/web/versions.py): a task someone else
changed since is skipped, and so is one the action does not fit (acknowledging a resolved task); the page then
says which and why. The rest are done in one transaction, each in a savepoint of its own.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from listener.acting.activity import assign, perform
from listener.acting.tasks import TaskError
from listener.store.models import UserRow
from listener.web.app import Web, formatter, page
from listener.web.params import BadParam, choice, ident, text
from listener.web.queue import PAGE_SIZE
from listener.web.signin import local_target
from listener.web.users import can_act, get_user
from listener.web.versions import changes_by_others, describe

BULK = ("ack", "resolve", "dismiss", "assign")
DONE = {"ack": "{n} tasks acknowledged.", "resolve": "{n} tasks resolved.", "dismiss": "{n} tasks dismissed.",
        "assign": "{n} tasks assigned."}


def picks(form: FormData) -> list[tuple[int, int | None]]:
    """(task id, version seen) of each ticked box ("12:40"; a box without a version is not checked for changes)."""
    out = []
    for raw in form.getlist("task")[:PAGE_SIZE]:
        task, _, version = text(raw, 40).partition(":")
        task_id = ident(task)
        if task_id is None:
            raise BadParam(400, "task: expected task numbers.")
        out.append((task_id, ident(version) if version not in ("", "0") else (0 if version == "0" else None)))
    return out


def _assignee(session: Session, form: FormData, user: UserRow) -> str | None:
    name = text(form.get("assignee"), 200)
    name = user.name if name == "me" else name
    if not name:
        return None
    target = get_user(session, name)
    if target is None or target.disabled or not can_act(target.role):
        raise TaskError(f"{name} cannot take tasks")
    return name


@page(can_act)
def bulk_action(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    assert form is not None
    action = choice(text(form.get("action"), 20), "action", BULK, "")
    back = local_target(text(form.get("next"), 2000) or "/queue")
    chosen = picks(form)
    fmt = formatter(web, request, user)
    if not action or not chosen:
        request.session["flash"] = fmt.gettext("Tick at least one task, then choose what to do with them.")
        return RedirectResponse(back, status_code=303)
    done, skipped = 0, []
    now = web.clock.now()
    try:
        with web.store.write() as session:
            assignee = _assignee(session, form, user) if action == "assign" else None
            for task_id, version in chosen:
                changes = changes_by_others(session, task_id, version, user.name) if version is not None else []
                if changes:
                    skipped.append(f"#{task_id}: {describe(changes, fmt)}")
                    continue
                try:
                    with session.begin_nested():
                        if action == "assign":
                            assign(session, task_id, assignee, user.name, now)
                        else:
                            perform(session, task_id, action, user.name, now)
                    done += 1
                except TaskError as exc:
                    skipped.append(f"#{task_id}: {fmt.gettext(str(exc))}")
    except TaskError as exc:  # nobody to assign to
        request.session["flash"] = fmt.gettext(str(exc))
        return RedirectResponse(back, status_code=303)
    message = fmt.gettext(DONE[action]).format(n=done)
    if skipped:
        message += " " + fmt.gettext("Not changed: {tasks}.").format(tasks="; ".join(skipped))
    request.session["flash"] = message[:2000]
    return RedirectResponse(back, status_code=303)


def bulk_routes() -> list[BaseRoute]:
    return [Route("/queue/bulk", bulk_action, methods=["POST"])]
