"""What an open task page asks in the background: has someone else acted on this task since I loaded it?"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from listener.store.models import UserRow
from listener.web.app import Web, formatter, page, render
from listener.web.params import MAX_ID, path_id, whole
from listener.web.versions import changes_by_others, describe


@page()
def task_changes(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    """204 when nothing changed; else a notice naming who did what (app.js shows it above the task)."""
    task_id = path_id(request, "task_id", "There is no task #{id}.")
    since = whole(request.query_params.get("since"), "since", 0, 0, MAX_ID)
    with web.store.read() as session:
        changes = changes_by_others(session, task_id, since, user.name)
    if not changes:
        return Response(status_code=204)
    return render(web, request, user, "_changes.html", task_id=task_id,
                  changes=describe(changes, formatter(web, request, user)))


def live_routes() -> list[BaseRoute]:
    return [Route("/tasks/{task_id:int}/changes", task_changes)]
