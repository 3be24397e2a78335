"""Two seeded weeks (2026-W47 and W48, Europe/Berlin) of Acme mentions with competitors Globex and Initech:
known brands, sources, languages, sentiments, service categories, ratings, reach, labels and tasks.
tests/digest/test_figures.py checks every figure of `listener digest --json` against this by hand."""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from listener.store.engine import Store
from listener.store.models import MentionBrand, MentionLabel, MentionRow, ScoreRow, SourceRow, TaskRow

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> Acme & "Co" </table></td>'


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    """November 2026, UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@dataclass
class Seed:
    key: str
    when: datetime
    source: str
    brands: tuple[str, ...]
    lang: str | None  # None: not scored
    sentiment: str | None = None
    service: tuple[str, ...] = ()
    rating: float | None = None
    reach: dict[str, int] = field(default_factory=dict)
    text: str = "Acme"
    label: tuple[str, tuple[str, ...]] | None = None  # the care team's (sentiment, service categories)
    duplicate_of: str | None = None
    title: str | None = None
    url: str | None = None


LONG_WORD = "Kundenservicewarteschleifenendlosigkeit" * 6  # one unbroken 234-character word: must wrap
WARTE = "Acme Bank: seit Stunden in der Warteschleife, niemand hebt ab."
SEEDS = [
    # ---- W48 (current): Mon 23 .. Sun 29 November, Berlin time (UTC+1)
    Seed("c1", at(22, 23, 30), "forum", ("Acme",), "de", "negative", ("billing",), reach={"replies": 5},
         text=WARTE + " Falsche Abbuchung."),  # 00:30 on Monday in Berlin: current week
    Seed("c2", at(24, 10), "forum", ("Acme",), "de", "negative", ("billing", "support"),
         reach={"followers": 1000, "likes": 3}, text=WARTE + " Gebühren doppelt.", title="Acme Bank Ärger",
         url="https://forum.example/t/2"),
    Seed("c3", at(24, 11), "forum", ("Acme", "Globex"), "en", "positive", reach={"score": 40},
         text="Acme beats Globex on fees, great app", url="https://forum.example/t/3"),
    Seed("c4", at(25, 9), "appstore", ("Acme",), "de", "negative", rating=1.0, reach={"votes": 2},
         text="Acme App: Warteschleife ohne Ende, Login klappt nicht " + LONG_WORD, title=HOSTILE,
         url="javascript:alert(1)"),
    Seed("c5", at(25, 12), "appstore", ("Acme",), "de", "positive", rating=5.0, text="Acme App super"),
    Seed("c6", at(26, 9), "appstore", ("Acme",), "en", "neutral", rating=3.0, text="Acme app is fine"),
    Seed("c7", at(27, 9), "hn", ("Acme",), "en", "neutral", reach={"score": 120, "replies": 30},
         text="Show HN: an Acme API client", url="https://news.example/item?id=7"),
    Seed("c8", at(28, 9), "hn", ("Acme",), None, text="Acme?"),
    Seed("c9", at(29, 20), "forum", ("Acme",), "de", "positive", text="Acme Warteschleife und Paket kam nie an",
         label=("negative", ("delivery",))),
    Seed("c10", at(24, 12), "forum", ("Acme",), "de", "negative", ("digital",), reach={"likes": 7},
         text=WARTE + " Gebühren doppelt.", duplicate_of="c2"),
    Seed("g1", at(26, 10), "forum", ("Globex",), "en", "positive", text="Globex is nice"),
    Seed("g2", at(27, 10), "forum", ("Globex",), "en", "negative", text="Globex is slow"),
    Seed("late", at(29, 23, 30), "forum", ("Acme",), "de", "negative", text="Acme nächste Woche"),  # Mon 30 Berlin
    # ---- W47 (previous): Mon 16 .. Sun 22 November
    Seed("p1", at(17, 9), "forum", ("Acme",), "de", "negative", ("billing",), reach={"likes": 10},
         text="Acme Rechnung falsch"),
    Seed("p2", at(18, 9), "forum", ("Acme",), "de", "positive", text="Acme Filiale freundlich"),
    Seed("p3", at(19, 9), "appstore", ("Acme",), "de", "positive", rating=5.0, text="Acme App gut"),
    Seed("p4", at(20, 9), "appstore", ("Acme",), "de", "negative", ("support",), rating=2.0,
         text="Acme Hotline schlecht"),
    Seed("pg1", at(19, 10), "forum", ("Globex",), "en", "neutral", text="Globex news"),
    Seed("pg2", at(20, 10), "forum", ("Globex",), "en", "neutral", text="Globex again"),
    Seed("pi1", at(21, 10), "forum", ("Initech",), "en", "neutral", text="Initech"),
    # ---- W46, for the trend
    Seed("w46", at(10, 9), "forum", ("Acme",), "en", "positive", text="Acme good"),
]

# (mention, created, due after, status, responded after, closed after) — times after `created`.
TASKS: list[tuple[str, datetime, timedelta, str, timedelta | None, timedelta | None]] = [
    ("c1", at(23, 9), timedelta(minutes=15), "resolved", timedelta(minutes=10), timedelta(hours=1)),  # within
    ("c2", at(24, 10), timedelta(minutes=15), "responded", timedelta(minutes=40), None),  # late
    ("c4", at(25, 8), timedelta(minutes=15), "dismissed", None, timedelta(minutes=5)),
    ("c9", at(29, 20), timedelta(minutes=15), "open", None, None),  # waiting at the end of W48
    ("p1", at(17, 9), timedelta(minutes=15), "resolved", None, timedelta(minutes=20)),  # resolved without respond
    ("p4", at(18, 12), timedelta(minutes=15), "resolved", timedelta(minutes=5), timedelta(days=6)),  # within
    ("p2", at(21, 12), timedelta(minutes=15), "responded", timedelta(hours=46), None),  # answered in W48
]

SOURCES = {"forum": "feed", "appstore": "appstore", "hn": "hackernews"}


def seed(store: Store) -> dict[str, int]:
    """Inserts the seeds; returns mention ids by key."""
    ids: dict[str, int] = {}
    with store.write() as session:
        sources = {}
        for name, kind in SOURCES.items():
            row = SourceRow(name=name, kind=kind, cursor={})
            session.add(row)
            session.flush()
            sources[name] = row.id
        for s in SEEDS:
            mention = MentionRow(source_id=sources[s.source], source_kind=SOURCES[s.source], external_id=s.key,
                                 url=s.url, author=f"author-{s.key}", title=s.title, text=s.text,
                                 published_at=s.when, fetched_at=s.when + timedelta(minutes=1), rating=s.rating,
                                 reach=s.reach, content_hash=hashlib.sha256(s.key.encode()).hexdigest(),
                                 canonical_id=ids[s.duplicate_of] if s.duplicate_of else None)
            mention.brands = [MentionBrand(brand=b) for b in s.brands]
            session.add(mention)
            session.flush()
            ids[s.key] = mention.id
            if s.lang is not None and s.sentiment is not None:
                session.add(ScoreRow(mention_id=mention.id, model_version="seed", language=s.lang,
                                     sentiment=s.sentiment, p_negative=0.0, p_neutral=0.0, p_positive=0.0,
                                     categories=list(s.service), negative_service=bool(s.service),
                                     urgency="none", reasons=[], scored_at=s.when))
            if s.label:
                session.add(MentionLabel(mention_id=mention.id, sentiment=s.label[0],
                                         service_categories=list(s.label[1]), labelled_by="seed",
                                         labelled_at=s.when))
        for key, created, due, status, responded, closed in TASKS:
            session.add(TaskRow(mention_id=ids[key], rule="negative", status=status, priority="P2", reasons=[],
                                created_at=created, due_at=created + due,
                                responded_at=created + responded if responded else None,
                                closed_at=created + closed if closed else None))
    return ids


def config_text(db_url: str, smtp_port: int = 25, extra: str = "", lang: str = "en") -> str:
    return textwrap.dedent(f"""\
        [database]
        url = "{db_url}"

        [[brand]]
        name = "Acme"
        terms = ["Acme", "Acme Bank"]

        [[brand]]
        name = "Globex"
        terms = ["Globex"]
        competitor = true

        [[brand]]
        name = "Initech"
        terms = ["Initech"]
        competitor = true

        [[channel]]
        name = "care-mail"
        kind = "email"
        to = ["care@acme.example"]
        smtp = {{ host = "127.0.0.1", port = {smtp_port}, sender = "listener@acme.example" }}

        [digest]
        channel = "care-mail"
        recipients = ["marketing@acme.example"]
        timezone = "Europe/Berlin"
        weekday = "monday"
        time = "08:00"
        lang = "{lang}"
        """) + extra


def write_config(tmp: Path, db_url: str, smtp_port: int = 25, extra: str = "") -> Path:
    path = tmp / "listener.toml"
    path.write_text(config_text(db_url, smtp_port, extra))
    return path


def by_key(items: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {item[key]: item for item in items}
