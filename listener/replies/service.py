"""What the care team does with a reply, one code path for the care inbox and the CLI: write it, approve it or
send it back, edit and resend it, settle a reply whose outcome is unknown. Each step writes its activity-log row
in the same transaction; the reply outbox (outbox.py) posts what is queued.

Statuses: draft → pending_approval (when the author's role needs approval) → queued → sending → posted;
returned (a lead sent it back with a note), failed (the platform refused it, or it kept failing), and
outcome_unknown (a crash or a lost answer on a platform where we cannot look for our own post).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.activity import record
from listener.acting.tasks import OPEN_STATES, TaskError, transition
from listener.config import Settings
from listener.replies.compose import check_length, reply_channel
from listener.store.models import ReplyRow, TaskRow

TEXT_LIMIT = 40_000
FORM_KEY = re.compile(r"[0-9a-f]{32}")  # the composer's one-time key (uuid4 hex)
EDITABLE = ("draft", "returned", "failed")  # the author (or any agent) may change and resend these


class ReplyActionError(TaskError):
    """A reply step that cannot be done (wrong state, too long, no write API …), said plainly."""


def new_key() -> str:
    return f"reply-{uuid.uuid4().hex}"


def approval_needed(settings: Settings, role: str) -> bool:
    return settings.web is not None and role in settings.web.reply_approval


def _reply(session: Session, reply_id: int) -> ReplyRow:
    reply = session.get(ReplyRow, reply_id)
    if reply is None:
        raise ReplyActionError(f"no reply #{reply_id}")
    return reply


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ReplyActionError("the reply is empty")
    if len(text) > TEXT_LIMIT:
        raise ReplyActionError(f"the reply is longer than {TEXT_LIMIT} characters")
    return text


def _check(settings: Settings, task: TaskRow, text: str) -> None:
    channel = reply_channel(settings, task.mention)
    if not channel.ok:
        raise ReplyActionError(channel.reason or "this mention cannot be answered from here")
    if problem := check_length(text, channel):
        raise ReplyActionError(problem)


def _released_status(settings: Settings, role: str) -> str:
    return "pending_approval" if approval_needed(settings, role) else "queued"


def submit(session: Session, settings: Settings, task_id: int, text: str, author: str, role: str, now: datetime,
           key: str | None = None, draft: bool = False) -> ReplyRow:
    """A new reply to the task's mention: queued for the outbox, waiting for approval, or kept as a draft.
    `key` (the composer form's one-time key) makes a double-submitted form one reply, not two."""
    task = session.get(TaskRow, task_id)
    if task is None:
        raise ReplyActionError(f"no task #{task_id}")
    if task.status not in OPEN_STATES:
        raise ReplyActionError(f"task #{task_id} is {task.status}; reopen work on it before replying")
    text = _clean(text)
    _check(settings, task, text)
    key = f"reply-{key}" if key and FORM_KEY.fullmatch(key) else new_key()
    existing = session.scalar(select(ReplyRow).where(ReplyRow.idempotency_key == key))
    if existing is not None and existing.task_id == task.id and existing.author == author:
        return existing  # the same form sent twice
    if existing is not None:
        key = new_key()
    status = "draft" if draft else _released_status(settings, role)
    reply = ReplyRow(task_id=task.id, mention_id=task.mention_id, source_name=task.mention.source.name,
                     source_kind=task.mention.source_kind, text=text, status=status, idempotency_key=key,
                     attempts=0, next_attempt_at=now if status == "queued" else None, in_doubt=False, author=author,
                     created_at=now, updated_at=now)
    session.add(reply)
    session.flush()
    record(session, task.id, author, "reply_" + status, _detail(reply), now)
    return reply


def _detail(reply: ReplyRow, extra: str | None = None) -> str:
    lines = [f"reply #{reply.id} via {reply.source_name}:", reply.text]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def approve(session: Session, settings: Settings, reply_id: int, lead: str, now: datetime,
            text: str | None = None) -> ReplyRow:
    """A lead lets a waiting reply go out, optionally edited first. Nobody approves their own reply."""
    reply = _reply(session, reply_id)
    if reply.status != "pending_approval":
        raise ReplyActionError(f"reply #{reply_id} is {reply.status}, not waiting for approval")
    if reply.author == lead:
        raise ReplyActionError("a reply is approved by someone other than its author")
    if text is not None and _clean(text) != reply.text:
        reply.text = _clean(text)
        _check(settings, reply.task, reply.text)
        reply.idempotency_key = new_key()
    reply.status, reply.approver, reply.next_attempt_at, reply.updated_at = "queued", lead, now, now
    record(session, reply.task_id, lead, "reply_approved", _detail(reply), now)
    return reply


def send_back(session: Session, reply_id: int, lead: str, note: str, now: datetime) -> ReplyRow:
    reply = _reply(session, reply_id)
    if reply.status != "pending_approval":
        raise ReplyActionError(f"reply #{reply_id} is {reply.status}, not waiting for approval")
    note = note.strip()[:2000]
    if not note:
        raise ReplyActionError("say what should change (the note is empty)")
    reply.status, reply.review_note, reply.approver, reply.updated_at = "returned", note, lead, now
    record(session, reply.task_id, lead, "reply_returned", f"reply #{reply.id}: {note}", now)
    return reply


def resend(session: Session, settings: Settings, reply_id: int, text: str, actor: str, role: str,
           now: datetime) -> ReplyRow:
    """Edit a draft, a returned or a failed reply and send it (again): a new idempotency key, attempts from 0,
    and approval again where the actor's role needs it."""
    reply = _reply(session, reply_id)
    if reply.status not in EDITABLE:
        raise ReplyActionError(f"reply #{reply_id} is {reply.status}; only a draft, returned or failed reply "
                               "can be edited and sent")
    if reply.task.status not in OPEN_STATES:
        raise ReplyActionError(f"task #{reply.task_id} is {reply.task.status}")
    reply.text = _clean(text)
    _check(settings, reply.task, reply.text)
    reply.status = _released_status(settings, role)
    reply.idempotency_key, reply.attempts, reply.in_doubt = new_key(), 0, False
    reply.last_error, reply.review_note, reply.approver = None, None, None
    reply.next_attempt_at = now if reply.status == "queued" else None
    reply.updated_at = now
    record(session, reply.task_id, actor, "reply_" + reply.status, _detail(reply), now)
    return reply


def settle_unknown(session: Session, reply_id: int, actor: str, posted: bool, url: str | None,
                   now: datetime) -> ReplyRow:
    """A person has looked on the platform: the reply is there (posted, with its link if given), or it is not
    (failed, so it can be edited and sent again)."""
    reply = _reply(session, reply_id)
    if reply.status != "outcome_unknown":
        raise ReplyActionError(f"reply #{reply_id} is {reply.status}, not of unknown outcome")
    if posted:
        url = (url or "").strip() or None
        if url is not None and not url.lower().startswith(("https://", "http://")):
            raise ReplyActionError("the link to the reply must be an http(s) URL")
        mark_posted(session, reply, None, url, actor, now)
    else:
        reply.status, reply.in_doubt, reply.updated_at = "failed", False, now
        reply.last_error = f"not found on the platform ({actor} checked)"
        record(session, reply.task_id, actor, "reply_failed", f"reply #{reply.id}: {reply.last_error}", now)
    return reply


def mark_posted(session: Session, reply: ReplyRow, platform_id: str | None, url: str | None, actor: str,
                now: datetime) -> None:
    """The platform accepted the reply: the task is responded from this moment (the first-response figures use
    it), and the log says what was posted where, by whom."""
    reply.status, reply.platform_id, reply.url, reply.posted_at = "posted", platform_id, url, now
    reply.in_doubt, reply.last_error, reply.updated_at = False, None, now
    reply.claimed_until = reply.claimed_by = None
    task = reply.task
    if task.status in ("open", "acknowledged"):
        transition(session, task.id, "respond", now, _note(reply))
    record(session, task.id, reply.author, "replied", _detail(reply, url), now)


def _note(reply: ReplyRow) -> str:
    return (reply.url + "\n" if reply.url else "") + reply.text


def task_replies(session: Session, task_ids: Sequence[int]) -> dict[int, list[ReplyRow]]:
    if not task_ids:
        return {}
    found: dict[int, list[ReplyRow]] = {}
    for reply in session.scalars(select(ReplyRow).where(ReplyRow.task_id.in_(list(task_ids)))
                                 .order_by(ReplyRow.created_at, ReplyRow.id)):
        found.setdefault(reply.task_id, []).append(reply)
    return found
