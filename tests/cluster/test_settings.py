"""`[cluster]` picks the mode from the database URL; bad values name their key; the single-node daemon runs the
periodic job registry (retention daily) with cron triggers."""

from __future__ import annotations

from pathlib import Path

import pytest

from listener.app import App
from listener.clock import FakeClock
from listener.cluster.node import conninfo, due_sources
from listener.config import ConfigError, parse_settings
from listener.periodic import periodic_jobs
from listener.scheduler import Scheduler

PG = "postgresql+psycopg://listener:pw@db.example:5433/listener"


def settings(tmp_path: Path, **sections: dict) -> object:
    raw: dict = {"database": {"url": f"sqlite:///{tmp_path / 'l.db'}"}, **sections}
    return parse_settings(raw)


def test_mode_follows_the_database_url(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert not s.cluster.uses_queue(s.database.url)  # type: ignore[attr-defined]
    assert s.cluster.uses_queue(PG)  # type: ignore[attr-defined]
    single = settings(tmp_path, cluster={"mode": "single"})
    assert not single.cluster.uses_queue(PG)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("cluster", "key", "message"), [
    ({"mode": "queue"}, "cluster.mode", "needs a PostgreSQL"),
    ({"tick": "7s"}, "cluster.tick", "divides a minute"),
    ({"heartbeat": "10s", "heartbeat_timeout": "15s"}, "cluster.heartbeat_timeout", "two heartbeats"),
    ({"mode": "several"}, "cluster.mode", "'auto', 'single' or 'queue'"),
])
def test_bad_cluster_settings_name_their_key(tmp_path: Path, cluster: dict, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(tmp_path, cluster=cluster)
    assert key in str(info.value) and message in str(info.value)


def test_conninfo_keeps_credentials_and_drops_the_driver() -> None:
    assert conninfo(PG) == "postgresql://listener:pw@db.example:5433/listener"


def test_single_node_daemon_schedules_the_registry(tmp_path: Path) -> None:
    s = settings(tmp_path, retention={"cron": "5 4 * * *"})
    assert [j.name for j in periodic_jobs(s)] == ["retention"]  # type: ignore[arg-type]
    daemon = Scheduler(App(s))  # type: ignore[arg-type]
    daemon.schedule()
    job = daemon.scheduler.get_job("periodic:retention")
    assert job is not None and "hour='4'" in str(job.trigger) and "minute='5'" in str(job.trigger)
    off = settings(tmp_path, retention={"enabled": False})
    assert periodic_jobs(off) == []  # type: ignore[arg-type]


def test_due_sources_respects_interval_and_backoff(tmp_path: Path) -> None:
    from datetime import timedelta

    from listener.store.models import SourceHealth, SourceRow

    s = settings(tmp_path, source=[{"name": f"f{i}", "kind": "feed", "url": "http://127.0.0.1:9/x", "every": "5m"}
                                   for i in range(3)])
    clock = FakeClock()
    app = App(s, clock=clock)  # type: ignore[arg-type]
    app.migrate()
    now = clock.now()
    assert due_sources(app, now) == ["f0", "f1", "f2"]  # never polled
    with app.store.write() as session:
        session.add(SourceRow(name="f0", kind="feed", cursor={},
                              health=SourceHealth(last_attempt_at=now - timedelta(minutes=4))))
        session.add(SourceRow(name="f1", kind="feed", cursor={},
                              health=SourceHealth(last_attempt_at=now - timedelta(minutes=6),
                                                  next_attempt_at=now + timedelta(minutes=1))))
    assert due_sources(app, now) == ["f2"]  # f0: interval not over; f1: backing off
    assert due_sources(app, now + timedelta(minutes=2)) == ["f0", "f1", "f2"]
    app.close()
