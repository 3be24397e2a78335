"""Building reply clients and stored tasks for the reply tests."""

from __future__ import annotations

from typing import Any

from listener.clock import Clock, FakeClock
from listener.config import Settings, parse_settings
from listener.contacts.ingest import link_row
from listener.replies.clients import ReplyClients
from listener.replies.platforms.base import ReplyClient, ReplyTarget
from listener.store.engine import Store
from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceRow, TaskRow


def settings_with(*sources: dict[str, Any], db_url: str = "sqlite://", **more: Any) -> Settings:
    raw: dict[str, Any] = {"database": {"url": db_url}, "brand": [{"name": "Acme", "terms": ["Acme"]}],
                           "source": list(sources), **more}
    return parse_settings(raw)


def discourse_source(base_url: str, **keys: Any) -> dict[str, Any]:
    return {"name": "forum", "kind": "discourse", "base_url": base_url, "reply": True,
            "reply_api_key_secret": "forum-write-key", "reply_username": "acme_care", **keys}


def mastodon_source(base_url: str, **keys: Any) -> dict[str, Any]:
    return {"name": "fedi", "kind": "mastodon", "instance": base_url, "hashtags": ["acme"], "reply": True,
            "reply_token_secret": "fedi-write-token", **keys}


def client(settings: Settings, name: str, clock: FakeClock) -> ReplyClient:
    return ReplyClients(settings, clock)(name)


def target(kind: str, external_id: str, thread_id: str | None = None, **extra: str) -> ReplyTarget:
    return ReplyTarget(source_kind=kind, source_name="x", external_id=external_id, url=None, thread_id=thread_id,
                       parent_id=None, extra=extra)


def seed_task(store: Store, clock: Clock, source: str, kind: str, external_id: str, *,
              thread_id: str | None = None, reply_ref: dict[str, str] | None = None, author: str = "customer",
              text: str = "Acme lost my parcel again and nobody answers", url: str | None = None) -> int:
    """A stored, scored mention of Acme on `source` with an open task; returns the task id."""
    now = clock.now()
    with store.write() as session:
        src = session.query(SourceRow).filter_by(name=source).one_or_none()
        if src is None:
            src = SourceRow(name=source, kind=kind, cursor={})
            session.add(src)
            session.flush()
        mention = MentionRow(source_id=src.id, source_kind=kind, external_id=external_id, url=url, author=author,
                             text=text, published_at=now, fetched_at=now, reach={}, thread_id=thread_id,
                             reply_ref=dict(reply_ref or {}), content_hash=f"h-{source}-{external_id}")
        mention.brands = [MentionBrand(brand="Acme")]
        session.add(mention)
        session.flush()
        link_row(session, mention, now)  # its identity, as ingest links it (listener/contacts)
        session.add(ScoreRow(mention_id=mention.id, model_version="test", language="en", sentiment="negative",
                             p_negative=0.9, p_neutral=0.05, p_positive=0.05, categories=["delivery"],
                             negative_service=True, urgency="P2", reasons=["negative 90%"], scored_at=now))
        task = TaskRow(mention_id=mention.id, rule="negative", status="open", priority="P2",
                       reasons=["negative 90%"], created_at=now, due_at=now)
        session.add(task)
        session.flush()
        return task.id
