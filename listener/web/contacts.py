"""The task page's contact: who this is on every platform, suggested links, the task's follow-ups and merges, and
the agent's actions on them (link, undo a link, merge this task into another), all POSTs through the task page's
action form (listener/web/routes.py: task_action), logged in the task's activity."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from listener.acting.joining import open_tasks_of
from listener.acting.merging import merge_tasks, merged_from, merged_into
from listener.acting.tasks import OPEN_STATES, TaskError
from listener.contacts.linking import ContactError, link, links_of, unlink
from listener.contacts.lookup import ContactCard, contact_for_task
from listener.contacts.models import ContactLink, TaskFollowUp
from listener.contacts.suggestions import Suggestion, suggestions
from listener.store.models import MentionRow, TaskRow
from listener.web.params import ident, text

CONTACT_ACTIONS = ("link", "unlink", "merge")


@dataclass
class FollowUpView:
    mention: MentionRow
    joined_at: datetime
    via: str
    merged_from: int | None


@dataclass
class ContactPanel:
    contact: ContactCard | None
    suggestions: list[Suggestion] = field(default_factory=list)
    links: list[ContactLink] = field(default_factory=list)  # links that made this contact, still in force
    follow_ups: list[FollowUpView] = field(default_factory=list)
    merged_into: int | None = None
    merged_from: list[int] = field(default_factory=list)
    other_open_tasks: list[TaskRow] = field(default_factory=list)  # the contact's, to merge this one into


def contact_panel(session: Session, task: TaskRow) -> ContactPanel:
    contact = contact_for_task(session, task.id)
    follow_ups = [FollowUpView(mention, f.joined_at, f.via, f.merged_from_task_id) for f, mention in session.execute(
        select(TaskFollowUp, MentionRow).join(MentionRow, MentionRow.id == TaskFollowUp.mention_id)
        .where(TaskFollowUp.task_id == task.id).order_by(TaskFollowUp.joined_at, TaskFollowUp.id)).all()]
    panel = ContactPanel(contact, follow_ups=follow_ups, merged_into=merged_into(session, task.id),
                         merged_from=merged_from(session, task.id))
    if contact is not None:
        panel.suggestions = suggestions(session, contact.id)
        panel.links = [row for row in links_of(session, contact.id, include_undone=False) if row.kept_id == contact.id]
        if task.status in OPEN_STATES:
            panel.other_open_tasks = [t for t, _last in open_tasks_of(session, contact.id, OPEN_STATES)
                                      if t.id != task.id]
    return panel


def _number(form: FormData, name: str, what: str) -> int:
    value = str(form.get(name, "")).strip().lstrip("#")
    number = ident(value)  # ASCII digits that fit an id: "²" or a 20-digit number is no task
    if number is None:
        raise ContactError(f"give the number of the {what}")
    return number


def contact_action(session: Session, task_id: int, action: str, form: FormData, actor: str, now: datetime) -> None:
    """Do one of CONTACT_ACTIONS for the task page of `task_id` (ContactError/TaskError say what is wrong)."""
    if action == "merge":
        merge_tasks(session, task_id, _number(form, "into", "task to merge into"), actor, now)
        return
    contact = contact_for_task(session, task_id)
    if contact is None:
        if session.get(TaskRow, task_id) is None:
            raise TaskError(f"no task #{task_id}")
        raise ContactError("this task's mention names nobody, so it has no contact to link")
    if action == "link":
        link(session, contact.id, _number(form, "contact", "contact to link"), actor, now,
             text(form.get("reason"), 1000) or None, task_id=task_id)
    elif action == "unlink":
        row = session.get(ContactLink, _number(form, "link", "link to undo"))
        if row is None or row.kept_id != contact.id:
            raise ContactError("that link is not one of this contact's")
        unlink(session, row.id, actor, now, task_id=task_id)
