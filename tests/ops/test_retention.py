"""Retention: mentions past their period go in small batches with everything that hangs off them; open tasks
stay; the day counts keep what the digest's long-range figures need. And `db backup`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select

from listener.cli import cli
from listener.ops.backup import BackupError, backup_sqlite
from listener.ops.retention import run_retention
from listener.ops.settings import RetentionSettings
from listener.store.engine import Store, upgrade
from listener.store.models import (
    AlertRow,
    MentionBrand,
    MentionDailyCount,
    MentionLabel,
    MentionRow,
    NearDupKey,
    ScoreRow,
    SourceRow,
    TaskRow,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONG_TEXT = "die hotline der acme bank legt nach einer stunde in der warteschleife einfach auf, schon wieder"


def add_mention(session, source: SourceRow, n: int, age_days: int, sentiment: str | None,  # noqa: ANN001
                task_status: str | None = None, closed_days_ago: int | None = None, labelled: bool = False) -> int:
    fetched = NOW - timedelta(days=age_days)
    row = MentionRow(source_id=source.id, source_kind="feed", external_id=f"post-{n}", author=f"user{n}",
                     text=f"{LONG_TEXT} {n}", fetched_at=fetched, published_at=fetched, content_hash=f"h{n}",
                     brands=[MentionBrand(brand="Acme")])
    session.add(row)
    session.flush()
    if sentiment:
        session.add(ScoreRow(mention_id=row.id, model_version="t", sentiment=sentiment, p_negative=0.1,
                             p_neutral=0.8, p_positive=0.1, categories=[], negative_service=sentiment == "negative",
                             scored_at=fetched))
    if labelled:
        session.add(MentionLabel(mention_id=row.id, sentiment="neutral", service_categories=[], labelled_at=fetched))
    if task_status:
        closed = NOW - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
        task = TaskRow(mention_id=row.id, rule="r", status=task_status, priority="P2", reasons=[], created_at=fetched,
                       closed_at=closed)
        session.add(task)
        session.flush()
        session.add(AlertRow(idempotency_key=f"task-{task.id}-chat", task_id=task.id, mention_id=row.id,
                             channel="chat", status="sent", attempts=1, created_at=fetched, next_attempt_at=fetched))
    return row.id


def populate(url: str) -> Store:
    store = Store(url)
    upgrade(store)
    with store.write() as session:
        source = SourceRow(name="forum", kind="feed", cursor={})
        session.add(source)
        session.flush()
        first = add_mention(session, source, 1, 100, "neutral", labelled=True)  # neutral, past 90 d → goes
        add_mention(session, source, 2, 80, "neutral")  # neutral, 80 d → stays
        add_mention(session, source, 3, 100, "negative")  # other, 100 d → stays (400 d)
        add_mention(session, source, 4, 401, "positive")  # other, past 400 d → goes
        add_mention(session, source, 5, 500, None)  # never scored, past 400 d → goes
        add_mention(session, source, 6, 500, "negative", "open")  # open task: stays however old
        add_mention(session, source, 7, 50, "negative", "resolved", closed_days_ago=31)  # closed 31 d ago → goes
        add_mention(session, source, 8, 50, "negative", "dismissed", closed_days_ago=10)  # closed 10 d ago → stays
        copy = add_mention(session, source, 9, 10, "neutral")  # a copy of #1 (which goes): becomes canonical
        session.get_one(MentionRow, copy).canonical_id = first
    return store


@pytest.fixture
def populated(database_url: str) -> Iterator[Store]:
    """SQLite, and PostgreSQL where one is provided."""
    store = populate(database_url)
    yield store
    store.dispose()


@pytest.fixture
def populated_sqlite(tmp_path: Path) -> Iterator[Store]:
    store = populate(f"sqlite:///{tmp_path / 'listener.db'}")
    yield store
    store.dispose()


def remaining(store: Store) -> list[str]:
    with store.read() as session:
        return sorted(session.scalars(select(MentionRow.external_id)))


def test_retention_by_kind_in_batches(populated: Store) -> None:
    store = populated
    settings = RetentionSettings(batch=1)
    dry = run_retention(store, settings, NOW, dry_run=True)
    assert dict(dry.mentions) == {"neutral": 1, "other": 2, "closed_tasks": 1} and dry.tasks == 1 and dry.alerts == 1
    assert len(remaining(store)) == 9  # a dry run deletes nothing

    commits = []
    event.listen(store.engine, "commit", lambda conn: commits.append(1))
    report = run_retention(store, settings, NOW)
    assert dict(report.mentions) == dict(dry.mentions) and (report.tasks, report.alerts) == (1, 1)
    assert len(commits) >= 4  # one transaction per batch of one mention, never one long one
    assert remaining(store) == ["post-2", "post-3", "post-6", "post-8", "post-9"]
    with store.read() as session:
        for model in (ScoreRow, MentionLabel, NearDupKey, MentionBrand, TaskRow, AlertRow):
            orphans = session.scalar(select(func.count()).select_from(model)
                                     .where(model.mention_id.not_in(select(MentionRow.id))))
            assert orphans == 0, model.__tablename__
        assert session.scalar(select(MentionRow.canonical_id).where(MentionRow.external_id == "post-9")) is None
        counts = {(c.day, c.sentiment): (c.mentions, c.negative_service)
                  for c in session.scalars(select(MentionDailyCount))}
    day = lambda age: (NOW - timedelta(days=age)).date()  # noqa: E731
    assert counts == {(day(100), "neutral"): (1, 0), (day(401), "positive"): (1, 0), (day(500), "unscored"): (1, 0),
                      (day(50), "negative"): (1, 1)}
    assert run_retention(store, settings, NOW).total == 0  # nothing left to do: idempotent


def test_retention_command_and_settings(tmp_path: Path) -> None:
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "l.db"}"\n[retention]\nneutral = "12h"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "retention", "run"])
    assert result.exit_code == 1 and "retention.neutral" in result.output and "at least a day" in result.output
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "l.db"}"\n[retention]\nneutral = "30d"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "retention", "run", "--dry-run"])
    assert result.exit_code == 0 and "would delete 0 mentions" in result.output


def test_backup_is_a_consistent_copy_while_writers_go_on(populated_sqlite: Store, tmp_path: Path) -> None:
    populated = populated_sqlite
    database = populated.engine.url.database
    assert database
    stop = threading.Event()

    def keep_writing() -> None:  # the daemon does not pause for a backup
        with populated.write() as session:
            source = session.scalar(select(SourceRow))
            assert source is not None
        n = 100
        while not stop.is_set():
            with populated.write() as session:
                add_mention(session, source, n, 1, "neutral")
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        size = backup_sqlite(f"sqlite:///{database}", tmp_path / "backup" / "copy.db", pages_per_step=1)
    finally:
        stop.set()
        writer.join()
    copy = sqlite3.connect(tmp_path / "backup" / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    mentions, brands = copy.execute("SELECT count(*), (SELECT count(*) FROM mention_brands) FROM mentions").fetchone()
    assert size > 0 and mentions >= 9 and brands == mentions  # a whole transaction or none of it
    copy.close()

    with pytest.raises(BackupError, match="never overwrites"):
        backup_sqlite(f"sqlite:///{database}", tmp_path / "backup" / "copy.db")
    with pytest.raises(BackupError, match="pg_dump"):
        backup_sqlite("postgresql+psycopg://listener@db.example/listener", tmp_path / "pg.db")


def test_backup_command(tmp_path: Path, populated_sqlite: Store) -> None:
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{populated_sqlite.engine.url.database}"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "db", "backup", str(tmp_path / "b.db")])
    assert result.exit_code == 0 and "backed up to" in result.output
    config.write_text('[database]\nurl = "postgresql+psycopg://listener@db.example/listener"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "db", "backup", str(tmp_path / "c.db")])
    assert result.exit_code == 1 and "pg_dump" in result.output
