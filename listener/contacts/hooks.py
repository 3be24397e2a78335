"""What other parts can hook into: a mention joining an open task as a follow-up.

    from listener.contacts.hooks import FollowUp, on_follow_up

    @on_follow_up
    def comment_on_ticket(session: Session, follow_up: FollowUp) -> None:
        ...  # e.g. write an outbox row that adds the mention to the task's helpdesk ticket

A hook runs inside the transaction that stores the mention's score and the follow-up (or an agent's merge), after
both are written: what it adds commits with them or not at all, and an exception rolls the whole batch back, so a
hook must not fail on bad data — it should write an outbox row and let delivery deal with the outside world.
Hooks are registered at import time of the module that defines them; register them from a module the running
process imports (a channel module is imported whenever a config names its kind).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from listener.store.models import MentionRow, TaskRow


@dataclass(frozen=True)
class FollowUp:
    task: TaskRow  # the open task the mention joined
    mention: MentionRow  # the new mention
    contact_id: int | None  # the (live) contact of the task (None: its mention names nobody)
    via: str  # "join" (a new mention, listener/acting/joining.py) | "merge" (an agent merged tasks)
    at: datetime
    priority_raised_from: str | None = None  # the task's priority before this follow-up raised it
    merged_from_task_id: int | None = None  # via merge: the task the mention came from


FollowUpHook = Callable[[Session, FollowUp], None]
_follow_up_hooks: list[FollowUpHook] = []


def on_follow_up(hook: FollowUpHook) -> FollowUpHook:
    """Register `hook(session, follow_up)` (usable as a decorator); registering the same function twice is a no-op."""
    if hook not in _follow_up_hooks:
        _follow_up_hooks.append(hook)
    return hook


def remove_follow_up_hook(hook: FollowUpHook) -> None:
    if hook in _follow_up_hooks:
        _follow_up_hooks.remove(hook)


def run_follow_up_hooks(session: Session, follow_up: FollowUp) -> None:
    for hook in list(_follow_up_hooks):
        hook(session, follow_up)
