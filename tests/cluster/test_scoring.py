"""The cluster's scoring claims on a real PostgreSQL: rows another node holds are skipped, rows of a node that
died are scored by the next claim, and concurrent scorers score every mention exactly once."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bench.kit import fresh_database
from listener.app import App
from listener.config import parse_settings
from listener.pipeline import unscored_backlog
from listener.store.models import MentionBrand, MentionRow, ScoreRow, SourceRow, TaskRow
from tests.tiny_model import build_tiny_model

MENTIONS = 40


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    url = os.environ.get("LISTENER_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("LISTENER_TEST_POSTGRES_URL not set (.ci/run starts a PostgreSQL server and sets it)")
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    with fresh_database(url) as db_url:
        settings = parse_settings({
            "database": {"url": db_url}, "nlp": {"model": str(model)}, "daemon": {"score_batch": 4},
            "channel": [{"name": "chat", "kind": "webhook", "url": "http://127.0.0.1:9/hook"}],
            "rule": [{"name": "negative", "when": {"sentiment": "negative"}, "task": {"priority": "P2"},
                      "notify": ["chat"]}],
        })
        app = App(settings)
        app.migrate()
        now = datetime.now(UTC)
        with app.store.write() as session:
            source = SourceRow(name="forum", kind="feed", cursor={})
            session.add(source)
            session.flush()
            for i in range(MENTIONS):
                session.add(MentionRow(source_id=source.id, source_kind="feed", external_id=f"m{i}",
                                       text=f"acme service bad {i}", fetched_at=now, content_hash=f"{i:064x}",
                                       brands=[MentionBrand(brand="Acme")]))
        yield app
        app.close()


def scored(app: App) -> tuple[int, int]:
    with app.store.read() as session:
        return (session.scalar(select(func.count()).select_from(ScoreRow)) or 0,
                session.scalar(select(func.count()).select_from(TaskRow)) or 0)


@pytest.mark.postgres
def test_held_rows_are_skipped_and_released_when_their_node_dies(app: App) -> None:
    held = app.store.engine.connect()  # another node, mid-batch: it holds the first 10 mentions
    held.begin()
    pid = held.scalar(text("SELECT pg_backend_pid()"))
    held.execute(select(MentionRow.id).order_by(MentionRow.id).limit(10).with_for_update(skip_locked=True)).all()

    report = app.score(claim=True)
    assert report.scored == MENTIONS - 10 and scored(app) == (30, 30)  # the held rows were not touched …
    assert unscored_backlog(app.store, cap=100) == 10

    # … until that node dies: its connection ends, PostgreSQL rolls its transaction back and frees the locks.
    with app.store.engine.connect() as admin:
        assert admin.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
    held.invalidate()
    assert app.score(claim=True).scored == 10
    assert scored(app) == (MENTIONS, MENTIONS) and unscored_backlog(app.store, cap=100) == 0


@pytest.mark.postgres
def test_concurrent_scorers_score_each_mention_once(app: App) -> None:
    reports = []
    errors: list[BaseException] = []

    def node() -> None:
        try:
            reports.append(app.score(claim=True))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    _ = app.scorer  # loaded once before the jobs start, as a node does
    threads = [threading.Thread(target=node) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.scored for r in reports) == MENTIONS  # no mention twice, none left out
    assert scored(app) == (MENTIONS, MENTIONS)
