"""The daemon sends the weekly digest exactly once per period: across restarts, after a crash between claim
and send, and after a failed SMTP conversation — with an injected clock, through a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from listener.app import App
from listener.clock import FakeClock
from listener.config import load_settings
from listener.demo.servers import SmtpSink, free_port
from listener.digest.period import iso_week
from listener.digest.schedule import CLAIM_FOR, RETRY_AFTER, _claim, due_period
from listener.digest.settings import DigestSettings
from listener.periodic import periodic_jobs
from listener.scheduler import Scheduler
from listener.store.engine import Store, upgrade
from listener.store.models import DigestSendRow
from tests.digest_seed import seed, write_config


class Node:
    """A daemon process as far as the digest is concerned: a fresh App on the same database and config, and the
    periodic job the daemon schedules for it (run here by hand, on the injected clock)."""

    def __init__(self, config: Path, clock: FakeClock):
        self.app = App(load_settings(config), clock=clock)
        self.app.migrate()
        daemon = Scheduler(self.app)
        daemon.schedule()  # what `listener run` registers with its scheduler
        assert daemon.scheduler.get_job("periodic:digest") is not None
        (self.job,) = [job for job in periodic_jobs(self.app.settings) if job.name == "digest"]

    def digest_job(self) -> None:
        self.job.run(self.app)


def start(config: Path, clock: FakeClock) -> Node:
    return Node(config, clock)


def sends(url: str) -> dict[str, tuple[str, int, str | None]]:
    store = Store(url)
    with store.read() as session:
        rows = {r.period_key: (r.status, r.attempts, r.message_id) for r in session.scalars(select(DigestSendRow))}
    store.dispose()
    return rows


def test_one_digest_per_week_across_restarts_crashes_and_failures(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(url)
    upgrade(store)
    seed(store)
    store.dispose()
    extra = "send_empty = true\n"
    config = write_config(tmp_path, url, smtp_sink.port, extra)
    broken = tmp_path / "broken"
    broken.mkdir()
    broken_config = write_config(broken, url, free_port(), extra)  # nothing listens there: SMTP fails
    clock = FakeClock(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))  # Monday 07:00 in Berlin; due at 08:00

    daemon = start(config, clock)
    daemon.digest_job()
    assert smtp_sink.messages == []  # W48 not due yet; W47's send time is more than LATE_LIMIT ago
    clock.advance(timedelta(hours=1))  # 08:00 Berlin
    daemon.digest_job()
    daemon.digest_job()
    assert [str(m["Message-ID"]) for m in smtp_sink.messages] == ["<listener-digest.2026-W48@acme.example>"]
    daemon.app.close()

    clock.advance(timedelta(minutes=30))  # a restart in the middle of the schedule
    daemon = start(config, clock)
    daemon.digest_job()
    assert len(smtp_sink.messages) == 1
    daemon.app.close()

    # W49: a daemon claims the week and dies before sending. The claim holds until it expires, then a
    # restarted daemon sends — once, with the same Message-ID a half-finished send would have had.
    clock._now = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    crashed = Store(url)
    assert _claim(crashed, "2026-W49", clock.now())
    crashed.dispose()
    daemon = start(config, clock)
    daemon.digest_job()
    assert len(smtp_sink.messages) == 1
    clock.advance(CLAIM_FOR)
    daemon.digest_job()
    daemon.digest_job()
    assert [str(m["Message-ID"]) for m in smtp_sink.messages][1:] == ["<listener-digest.2026-W49@acme.example>"]
    daemon.app.close()

    # W50: the SMTP server is unreachable: recorded as failed, retried after RETRY_AFTER, not skipped.
    clock._now = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
    daemon = start(broken_config, clock)
    daemon.digest_job()
    assert sends(url)["2026-W50"][0] == "failed"
    daemon.app.close()
    daemon = start(config, clock)
    clock.advance(RETRY_AFTER - timedelta(minutes=1))
    daemon.digest_job()
    assert len(smtp_sink.messages) == 2
    clock.advance(timedelta(minutes=1))
    daemon.digest_job()
    daemon.app.close()
    assert len(smtp_sink.messages) == 3
    assert sends(url) == {"2026-W48": ("sent", 1, "<listener-digest.2026-W48@acme.example>"),
                          "2026-W49": ("sent", 2, "<listener-digest.2026-W49@acme.example>"),
                          "2026-W50": ("sent", 2, "<listener-digest.2026-W50@acme.example>")}


def test_an_empty_week_is_recorded_and_not_sent_unless_asked(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    config = write_config(tmp_path, url, smtp_sink.port)
    clock = FakeClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    daemon = start(config, clock)
    daemon.digest_job()
    daemon.digest_job()
    daemon.app.close()
    assert smtp_sink.messages == [] and sends(url) == {"2026-W49": ("skipped", 1, None)}


def test_due_period_follows_weekday_time_and_zone() -> None:
    settings = DigestSettings(weekday="tuesday", time="09:30", timezone="Europe/Berlin")
    zone = settings.zone
    tuesday = datetime(2026, 12, 1, 8, 29, tzinfo=UTC)  # 09:29 in Berlin
    assert due_period(settings, tuesday) is None  # W47's send time was 7 days ago
    assert due_period(settings, tuesday + timedelta(minutes=1)) == iso_week("2026-W48", zone)
    assert due_period(settings, datetime(2026, 12, 4, 8, 30, tzinfo=UTC)) == iso_week("2026-W48", zone)
    assert due_period(settings, datetime(2026, 12, 4, 8, 31, tzinfo=UTC)) is None  # more than 3 days late
