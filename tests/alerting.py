"""Helpers for the alerting tests: a config with a mail and a chat channel, and triaged complaints run through
the real `act` (the step that creates tasks and outbox rows) inside a store transaction."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import select

from listener.acting.rules import Facts
from listener.acting.tasks import act
from listener.clock import Clock, FakeClock
from listener.config import Settings, parse_settings
from listener.delivery.channels import make_channel
from listener.delivery.outbox import DeliveryReport, deliver_pending
from listener.nlp.scoring import Score
from listener.nlp.triage import Triage
from listener.store.engine import Store, upgrade
from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceRow

_ids = count(1)
BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    """A Berlin wall-clock time, as the UTC moment it is."""
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)  # type: ignore[misc]


def move_to(clock: FakeClock, moment: datetime) -> None:
    clock.advance(moment - clock.now())

HOURS = """
[[hours]]
name = "care-de"
timezone = "Europe/Berlin"
week = { mon = "08:00-18:00", tue = "08:00-18:00", wed = "08:00-18:00", thu = "08:00-18:00", fri = "08:00-16:00" }
holidays = { country = "DE", subdivision = "NW" }
"""


def alert_settings(smtp_port: int, webhook_url: str, rules: str, db_url: str = "sqlite://") -> Settings:
    """Brands Acme and Globex, channels `mail` (SMTP on loopback) and `chat` (webhook), the given rules."""
    return parse_settings(tomllib.loads(alert_config(smtp_port, webhook_url, rules, db_url)))


def alert_config(smtp_port: int, webhook_url: str, rules: str, db_url: str) -> str:
    return f"""
[database]
url = "{db_url}"

[[brand]]
name = "Acme"
query = "acme"

[[brand]]
name = "Globex"
query = "globex"

[[channel]]
name = "mail"
kind = "email"
to = ["care@example.com"]
smtp = {{ host = "127.0.0.1", port = {smtp_port}, sender = "listener@example.com" }}

[[channel]]
name = "chat"
kind = "webhook"
url = "{webhook_url}"

[delivery]
task_url = "https://care.example.com/tasks/{{id}}"
{HOURS}
{rules}
"""


def complaint(store: Store, settings: Settings, clock: Clock, brand: str = "Acme", category: str = "digital",
              urgency: str = "P2", text: str = "The app is down again, I cannot log in.") -> int | None:
    """One scored, triaged negative mention through `act`; the task id (None when no rule matched)."""
    now = clock.now()
    n = next(_ids)
    score = Score(sentiment="negative", probabilities={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
                  model_version="test", language="en", categories=(category,), negative_service=True)
    verdict = Triage(urgency=urgency, reasons=(f"negative {category} experience",))
    with store.write() as session:
        source = session.scalar(select(SourceRow).where(SourceRow.name == "forum"))
        if source is None:
            source = SourceRow(name="forum", kind="feed", cursor={})
            session.add(source)
            session.flush()
        mention = MentionRow(source_id=source.id, source_kind="feed", external_id=f"post-{n}",
                             url=f"https://forum.example.com/t/{n}", author=f"user{n}", title=None, text=text,
                             published_at=now, fetched_at=now, reach={}, content_hash=f"{n:064x}",
                             brands=[MentionBrand(brand=brand)])
        session.add(mention)
        session.flush()
        session.add(ScoreRow(mention_id=mention.id, model_version="test", language="en", sentiment="negative",
                             p_negative=0.9, p_neutral=0.05, p_positive=0.05, categories=[category],
                             negative_service=True, urgency=urgency, reasons=list(verdict.reasons), scored_at=now))
        session.flush()
        session.refresh(mention)
        facts = Facts(brands=[brand], source="forum", score=score, triage=verdict)
        action = act(session, mention, facts, settings.rule, now)
        return action.task.id if action else None


def migrated_store(url: str) -> Store:
    store = Store(url)
    upgrade(store)
    return store


def deliver(store: Store, settings: Settings, clock: Clock) -> DeliveryReport:
    channels = {c.name: make_channel(c) for c in settings.channel}
    return deliver_pending(store, channels, settings.delivery, clock)
