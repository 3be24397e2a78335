"""The four helpdesks as test cases: each one's fake API, its `[[channel]]` block, its secrets, how its webhook
signs a request, and how to read a ticket's texts back from the fake. Plus a config with one rule that hands every
complaint to the helpdesk and escalates to it, and helpers to deliver and read back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from listener.clock import Clock
from listener.config import Settings, parse_settings
from listener.delivery.helpdesk.channels import build_channels
from listener.delivery.helpdesk.handoff import HelpdeskChannel
from listener.delivery.outbox import DeliveryReport, deliver_pending
from listener.store.engine import Store
from listener.store.models import AlertRow, HandoffRow
from tests.delivery.helpdesk import fake_chatwoot, fake_freshdesk, fake_zammad, fake_zendesk
from tests.delivery.helpdesk.fake_api import FakeApi

TOKEN_SECRET, HOOK_SECRET = "desk-token", "desk-hook"
HOOK_KEY = "whsec-helpdesk-test-key"


def zendesk_sign(key: str, body: bytes, at: datetime) -> dict[str, str]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hmac.new(key.encode(), stamp.encode() + body, hashlib.sha256).digest()
    return {"X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp, "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY"}


def zendesk_hook(ticket_id: int, delivery: str) -> bytes:
    """An event webhook (zen:event-type:ticket.status_changed), shaped as Zendesk documents it."""
    return json.dumps({"type": "zen:event-type:ticket.status_changed", "account_id": 12514403, "id": delivery,
                       "time": "2026-01-05T09:30:00Z", "zendesk_event_version": "2022-11-06",
                       "subject": f"zen:ticket:{ticket_id}", "detail": {"id": str(ticket_id), "status": "SOLVED"},
                       "event": {"current": "SOLVED", "previous": "OPEN"}}).encode()


def freshdesk_sign(key: str, body: bytes, at: datetime) -> dict[str, str]:
    return {"X-Listener-Token": key}


def freshdesk_hook(ticket_id: int, delivery: str) -> bytes:
    return json.dumps({"freshdesk_webhook": {"ticket_id": ticket_id, "ticket_status": "Resolved"}}).encode()


def zammad_sign(key: str, body: bytes, at: datetime) -> dict[str, str]:
    return {"X-Hub-Signature": "sha1=" + hmac.new(key.encode(), body, hashlib.sha1).hexdigest(),
            "X-Zammad-Trigger": "listener", "User-Agent": "Zammad User Agent"}


def zammad_hook(ticket_id: int, delivery: str) -> bytes:
    return json.dumps({"ticket": {"id": ticket_id, "state": "closed", "title": "…"},
                       "article": {"id": 1, "ticket_id": ticket_id}}).encode()


def chatwoot_sign(key: str, body: bytes, at: datetime) -> dict[str, str]:
    stamp = str(int(at.timestamp()))
    return {"X-Chatwoot-Timestamp": stamp,
            "X-Chatwoot-Signature": "sha256=" + hmac.new(key.encode(), f"{stamp}.".encode() + body,
                                                         hashlib.sha256).hexdigest()}


def chatwoot_hook(ticket_id: int, delivery: str) -> bytes:
    return json.dumps({"event": "conversation_status_changed", "id": ticket_id, "status": "resolved",
                       "account": {"id": fake_chatwoot.ACCOUNT}, "inbox_id": fake_chatwoot.INBOX}).encode()


@dataclass(frozen=True)
class Case:
    kind: str
    make: Callable[[Clock], FakeApi]
    token: str
    block: str  # the channel's kind-specific keys
    sign: Callable[[str, bytes, datetime], dict[str, str]]
    hook: Callable[[int, str], bytes]
    delivery_header: str | None  # where the delivery id travels (None: in the body, or nowhere)
    replay_refused: bool = True  # Freshdesk signs nothing and sends no delivery id: a replay only re-reads
    timestamped: bool = True  # the signature covers a timestamp (an old request is refused for its age)

    def __str__(self) -> str:
        return self.kind


CASES = [
    Case("zendesk", fake_zendesk.FakeZendesk, fake_zendesk.TOKEN, f'email = "{fake_zendesk.EMAIL}"', zendesk_sign,
         zendesk_hook, None),
    Case("freshdesk", fake_freshdesk.FakeFreshdesk, fake_freshdesk.API_KEY, "", freshdesk_sign, freshdesk_hook,
         None, replay_refused=False, timestamped=False),
    Case("zammad", fake_zammad.FakeZammad, fake_zammad.TOKEN, f'group = "{fake_zammad.GROUP}"', zammad_sign,
         zammad_hook, "X-Zammad-Delivery", timestamped=False),
    Case("chatwoot", fake_chatwoot.FakeChatwoot, fake_chatwoot.TOKEN,
         f"account_id = {fake_chatwoot.ACCOUNT}\ninbox_id = {fake_chatwoot.INBOX}", chatwoot_sign, chatwoot_hook,
         "X-Chatwoot-Delivery"),
]


def channel_block(case: Case, base_url: str, extra: str = "") -> str:
    return f"""
[[channel]]
name = "desk"
kind = "{case.kind}"
url = "{base_url}"
token_secret = "{TOKEN_SECRET}"
webhook_secret = "{HOOK_SECRET}"
{case.block}
{extra}
"""


def helpdesk_config(case: Case, base_url: str, db_url: str, extra: str = "", join: str | None = None) -> str:
    """`join`: the rule's `task.join` window (contacts: a customer's next complaint joins their open task);
    "off" opens a task for every complaint."""
    join_key = f', join = "{join}"' if join else ""
    return f"""
[database]
url = "{db_url}"

[[brand]]
name = "Acme"
query = "acme"
{channel_block(case, base_url)}
[[rule]]
name = "complaints"
when = {{ sentiment = "negative" }}
task = {{ priority = "P2", first_response = "30m"{join_key} }}
notify = ["desk"]
escalate = [{{ after = "due", notify = ["desk"] }}]

[delivery]
task_url = "https://care.example.com/tasks/{{id}}"
{extra}
"""


def helpdesk_settings(case: Case, base_url: str, db_url: str, extra: str = "", join: str | None = None) -> Settings:
    return parse_settings(tomllib.loads(helpdesk_config(case, base_url, db_url, extra, join)))


def set_secrets(monkeypatch: pytest.MonkeyPatch, case: Case, token: str | None = None) -> None:
    monkeypatch.setenv("LISTENER_DESK_TOKEN", token if token is not None else case.token)
    monkeypatch.setenv("LISTENER_DESK_HOOK", HOOK_KEY)


def channel_of(settings: Settings, store: Store, clock: Clock) -> HelpdeskChannel:
    channel = build_channels(settings.channel, store, clock)["desk"]
    assert isinstance(channel, HelpdeskChannel)
    return channel


def deliver(store: Store, settings: Settings, clock: Clock) -> DeliveryReport:
    return deliver_pending(store, build_channels(settings.channel, store, clock), settings.delivery, clock)


def handoff(store: Store, task_id: int) -> HandoffRow:
    with store.read() as session:
        return session.query(HandoffRow).filter_by(task_id=task_id).one()


def alerts(store: Store) -> list[tuple[str, str, str | None]]:
    with store.read() as session:
        return [(a.kind, a.status, a.last_error) for a in session.query(AlertRow).order_by(AlertRow.id)]


def ticket_ids(fake: FakeApi) -> list[int]:
    if isinstance(fake, fake_chatwoot.FakeChatwoot):
        return sorted(fake.conversations)
    return sorted(fake.tickets)  # type: ignore[attr-defined]


def texts(fake: FakeApi, ticket_id: int) -> list[str]:
    """Everything written on a ticket, oldest first: description, comments, notes, messages."""
    if isinstance(fake, fake_zendesk.FakeZendesk):
        return [c["body"] for c in fake.comments[ticket_id]]
    if isinstance(fake, fake_freshdesk.FakeFreshdesk):
        return [fake.tickets[ticket_id]["description"]] + [c["body"] for c in fake.conversations[ticket_id]]
    if isinstance(fake, fake_zammad.FakeZammad):
        return [a["body"] for a in fake.articles[ticket_id]]
    assert isinstance(fake, fake_chatwoot.FakeChatwoot)
    return [m["content"] for m in fake.messages[ticket_id]]


def request_bodies(fake: FakeApi) -> list[Any]:
    return [json.loads(r.body) for r in fake.requests if r.body]


def complaint_by(store: Store, settings: Settings, clock: Clock, author: str | None, text: str,
                 kind: str = "feed", url: str | None = "https://forum.example.com/t/1", category: str = "billing",
                 urgency: str = "P2") -> int:
    """A triaged negative mention by `author` on a `kind` source, run through the real `act`; the id of the task
    it opened — or joined, when its author has an open task within the rule's join window."""
    from sqlalchemy import func, select

    from listener.acting.rules import Facts
    from listener.acting.tasks import act
    from listener.contacts.ingest import link_row
    from listener.nlp.scoring import Score
    from listener.nlp.triage import Triage
    from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceRow

    now = clock.now()
    score = Score(sentiment="negative", probabilities={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
                  model_version="test", language="en", categories=(category,), negative_service=True)
    with store.write() as session:
        source = session.scalar(select(SourceRow).where(SourceRow.name == f"{kind}-src"))
        if source is None:
            source = SourceRow(name=f"{kind}-src", kind=kind, cursor={})
            session.add(source)
            session.flush()
        n = (session.scalar(select(func.count(MentionRow.id))) or 0) + 1
        mention = MentionRow(source_id=source.id, source_kind=kind, external_id=f"m{n}", url=url, author=author,
                             text=text, published_at=now, fetched_at=now, reach={}, content_hash=f"{n:064x}",
                             brands=[MentionBrand(brand="Acme")])
        session.add(mention)
        session.flush()
        link_row(session, mention, now)  # what ingest does for a polled mention (listener/contacts/ingest.py)
        session.add(ScoreRow(mention_id=mention.id, model_version="test", language="en", sentiment="negative",
                             p_negative=0.9, p_neutral=0.05, p_positive=0.05, categories=[category],
                             negative_service=True, urgency=urgency, reasons=["negative billing experience"],
                             scored_at=now))
        session.flush()
        session.refresh(mention)
        facts = Facts(brands=["Acme"], source=source.name, score=score,
                      triage=Triage(urgency=urgency, reasons=("negative billing experience",)))
        action = act(session, mention, facts, settings.rule, now)
        assert action is not None
        return action.task.id


def later_mention(store: Store, clock: Clock, task_id: int, text: str) -> None:
    """The same customer writes again and the mention is joined to their task (issue #24, contacts)."""
    from listener.delivery.helpdesk.followups import enqueue_followups
    from listener.store.models import MentionBrand, MentionRow, TaskRow

    now = clock.now()
    with store.write() as session:
        first = session.get_one(TaskRow, task_id).mention
        mention = MentionRow(source_id=first.source_id, source_kind=first.source_kind, external_id="post-again",
                             url="https://forum.example.com/t/again", author=first.author, text=text,
                             published_at=now, fetched_at=now, reach={}, content_hash="f" * 64,
                             brands=[MentionBrand(brand="Acme")])
        session.add(mention)
        session.flush()
        enqueue_followups(session, session.get_one(TaskRow, task_id), mention, ["desk"], now)
