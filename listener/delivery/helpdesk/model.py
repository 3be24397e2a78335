"""The hand-off in plain data: who asks (Requester), what a new ticket says (Opening), what is added later (Post),
what the helpdesk says back (TicketState), and the errors a helpdesk call raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Requester:
    """The customer as the helpdesk knows them: a stable external id, never an invented e-mail address."""

    external_id: str  # e.g. "listener-contact:reddit:kundin_77"
    name: str
    profile_url: str | None
    platform: str  # the source kind the customer wrote on
    handle: str | None  # their name there, when the platform gives one


@dataclass(frozen=True)
class Text:
    """One piece of ticket text in the markups helpdesks take; untrusted parts are escaped for each."""

    plain: str
    html: str
    markdown: str


@dataclass(frozen=True)
class Opening:
    """Everything a new ticket says. `external_id` is how we find our own ticket again after a crash."""

    external_id: str  # e.g. "listener-task-12"
    subject: str
    priority: str  # the task's P1 | P2 | P3
    tags: list[str]
    requester: Requester
    text: Text


@dataclass(frozen=True)
class Post:
    """A comment added to an open ticket: an escalation, a later alert, or the customer's next post."""

    key: str  # the outbox row's idempotency key; its marker in the text finds an earlier post after a crash
    text: Text
    from_customer: bool = False  # the customer's own words (Chatwoot: an incoming message); else an internal note


@dataclass(frozen=True)
class Ticket:
    id: str
    url: str | None = None  # where an agent opens it
    requester_ref: str | None = None  # the helpdesk's id of the requester (Chatwoot needs it to find conversations)


@dataclass(frozen=True)
class TicketState:
    """What the helpdesk says about one ticket now."""

    ticket_id: str
    status: str  # the helpdesk's own word ("solved", "4", "closed", "resolved" …)
    closed: bool  # solved or closed: the task is resolved
    responded_at: datetime | None = None  # the first public answer of an agent, if any
    closed_at: datetime | None = None
    gone: bool = False  # deleted in the helpdesk: nothing more to read back


@dataclass(frozen=True)
class HookCall:
    """A verified webhook request: which delivery it was (remembered against replays) and which tickets it is
    about. Their state is then read from the API, so a request can only make listener look, never tell it what
    happened."""

    delivery_id: str | None
    ticket_ids: list[str] = field(default_factory=list)


class HelpdeskError(Exception):
    """A helpdesk call failed; the outbox retries it with backoff (never sooner than `retry_after`)."""

    def __init__(self, message: str, retry_after: timedelta | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class TicketGone(HelpdeskError):
    """The ticket no longer exists in the helpdesk (HTTP 404 on it)."""


class BadWebhook(Exception):
    """A webhook request that is not the helpdesk's: no or a wrong signature or token, or too old."""


class ReplayedWebhook(Exception):
    """A webhook delivery that was already handled."""
