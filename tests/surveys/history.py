"""A seeded history for the satisfaction tests: posts stored through the real poll (`poll_source`, so whatever
ingest links to a mention is linked), scored or labelled as given, and tasks with their first responses."""

from __future__ import annotations

from datetime import datetime
from itertools import count

from sqlalchemy import select

from listener.clock import FakeClock
from listener.matching import BrandMatcher, BrandSettings
from listener.pipeline import poll_source
from listener.store.engine import Store
from listener.store.models import MentionLabel, MentionRow, ScoreRow, TaskRow
from tests.contacts.support import PlatformSource

_ids = count(1)
BRANDS = [BrandSettings(name="Acme", terms=["Acme"]), BrandSettings(name="Globex", terms=["Globex"])]


class History:
    def __init__(self, store: Store, clock: FakeClock):
        self.store, self.clock = store, clock

    def post(self, source: PlatformSource, author: str, at: datetime, sentiment: str | None, *,
             label: str | None = None, brand: str = "Acme", categories: tuple[str, ...] = ()) -> int:
        """A post by `author` published at `at`, scored `sentiment` (None: not scored yet), optionally labelled."""
        n = next(_ids)
        external_id = f"{source.name}-{n}"
        source.items = [source.mention(external_id, f"{brand} post number {n} by {author} " + "x" * n,
                                       url=f"https://{source.name}.example/p/{n}", author=author,
                                       published_at=at, fetched_at=at)]
        report = poll_source(self.store, source, BrandMatcher(BRANDS), self.clock, force=True)
        assert report.stored == 1, report
        with self.store.write() as session:
            mention_id = session.scalar(select(MentionRow.id).where(MentionRow.external_id == external_id))
            assert mention_id is not None
            if sentiment is not None:
                session.add(ScoreRow(mention_id=mention_id, model_version="test", language="en", sentiment=sentiment,
                                     p_negative=0.8 if sentiment == "negative" else 0.1, p_neutral=0.1,
                                     p_positive=0.1 if sentiment == "negative" else 0.8, categories=list(categories),
                                     negative_service=bool(categories), urgency="P2", reasons=[], scored_at=at))
            if label is not None:
                session.add(MentionLabel(mention_id=mention_id, sentiment=label, service_categories=[],
                                         labelled_by="lea", labelled_at=at))
        return mention_id

    def task(self, mention_id: int, rule: str, created: datetime, *, responded: datetime | None = None,
             resolved: datetime | None = None, status: str | None = None, assignee: str | None = None) -> int:
        status = status or ("resolved" if resolved else "responded" if responded else "open")
        with self.store.write() as session:
            task = TaskRow(mention_id=mention_id, rule=rule, status=status, priority="P2", reasons=[],
                           created_at=created, due_at=created, responded_at=responded, closed_at=resolved,
                           assignee=assignee)
            session.add(task)
            session.flush()
            return task.id
