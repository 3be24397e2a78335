"""The task page's reply composer and the reply actions: write (or start from a template), preview, send; a
lead's approval; edit and resend a failed or returned reply; settle one whose outcome is unknown. The work is
done by listener/replies/service.py, the same functions `listener tasks reply` calls."""

from __future__ import annotations

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from listener.replies.service import (
    ReplyActionError,
    approve,
    resend,
    send_back,
    settle_unknown,
    submit,
)
from listener.store.models import ReplyRow, UserRow
from listener.web.app import Web, page, refuse, render
from listener.web.params import path_id, text
from listener.web.taskpage import Composer, can_approve, show_task
from listener.web.users import can_act


def _show(web: Web, request: Request, user: UserRow, task_id: int, error: str | None = None, status: int = 200,
          composer: Composer | None = None) -> Response:
    return show_task(web, request, user, task_id, error=error, status=status, composer=composer)


@page(can_act)
def reply_submit(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    """POST from the composer: `do` = preview (shows the page again, nothing stored), draft or send."""
    assert form is not None
    task_id = path_id(request, "task_id", "There is no task #{id}.")
    composer = Composer(text=text(form.get("text"), 100_000).replace("\r\n", "\n"), key=text(form.get("key"), 64))
    do = str(form.get("do", "send"))
    if do == "preview":
        composer.preview = True
        return _show(web, request, user, task_id, composer=composer)
    if do not in ("send", "draft"):
        return refuse(web, request, user, 400, "Unknown action.")
    try:
        with web.store.write() as session:
            submit(session, web.settings, task_id, composer.text, user.name, user.role, web.clock.now(),
                   key=composer.key or None, draft=do == "draft")
    except ReplyActionError as exc:
        composer.preview = True
        return _show(web, request, user, task_id, error=str(exc), status=409, composer=composer)
    return RedirectResponse(f"/tasks/{task_id}#replies", status_code=303)


@page(can_act)
def reply_action(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    """POST on one reply: approve / return (leads), resend (edit a draft, returned or failed reply), posted /
    not_posted (a person checked a reply of unknown outcome on the platform)."""
    assert form is not None
    reply_id, action, now = path_id(request, "reply_id", "There is no reply #{id}."), text(form.get("action"), 20), \
        web.clock.now()
    with web.store.read() as session:
        reply = session.get(ReplyRow, reply_id)
        if reply is None:
            return refuse(web, request, user, 404, "There is no such reply.")
        task_id = reply.task_id
    new_text = text(form.get("text"), 100_000).replace("\r\n", "\n")
    try:
        with web.store.write() as session:
            if action in ("approve", "return"):
                if not can_approve(user.role):
                    return refuse(web, request, user, 403, "Your role may not do this.")
                if action == "approve":
                    approve(session, web.settings, reply_id, user.name, now, new_text if new_text.strip() else None)
                else:
                    send_back(session, reply_id, user.name, text(form.get("note"), 10_000), now)
            elif action == "resend":
                resend(session, web.settings, reply_id, new_text, user.name, user.role, now)
            elif action in ("posted", "not_posted"):
                settle_unknown(session, reply_id, user.name, action == "posted", text(form.get("url"), 2000), now)
            else:
                return refuse(web, request, user, 400, "Unknown action.")
    except ReplyActionError as exc:
        return _show(web, request, user, task_id, error=str(exc), status=409)
    return RedirectResponse(f"/tasks/{task_id}#replies", status_code=303)


ATTENTION = ("pending_approval", "failed", "outcome_unknown", "returned")


@page()
def replies_page(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    """Replies that need someone: waiting for a lead's approval, failed, of unknown outcome, sent back; and the
    last ones posted."""
    with web.store.read() as session:
        waiting = list(session.scalars(select(ReplyRow).where(ReplyRow.status.in_(ATTENTION))
                                       .order_by(ReplyRow.updated_at, ReplyRow.id).limit(200)))
        posted = list(session.scalars(select(ReplyRow).where(ReplyRow.status == "posted")
                                      .order_by(ReplyRow.posted_at.desc(), ReplyRow.id.desc()).limit(20)))
        return render(web, request, user, "replies.html", waiting=waiting, posted=posted)


def reply_routes() -> list[BaseRoute]:
    return [
        Route("/replies", replies_page),
        Route("/tasks/{task_id:int}/reply", reply_submit, methods=["POST"]),
        Route("/replies/{reply_id:int}/act", reply_action, methods=["POST"]),
    ]

