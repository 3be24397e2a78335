"""The task page as rendered: the mention, its context and log (taskview.py), the actions, and the reply section —
composer, preview, and the task's replies with their state (listener/replies)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES
from listener.replies.compose import check_length, fill, placeholders, reply_channel
from listener.replies.service import EDITABLE, approval_needed, task_replies
from listener.store.models import ReplyTemplate, TaskRow, UserRow
from listener.surveys.inbox import task_survey
from listener.surveys.links import survey_link
from listener.web.app import Web, render
from listener.web.params import BadParam, ident
from listener.web.taskview import business_time_left, task_view, time_left
from listener.web.versions import task_version


def can_approve(role: str) -> bool:
    """Leads approve (or send back) replies that wait for approval."""
    return role == "lead"


@dataclass
class Composer:
    """What the composer form shows: the text so far, the one-time key that makes a double submit one reply,
    and whether to show the preview."""

    text: str = ""
    key: str = ""
    preview: bool = False


def composer_context(web: Web, session: Session, request: Request, user: UserRow, task: TaskRow,
                     composer: Composer | None) -> dict[str, Any]:
    mention = task.mention
    channel = reply_channel(web.settings, mention)
    composer = composer or Composer()
    if not composer.key:
        composer.key = uuid.uuid4().hex
    chosen = ident(request.query_params.get("template"))
    if not composer.text and chosen is not None:  # "use this template" works without JavaScript
        template = session.get(ReplyTemplate, chosen)
        if template is not None:
            survey_url = survey_link(web.settings, task, web.clock)
            composer.text = fill(template.body, placeholders(mention, survey_url=survey_url))
    return {"channel": channel, "composer": composer,
            "task_replies": task_replies(session, [task.id]).get(task.id, []),
            "needs_approval": approval_needed(web.settings, user.role), "can_approve": can_approve(user.role),
            "editable": EDITABLE,
            "length_problem": check_length(composer.text, channel) if composer.text else None}


def show_task(web: Web, request: Request, user: UserRow, task_id: int, error: str | None = None,
              status: int = 200, composer: Composer | None = None) -> Response:
    with web.store.read() as session:
        view = task_view(session, task_id)
        if view is None:
            raise BadParam(404, "There is no task #{id}.", id=task_id)
        values = placeholders(view.mention, survey_url=survey_link(web.settings, view.task, web.clock))
        replies = [(t, fill(t.body, values)) for t in view.templates]
        return render(web, request, user, "task.html", status=status, version=task_version(session, task_id),
                      v=view, t=view.task, m=view.mention,
                      s=view.mention.score, label=view.mention.label, replies=replies, error=error,
                      left=time_left(view.task, web.clock.now()), sentiments=SENTIMENTS, categories=CATEGORIES,
                      business_left=business_time_left(view.task, web.settings.rule, web.clock.now()),
                      history_replies=task_replies(session, [c.task.id for c in view.history if c.task]),
                      survey=task_survey(session, web.settings, view.task),
                      **composer_context(web, session, request, user, view.task, composer))
