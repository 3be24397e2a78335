"""Delivery: retries with backoff, exactly-once after an outage, parking, idempotency keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from listener.app import App
from listener.clock import FakeClock
from listener.config import load_settings
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from listener.store.models import AlertRow
from tests.flow import alert_statuses, write_config


def test_smtp_outage_waits_then_delivers_each_alert_exactly_once(tmp_path: Path, feed_server: FeedServer,
                                                                  webhook: WebhookReceiver,
                                                                  negative_model: Path) -> None:
    port = free_port()  # nothing listens here yet: the mail server is down
    clock = FakeClock()
    app = App(load_settings(write_config(tmp_path, feed_server, port, webhook, negative_model)), clock=clock)
    app.migrate()
    app.poll(["moneytalk"])
    app.score()

    report = app.deliver()
    assert report.sent == 5 and report.failed == 5  # chat works, mail does not
    assert alert_statuses(app) == {"sent": 5, "pending": 5}
    assert app.deliver().sent == 0  # not due yet: backing off

    with SmtpSink(port) as smtp:
        clock.advance(timedelta(seconds=31))
        assert app.deliver().sent == 5
        clock.advance(timedelta(hours=2))
        assert app.deliver().sent == 0
        assert len(smtp.messages) == 5
        assert len({m["Message-ID"] for m in smtp.messages}) == 5
    assert len(webhook.received) == 5
    assert alert_statuses(app) == {"sent": 10}
    app.close()


def test_a_failing_alert_is_parked_visibly_and_can_be_retried(tmp_path: Path, feed_server: FeedServer,
                                                              smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                              negative_model: Path) -> None:
    extra = '\n[delivery]\nmax_attempts = 3\nbackoff = "10s"\n'
    clock = FakeClock()
    app = App(load_settings(write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model, extra)),
              clock=clock)
    app.migrate()
    app.poll(["moneytalk"])
    app.score()
    webhook.status = 500
    for _ in range(3):
        app.deliver()
        clock.advance(timedelta(minutes=5))
    assert alert_statuses(app) == {"sent": 5, "parked": 5}
    with app.store.read() as session:
        parked = session.query(AlertRow).filter_by(status="parked").all()
        assert all(a.attempts == 3 and "HTTP 500" in (a.last_error or "") for a in parked)
        assert all(webhook.url not in (a.last_error or "") for a in parked)  # the URL is a secret
    webhook.status = 200
    from listener.delivery.outbox import retry_parked

    with app.store.write() as session:
        assert retry_parked(session, None, clock.now()) == 5
    assert app.deliver().sent == 5
    assert len(webhook.received) == 5
    app.close()


def test_a_crash_while_sending_is_retried_after_the_claim_expires(tmp_path: Path, feed_server: FeedServer,
                                                                  smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                                  negative_model: Path) -> None:
    clock = FakeClock()
    app = App(load_settings(write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model)),
              clock=clock)
    app.migrate()
    app.poll(["moneytalk"])
    app.score()
    # Simulate a deliverer that claimed everything and died before sending.
    from listener.delivery.outbox import _claim

    claimed = _claim(app.store, app.settings.delivery, clock.now())
    assert len(claimed) == 10
    assert app.deliver().sent == 0  # still claimed by the dead worker
    clock.advance(app.settings.delivery.claim_timeout + timedelta(seconds=1))
    assert app.deliver().sent == 10
    assert len(smtp_sink.messages) == 5
    app.close()
