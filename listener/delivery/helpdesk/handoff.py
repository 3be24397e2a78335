"""A helpdesk as a channel: the first alert of a task opens its one ticket, every later alert of the task (an
escalation, the customer's next post) is added to that ticket.

The outbox gives the usual guarantees (claim, retries with backoff, parked, never dropped). On top, nothing is
done twice when a deliverer dies between the helpdesk's answer and our commit:

- opening: a hand-off row (state "opening", claimed by this process) is committed *before* the helpdesk is
  called; an attempt that finds such a row left behind first asks the helpdesk for our ticket by its external id,
  and only opens one when there is none;
- posting: a post row ("pending") is committed before the call and marked "posted" after; an attempt that finds
  it pending first looks in the ticket for the post's marker line.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from listener.acting.activity import record
from listener.clock import Clock
from listener.delivery.channels.base import AlertMessage, DeliveryError, Notice
from listener.delivery.claims import claimant, is_gone
from listener.delivery.helpdesk import content
from listener.delivery.helpdesk.chatwoot import Chatwoot
from listener.delivery.helpdesk.driver import Driver
from listener.delivery.helpdesk.followups import followup_key, joined_mentions
from listener.delivery.helpdesk.freshdesk import Freshdesk
from listener.delivery.helpdesk.http import Api
from listener.delivery.helpdesk.model import HelpdeskError, Opening, Post, Ticket
from listener.delivery.helpdesk.requester import requester_for_mention, requester_for_task
from listener.delivery.helpdesk.settings import AnyHelpdeskSettings
from listener.delivery.helpdesk.zammad import Zammad
from listener.delivery.helpdesk.zendesk import Zendesk
from listener.store.engine import Store
from listener.store.models import AlertRow, HandoffPostRow, HandoffRow, MentionRow, TaskRow

log = logging.getLogger(__name__)
DRIVERS: dict[str, type[Driver]] = {d.kind: d for d in (Zendesk, Freshdesk, Zammad, Chatwoot)}
OPENING_CLAIM = timedelta(minutes=5)  # a deliverer that died while opening a ticket is taken over after this
UNEXPECTED = (KeyError, TypeError, ValueError)  # from an answer that lacks a documented field


class HandoffError(DeliveryError):
    """A hand-off attempt failed; the outbox retries it, never sooner than the helpdesk asked (Retry-After)."""

    def __init__(self, message: str, retry_after: timedelta | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class HelpdeskChannel:
    def __init__(self, settings: AnyHelpdeskSettings, store: Store, clock: Clock, driver: Driver | None = None):
        self.settings, self.store, self.clock = settings, store, clock
        self.name = settings.name
        self.driver = driver or DRIVERS[settings.kind](settings, clock)

    @property
    def label(self) -> str:
        return self.driver.label

    def send(self, message: AlertMessage | Notice) -> None:
        if not isinstance(message, AlertMessage) or message.task_id is None:
            raise DeliveryError(f"helpdesk channel {self.name} takes task alerts only (one ticket per task)")
        try:
            self.hand_off(message)
        except HelpdeskError as exc:
            raise HandoffError(f"{self.label} {self.name}: {exc}", exc.retry_after) from exc
        except UNEXPECTED as exc:  # an answer not shaped as documented: retried and parked, never a crash
            raise HandoffError(f"{self.label} {self.name}: unexpected answer ({type(exc).__name__}: {exc})") from exc

    # ------------------------------------------------------------------------- the hand-off
    def hand_off(self, message: AlertMessage) -> Ticket:
        """Open the task's ticket if it has none, then add what this alert says to it."""
        assert message.task_id is not None
        prefix = self.settings.external_id_prefix
        key = content.ticket_key(prefix, message.task_id)
        with self.store.read() as session:
            alert = session.scalar(select(AlertRow).where(AlertRow.idempotency_key == message.idempotency_key))
            task = session.get_one(TaskRow, message.task_id)
            requester = requester_for_task(session, task, prefix)
            tags = content.ticket_tags(message.categories, self.settings.tags)
            opening = content.opening(key, message, requester, task.priority, tags)
            posts = [self._followup(m, message.task_id, prefix) for m in joined_mentions(session, task.id)]
            if alert is not None and alert.kind == "followup" and alert.mention_id is not None:
                posts.append(self._followup(session.get_one(MentionRow, alert.mention_id), task.id, prefix))
            elif alert is not None and alert.kind != "task":  # an escalation (or any later alert of the task)
                posts.append(content.escalation(message.idempotency_key, message))
        handoff_id, ticket = self._ensure_ticket(message.task_id, opening)
        if self.driver.opening_is_post:
            self._post_once(handoff_id, ticket, Post(key=f"{key}:opening", text=opening.text, from_customer=True))
        self._post_once(handoff_id, ticket, content.context(key, message))
        for post in dict((p.key, p) for p in posts).values():  # the customer's later posts, then this alert's
            self._post_once(handoff_id, ticket, post)
        return ticket

    def _followup(self, mention: MentionRow, task_id: int, prefix: str) -> Post:
        return content.followup(followup_key(task_id, mention.id, self.name), mention.text, mention.title,
                                mention.url, requester_for_mention(mention, prefix), mention.source.name,
                                mention.published_at)

    def _ensure_ticket(self, task_id: int, opening: Opening) -> tuple[int, Ticket]:
        now = self.clock.now()
        recover = False
        try:
            with self.store.write() as session:
                row = session.scalar(select(HandoffRow).where(HandoffRow.task_id == task_id,
                                                              HandoffRow.channel == self.name))
                if row is not None and row.ticket_id is not None:
                    return row.id, Ticket(row.ticket_id, row.ticket_url, row.requester_ref)
                if row is None:
                    row = HandoffRow(task_id=task_id, channel=self.name, external_id=opening.external_id,
                                     state="opening", created_at=now)
                    session.add(row)
                else:  # an earlier attempt did not get to store the ticket: it may have opened it
                    if row.claimed_until and row.claimed_until > now and not is_gone(row.claimed_by or ""):
                        raise HelpdeskError(f"task #{task_id}'s ticket is being opened by {row.claimed_by}")
                    recover = True
                row.claimed_until, row.claimed_by = now + OPENING_CLAIM, claimant()
                session.flush()
                handoff_id = row.id
        except IntegrityError:  # another deliverer inserted the row first
            raise HelpdeskError(f"task #{task_id}'s ticket is being opened by another deliverer") from None
        try:
            with self.driver.api() as api:
                ticket = self.driver.find_ticket(api, opening) if recover else None
                if ticket is None:
                    ticket = self.driver.create_ticket(api, opening)
                    log.info("event=helpdesk_ticket_opened channel=%s task=%d ticket=%s", self.name, task_id,
                             ticket.id)
                else:
                    log.warning("event=helpdesk_ticket_recovered channel=%s task=%d ticket=%s", self.name, task_id,
                                ticket.id)
                self.driver.finish_opening(api, ticket, opening)
        except (HelpdeskError, *UNEXPECTED) as exc:
            self._release(handoff_id, str(exc))
            raise
        self._opened(handoff_id, task_id, ticket)
        return handoff_id, ticket

    def _release(self, handoff_id: int, error: str) -> None:
        """The attempt failed before storing a ticket: the next one may start at once (and looks first)."""
        with self.store.write() as session:
            row = session.get_one(HandoffRow, handoff_id)
            row.claimed_until, row.claimed_by, row.last_error = None, None, error[:2000]

    def _opened(self, handoff_id: int, task_id: int, ticket: Ticket) -> None:
        now = self.clock.now()
        with self.store.write() as session:
            row = session.get_one(HandoffRow, handoff_id)
            row.ticket_id, row.ticket_url, row.requester_ref = ticket.id, ticket.url, ticket.requester_ref
            row.state, row.checked_at = "open", now
            row.claimed_until, row.claimed_by, row.last_error = None, None, None
            record(session, task_id, self.name, "handoff", f"{self.label} ticket {ticket.id}"
                   + (f" {ticket.url}" if ticket.url else ""), now)

    def _post_once(self, handoff_id: int, ticket: Ticket, post: Post) -> None:
        now = self.clock.now()
        with self.store.write() as session:
            row = session.get(HandoffPostRow, (handoff_id, post.key))
            if row is not None and row.state == "posted":
                return
            check_first = row is not None  # an earlier attempt called the helpdesk and may have posted it
            if row is None:
                session.add(HandoffPostRow(handoff_id=handoff_id, key=post.key, state="pending", created_at=now))
        with self.driver.api() as api:
            if check_first and self.driver.has_post(api, ticket, post.key):
                remote = "found"
                log.warning("event=helpdesk_post_recovered channel=%s ticket=%s key=%s", self.name, ticket.id,
                            post.key)
            else:
                remote = self.driver.add_post(api, ticket, post)
        with self.store.write() as session:
            row = session.get_one(HandoffPostRow, (handoff_id, post.key))
            row.state, row.remote_id, row.posted_at = "posted", remote[:100] or None, self.clock.now()

    # ------------------------------------------------------------------------- for `listener doctor`
    def check(self) -> str:
        with self.driver.api() as api:
            return self.driver.check(api)

    def api(self) -> Api:
        return self.driver.api()

