"""What every helpdesk module provides to the hand-off (listener/delivery/helpdesk/handoff.py) and the read-back
(status.py, webhooks.py): find or open a ticket, post to it, read tickets' state, verify a webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from listener.clock import Clock
from listener.delivery.helpdesk.http import Api
from listener.delivery.helpdesk.model import BadWebhook, HelpdeskError, HookCall, Opening, Post, Ticket, TicketState
from listener.delivery.helpdesk.settings import HelpdeskSettings
from listener.secrets import MissingSecret, get_secret


@dataclass(frozen=True)
class Watch:
    """A ticket whose state we want: an open hand-off."""

    ticket_id: str
    requester_ref: str | None = None
    responded: bool = False  # its first public answer is known already


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (with Z or an offset) or Unix seconds, as aware UTC; None for empty, 0 or junk."""
    if value in (None, "", 0):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None


def hmac_hex(key: str, message: bytes, digest: str) -> str:
    return hmac.new(key.encode(), message, getattr(hashlib, digest)).hexdigest()


def same(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.strip().encode())


def json_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise BadWebhook("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadWebhook("the body is not a JSON object")
    return payload


def fresh(sent_at: datetime | None, now: datetime, max_age: timedelta) -> None:
    """A signed timestamp outside the window (either way: clocks drift) is a replay or a forgery."""
    if sent_at is None:
        raise BadWebhook("no valid timestamp")
    if abs(now - sent_at) > max_age:
        raise BadWebhook(f"timestamp {sent_at:%Y-%m-%d %H:%M:%S} UTC is outside the {max_age} window")


def chunks(items: Sequence[Watch], size: int) -> list[list[Watch]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


class Driver(ABC):
    kind: ClassVar[str]
    label: ClassVar[str]  # how people write its name
    default_priorities: ClassVar[dict[str, str]]
    opening_is_post: ClassVar[bool] = False  # the opening text goes in as a first post (Chatwoot), not the ticket

    def __init__(self, settings: HelpdeskSettings, clock: Clock):
        self.settings, self.clock = settings, clock

    def secret(self, name: str) -> str:
        try:
            return get_secret(name)
        except MissingSecret as exc:  # says where to put it; never a value
            raise HelpdeskError(f"{self.label}: {exc}") from exc

    @abstractmethod
    def api(self) -> Api:
        """A session with the API, authenticated as its documentation says."""

    def priority(self, task_priority: str) -> str:
        return self.settings.priorities.get(task_priority) or self.default_priorities[task_priority]

    @abstractmethod
    def find_ticket(self, api: Api, opening: Opening) -> Ticket | None:
        """Our own ticket for this task, found by its external id (after a crash before we stored its id)."""

    @abstractmethod
    def create_ticket(self, api: Api, opening: Opening) -> Ticket:
        """Open the ticket (and its requester, found or created by external id)."""

    def finish_opening(self, api: Api, ticket: Ticket, opening: Opening) -> None:
        """Idempotent steps after the ticket exists (labels, priority); repeated after a crash."""
        return None

    @abstractmethod
    def add_post(self, api: Api, ticket: Ticket, post: Post) -> str:
        """Add a comment; returns the helpdesk's id of it."""

    @abstractmethod
    def has_post(self, api: Api, ticket: Ticket, key: str) -> bool:
        """Whether a post of ours with this key is on the ticket already (its marker line)."""

    @abstractmethod
    def states(self, api: Api, watches: Sequence[Watch], since: datetime | None) -> dict[str, TicketState]:
        """The state of each watched ticket, in as few calls as the API allows. `since`: none of the tickets
        changed before then (an API that lists by update time can skip the unchanged); None: read each."""

    @abstractmethod
    def verify_hook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> HookCall:
        """Check a webhook request as the helpdesk signs it (raise BadWebhook) and say which tickets it names.
        `headers` have lower-case names."""

    @abstractmethod
    def check(self, api: Api) -> str:
        """A cheap authenticated read (`listener doctor`): who we are there."""

    def webhook_secret(self) -> str:
        if not self.settings.webhook_secret:
            raise BadWebhook("no webhook_secret configured")
        try:
            return get_secret(self.settings.webhook_secret)
        except MissingSecret:
            raise BadWebhook(f"the secret {self.settings.webhook_secret!r} is not set") from None
