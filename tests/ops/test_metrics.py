"""/metrics after a poll → score → deliver cycle; /healthz and /readyz, also while the database is down."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from listener.app import App
from listener.clock import FakeClock
from listener.config import load_settings
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from listener.ops.health import Probes
from listener.ops.server import Endpoints, OpsServer
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow
from tests.flow import write_config
from tests.ops.helpers import ThrowawayPostgres, scrape, total, value


def serve(app: App, scheduler_running: bool = True) -> OpsServer:
    probes = Probes(app.store, lambda: app.scorer_loaded, lambda: scheduler_running)
    return OpsServer("127.0.0.1:0", Endpoints(probes, app.clock))


def test_a_cycle_moves_the_counters_and_the_gauges(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                                  webhook: WebhookReceiver, negative_model: Path) -> None:
    clock = FakeClock(datetime.now(UTC))  # the sample feeds are served as if read now
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model)
    app = App(load_settings(config), clock=clock)
    app.migrate()
    server = serve(app)
    base = f"http://127.0.0.1:{server.port}"
    try:
        before = scrape(base)
        assert value(before, "listener_database_up") == 1
        polled = app.poll()
        after_poll = scrape(base)
        stored = sum(r.stored for r in polled)
        assert stored > 0
        for report in polled:
            name = report.source
            assert value(after_poll, "listener_polls_total", source=name, outcome="ok") == \
                value(before, "listener_polls_total", source=name, outcome="ok") + 1
            assert value(after_poll, "listener_mentions_stored_total", source=name) - \
                value(before, "listener_mentions_stored_total", source=name) == report.stored
            assert value(after_poll, "listener_mentions_unmatched_total", source=name) - \
                value(before, "listener_mentions_unmatched_total", source=name) == report.unmatched
        assert value(after_poll, "listener_mentions_unscored") == stored  # the backlog, read from the database

        scored = app.score()
        after_score = scrape(base)
        assert value(after_score, "listener_mentions_unscored") == 0
        assert value(after_score, "listener_mentions_scored_total", sentiment="negative") - \
            value(after_poll, "listener_mentions_scored_total", sentiment="negative") == scored.scored
        assert value(after_score, "listener_score_batch_seconds_count") > value(after_poll,
                                                                                "listener_score_batch_seconds_count")
        assert total(after_score, "listener_tasks_created_total") - \
            total(after_poll, "listener_tasks_created_total") == scored.tasks
        assert value(after_score, "listener_alerts_queued", channel="care-mail", status="pending") == scored.tasks

        clock.advance(timedelta(minutes=20))  # past the 15-minute first response
        delivered = app.deliver()
        after = scrape(base)
        assert delivered.sent == 2 * scored.tasks
        for channel in ("care-mail", "care-chat"):
            assert value(after, "listener_alerts_total", channel=channel, outcome="sent") - \
                value(after_score, "listener_alerts_total", channel=channel, outcome="sent") == scored.tasks
            assert value(after, "listener_mention_to_alert_seconds_count", channel=channel) - \
                value(after_score, "listener_mention_to_alert_seconds_count", channel=channel) == scored.tasks
            assert value(after, "listener_alerts_queued", channel=channel, status="pending") == 0
        assert total(after, "listener_tasks_overdue") == scored.tasks
        assert total(after, "listener_build_info") == 1

        # Label values are configured names and outcomes: never mention text, authors, URLs or secrets.
        page = httpx.get(base + "/metrics").text
        with app.store.read() as session:
            leaks = [(m.id, part) for m in session.query(MentionRow) for part in (m.title, m.author, m.url)
                     if part and len(part) > 3 and part in page]
        assert leaks == []
        assert webhook.url not in page and feed_server.base_url not in page
    finally:
        server.close()
        app.close()


def test_healthz_and_readyz(tmp_path: Path, store: Store) -> None:
    running = {"scheduler": True}
    probes = Probes(store, lambda: True, lambda: running["scheduler"])
    server = OpsServer("127.0.0.1:0", Endpoints(probes, FakeClock()))
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert httpx.get(base + "/healthz").text == "ok\n"
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        running["scheduler"] = False
        ready = httpx.get(base + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["scheduler"] == {"ok": False, "detail": "not running"}
        assert httpx.get(base + "/nothing").status_code == 404
    finally:
        server.close()


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    reason = ThrowawayPostgres.unavailable_reason()
    if reason:
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="listener-ops-pg-"))  # not under pytest's 0700 tmp: postgres must read it
    pg = ThrowawayPostgres(root, free_port()).init()
    pg.start()
    try:
        yield pg
    finally:
        try:
            pg.stop()
        except Exception:  # noqa: BLE001 - already stopped by the test
            pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.postgres
def test_readyz_fails_while_the_database_is_down_and_recovers(own_postgres: ThrowawayPostgres) -> None:
    store = Store(own_postgres.url)
    upgrade(store)
    probes = Probes(store, lambda: True, lambda: True)
    server = OpsServer("127.0.0.1:0", Endpoints(probes, FakeClock()))
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert httpx.get(base + "/readyz").status_code == 200
        own_postgres.stop()
        down = httpx.get(base + "/readyz", timeout=30)
        assert down.status_code == 503
        assert down.json()["checks"]["database"]["ok"] is False
        assert own_postgres.url not in down.text  # the error names its type, not the connection string
        assert not all(c.ok for c in probes.liveness())  # the watchdog withholds its ping meanwhile
        assert httpx.get(base + "/healthz").status_code == 200  # the process itself is alive
        assert value(scrape(base), "listener_database_up") == 0  # /metrics still answers
        own_postgres.start()
        assert httpx.get(base + "/readyz", timeout=30).status_code == 200
        assert value(scrape(base), "listener_database_up") == 1
    finally:
        server.close()
        store.dispose()


def test_a_listen_address_in_use_or_malformed_is_named(store: Store) -> None:
    from listener.config import ConfigError, parse_settings
    from listener.ops.server import ListenError

    first = OpsServer("127.0.0.1:0", Endpoints(Probes(store, lambda: True, lambda: True), FakeClock()))
    try:
        with pytest.raises(ListenError, match=f"metrics.listen 127.0.0.1:{first.port}: cannot listen"):
            OpsServer(f"127.0.0.1:{first.port}", first.httpd.endpoints)  # type: ignore[attr-defined]
    finally:
        first.close()
    with pytest.raises(ConfigError) as error:
        parse_settings({"metrics": {"listen": "9464"}})
    assert error.value.problems == [("metrics.listen", "expected host:port like '127.0.0.1:9464', got '9464'")]


def test_a_failing_source_shows_its_failures_and_backoff(tmp_path: Path, feed_server: FeedServer,
                                                         smtp_sink: SmtpSink, webhook: WebhookReceiver) -> None:
    clock = FakeClock()
    app = App(load_settings(write_config(tmp_path, feed_server, smtp_sink.port, webhook, "unused")), clock=clock)
    app.migrate()
    server = serve(app)
    base = f"http://127.0.0.1:{server.port}"
    feed_server.fail["/forum-de.xml"] = (503, {"Retry-After": "600"}, b"down")
    try:
        before = scrape(base)
        app.poll(["verbraucherforum"])
        failed = scrape(base)
        assert value(failed, "listener_polls_total", source="verbraucherforum", outcome="failed") == \
            value(before, "listener_polls_total", source="verbraucherforum", outcome="failed") + 1
        assert value(failed, "listener_source_consecutive_failures", source="verbraucherforum") == 1
        assert value(failed, "listener_source_backoff_seconds", source="verbraucherforum") >= 600  # Retry-After
        clock.advance(timedelta(minutes=5))
        app.poll(["verbraucherforum"])  # still backing off: not polled
        skipped = scrape(base)
        assert value(skipped, "listener_polls_total", source="verbraucherforum", outcome="skipped") == \
            value(before, "listener_polls_total", source="verbraucherforum", outcome="skipped") + 1
        assert 290 <= value(skipped, "listener_source_backoff_seconds", source="verbraucherforum") <= \
            value(failed, "listener_source_backoff_seconds", source="verbraucherforum") - 299
    finally:
        server.close()
        app.close()
