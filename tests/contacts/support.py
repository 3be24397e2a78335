"""Helpers for the contacts tests: mentions stored through the real poll (so identities are linked as at ingest),
then scored and run through the real `act` inside a store transaction, as the scoring stage does."""

from __future__ import annotations

from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.acting.rules import Facts
from listener.acting.tasks import Action, act
from listener.clock import FakeClock
from listener.config import Settings, parse_settings
from listener.domain import Batch, Mention
from listener.matching import BrandMatcher
from listener.nlp.scoring import Score
from listener.nlp.triage import Triage
from listener.pipeline import poll_source
from listener.sources.kit import HttpFetcher, HttpSettings, Source, SourceContext, SourceSettings
from listener.store.engine import Store
from listener.store.models import MentionRow, ScoreRow

_ids = count(1)


def settings(db_url: str = "sqlite://", join: str | None = "72h", **web: Any) -> Settings:
    task: dict[str, Any] = {"priority": "P2", "first_response": "1h"}
    if join is not None:
        task["join"] = join
    raw: dict[str, Any] = {
        "database": {"url": db_url},
        "brand": [{"name": "Acme", "terms": ["Acme"]}],
        "rule": [{"name": "negative", "when": {"sentiment": "negative"}, "task": task},
                 {"name": "urgent", "when": {"urgency": "P1"}, "task": {"priority": "P1", "first_response": "15m"}}],
    }
    if web:
        raw["web"] = web
    return parse_settings(raw)


class PlatformSource(Source):
    """A source of any kind whose items the test sets (a stand-in for a platform; the pipeline is real)."""

    kind = "test"
    settings_model = SourceSettings

    def __init__(self, name: str, clock: FakeClock):
        super().__init__(SourceSettings(name=name, kind=self.kind),
                         SourceContext(http=HttpFetcher(HttpSettings()), clock=clock))
        self.items: list[Mention] = []

    def poll(self, cursor: dict[str, Any]) -> Batch:
        items, self.items = self.items, []
        return Batch(items=items, next_cursor={"n": int(cursor.get("n", 0)) + len(items)})


def platform(kind: str, name: str, clock: FakeClock) -> PlatformSource:
    """A source of `kind` named `name` (each kind its own subclass: `kind` is a class attribute)."""
    cls = type(f"{kind.title()}Source", (PlatformSource,), {"kind": kind})
    return cls(name, clock)


def say(store: Store, source: PlatformSource, clock: FakeClock, author: str | None, text: str = "Acme is broken",
        url: str | None = None, **author_fields: str | None) -> int:
    """One mention by `author` stored through `poll_source`; its id."""
    external_id = f"{source.name}-{next(_ids)}"
    source.items = [source.mention(external_id, text, url=url or f"https://{source.name}.example/p/{external_id}",
                                   author=author, published_at=clock.now(), **author_fields)]
    report = poll_source(store, source, BrandMatcher(_brands()), clock, force=True)
    assert report.stored == 1, report
    with store.read() as session:
        mention_id = session.scalar(select(MentionRow.id).where(MentionRow.external_id == external_id))
        assert mention_id is not None
        return mention_id


def _brands() -> list[Any]:
    from listener.matching import BrandSettings

    return [BrandSettings(name="Acme", terms=["Acme"])]


def score_and_act(store: Store, cfg: Settings, clock: FakeClock, mention_id: int, urgency: str = "P2",
                  category: str = "support") -> Action | None:
    """Score the mention negative with this urgency and apply the rules, in one transaction (as scoring does)."""
    with store.write() as session:
        return act_on(session, cfg, session.get_one(MentionRow, mention_id), clock, urgency, category)


def act_on(session: Session, cfg: Settings, mention: MentionRow, clock: FakeClock, urgency: str = "P2",
           category: str = "support") -> Action | None:
    """Inside the caller's transaction: store a negative score and triage for the mention, then `act`."""
    now = clock.now()
    score = Score(sentiment="negative", probabilities={"negative": 0.9, "neutral": 0.05, "positive": 0.05},
                  model_version="test", language="en", categories=(category,), negative_service=True)
    verdict = Triage(urgency=urgency, reasons=(f"negative {category} experience",))
    session.add(ScoreRow(mention_id=mention.id, model_version="test", language="en", sentiment="negative",
                         p_negative=0.9, p_neutral=0.05, p_positive=0.05, categories=[category],
                         negative_service=True, urgency=urgency, reasons=list(verdict.reasons), scored_at=now))
    session.flush()
    session.refresh(mention)
    facts = Facts(brands=mention.brand_names, source=mention.source.name, score=score, triage=verdict)
    return act(session, mention, facts, cfg.rule, now)


def complaint(store: Store, cfg: Settings, clock: FakeClock, source: PlatformSource, author: str,
              urgency: str = "P2", text: str | None = None, **author_fields: str | None) -> tuple[int, int]:
    """A mention by `author`, scored and acted on: (mention id, the id of the task it opened or joined). Each
    default text is different: copies of one text are near-duplicates, which never act."""
    text = text or f"Acme lost parcel number {next(_ids)} of mine, {next(_ids)} days ago"
    mention_id = say(store, source, clock, author, text, **author_fields)
    action = score_and_act(store, cfg, clock, mention_id, urgency)
    assert action is not None
    return mention_id, action.task.id
