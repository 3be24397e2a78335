"""Refusing an action sent from a page that no longer shows the task as it is (listener/web/versions.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request

from listener.acting.tasks import TaskError
from listener.store.models import UserRow
from listener.web.app import Web, formatter
from listener.web.params import whole
from listener.web.versions import changes_by_others, stale_message

ALWAYS_FINE = ("note",)  # a note adds to the log and changes nothing another agent did


def refuse_if_stale(web: Web, request: Request, user: UserRow, session: Session, task_id: int, form: FormData,
                    action: str) -> None:
    """TaskError saying what changed when someone else acted on the task after the page's `version` (a form
    without one, e.g. from a script, is not checked)."""
    raw = form.get("version")
    if action in ALWAYS_FINE or not isinstance(raw, str) or not raw.strip():
        return
    seen = whole(raw, "version", 0, 0, 2**31 - 1)
    changes = changes_by_others(session, task_id, seen, user.name)
    if changes:
        raise TaskError(stale_message(changes, formatter(web, request, user)))
