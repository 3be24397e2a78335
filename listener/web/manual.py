"""A task by hand from the Mentions page: for a post the model let through (scored neutral, or older than a
rule's max_age), with the priority the agent chooses and the deadline of a chosen rule. Its rule is "manual";
no alert goes out (the agent who made it knows), and the creation is the first entry of its activity log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from listener.acting.activity import record
from listener.store.models import MentionRow, TaskRow, UserRow
from listener.web.app import Web, page, refuse
from listener.web.params import BadParam, choice, path_id, text
from listener.web.users import can_act

MANUAL = "manual"
DEFAULT_FIRST_RESPONSE = timedelta(minutes=15)  # when no rule is chosen (or none is configured)


@page(can_act)
def create_task(web: Web, request: Request, user: UserRow, form: FormData | None) -> Response:
    assert form is not None
    mention_id = path_id(request, "mention_id", "There is no mention #{id}.")
    priority = choice(text(form.get("priority"), 5), "priority", ("P1", "P2", "P3"), "P2")
    rule_name = text(form.get("deadline_rule"), 200)
    rule = next((r for r in web.settings.rule if r.name == rule_name), None)
    if rule_name and rule is None:
        raise BadParam(400, "deadline_rule: no rule named {name}.", name=rule_name)
    now = web.clock.now()
    due = rule.task.deadline(now) if rule else now + DEFAULT_FIRST_RESPONSE
    reasons = [f"created by {user.name} from the Mentions page"] + ([f"deadline from rule {rule.name}"] if rule else [])
    with web.store.write() as session:
        if session.get(MentionRow, mention_id) is None:
            raise BadParam(404, "There is no mention #{id}.", id=mention_id)
        existing = session.scalar(select(TaskRow.id).where(TaskRow.mention_id == mention_id))
        if existing is not None:
            return refuse(web, request, user, 409, f"mention #{mention_id} has task #{existing} already")
        task = TaskRow(mention_id=mention_id, rule=MANUAL, status="open", priority=priority, reasons=reasons,
                       created_at=now, due_at=due, assignee=user.name)
        session.add(task)
        session.flush()
        record(session, task.id, user.name, "create", f"{priority}, {rule.name if rule else MANUAL}", now)
        task_id = task.id
    return RedirectResponse(f"/tasks/{task_id}", status_code=303)


def manual_routes() -> list[BaseRoute]:
    return [Route("/mentions/{mention_id:int}/task", create_task, methods=["POST"])]
