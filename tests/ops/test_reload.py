"""SIGHUP re-reads the config: new intervals, sources and rules apply; a broken file keeps the running config.
The same daemon run checks the systemd protocol (READY, WATCHDOG, RELOADING), the ops server and JSON logs."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from listener.app import App
from listener.config import load_settings
from listener.daemon import Daemon
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from listener.scheduler import Scheduler
from listener.store.models import TaskRow
from tests.flow import write_config
from tests.ops.helpers import NotifySocket, scrape, total, wait_for

NEW_RULE = """
[[rule]]
name = "competitor-watch"
when = { brands = ["Globex"] }
task = { priority = "P3", first_response = "1d" }
notify = ["care-chat"]
"""
BROKEN_RULE = """
[[rule]]
name = "broken"
when = { sentiment = "furious" }
"""


def late_source(url: str) -> str:
    return f'\n[[source]]\nname = "late"\nkind = "feed"\nurl = "{url}"\nevery = "10m"\n'


def poll_interval(daemon: Daemon, source: str) -> timedelta:
    assert isinstance(daemon.runner, Scheduler)
    job = daemon.runner.scheduler.get_job(f"poll:{source}")
    assert job is not None, source
    return job.trigger.interval


def test_reload_applies_a_new_interval_source_and_rule_and_refuses_a_broken_file(
        tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook: WebhookReceiver,
        negative_model: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model)
    app = App(load_settings(config))
    app.migrate()
    scheduler = Scheduler(app)
    daemon = Daemon(app, config, scheduler)
    scheduler.schedule()
    scheduler.scheduler.start(paused=True)  # jobs are scheduled but do not run: the test drives the stages
    try:
        assert poll_interval(daemon, "moneytalk") == timedelta(minutes=5)
        original = config.read_text()
        changed = original.replace('reviews-en.xml"\nevery = "5m"', 'reviews-en.xml"\nevery = "1m"')
        assert changed != original
        changed += NEW_RULE + late_source(feed_server.url("/forum-de.xml"))
        config.write_text(changed)

        assert daemon.reload()
        assert poll_interval(daemon, "moneytalk") == timedelta(minutes=1)
        assert poll_interval(daemon, "late") == timedelta(minutes=10)
        assert poll_interval(daemon, "verbraucherforum") == timedelta(minutes=5)
        assert "late" in app.sources
        app.poll(["moneytalk", "verbraucherforum"])
        app.score()
        with app.store.read() as session:
            rules = {t.rule for t in session.query(TaskRow)}
        assert "competitor-watch" in rules  # the new rule made tasks

        running = app.settings
        config.write_text(changed + BROKEN_RULE)
        with caplog.at_level(logging.ERROR, logger="listener.ops.reload"):
            assert not daemon.reload()
        assert app.settings is running  # the running config stays …
        assert poll_interval(daemon, "moneytalk") == timedelta(minutes=1)
        assert "event=reload_refused" in caplog.text and "rule[3].when.sentiment" in caplog.text  # … the key named

        config.write_text(original)  # back: the extra source's job goes, the interval returns
        assert daemon.reload()
        assert scheduler.scheduler.get_job("poll:late") is None and "late" not in app.sources
        assert poll_interval(daemon, "moneytalk") == timedelta(minutes=5)
    finally:
        scheduler.scheduler.shutdown(wait=False)
        app.close()


def test_sighup_reloads_a_running_daemon(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                         webhook: WebhookReceiver, negative_model: Path) -> None:
    port = free_port()
    extra = f'\n[metrics]\nlisten = "127.0.0.1:{port}"\n\n[log]\nformat = "json"\n'
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model, extra=extra)
    feed_server.routes["/late.xml"] = (feed_server.routes["/forum-de.xml"][0], "application/rss+xml")
    notify = NotifySocket(tmp_path / "notify.sock")
    env = dict(os.environ, NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="1000000")  # WatchdogSec=1s
    daemon = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "run"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: notify.count("READY=1") == 1, 90)
        assert wait_for(lambda: notify.count("WATCHDOG=1") >= 2, 10)  # pinged every 0.5 s while healthy
        assert httpx.get(base + "/readyz").json()["ready"] is True
        assert wait_for(lambda: total(scrape(base), "listener_polls_total", source="moneytalk") >= 1, 30)
        metrics = scrape(base)
        assert total(metrics, "listener_model_info") == 1

        config.write_text(config.read_text() + NEW_RULE + late_source(feed_server.url("/late.xml")))
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: feed_server.hits("/late.xml") >= 1, 30)  # the new source is polled at once
        assert wait_for(lambda: notify.count("RELOADING=1") == 1 and notify.count("READY=1") == 2, 10)
        assert wait_for(lambda: total(scrape(base), "listener_reloads_total", outcome="applied") == 1, 10)

        config.write_text(config.read_text() + BROKEN_RULE)
        daemon.send_signal(signal.SIGHUP)
        assert wait_for(lambda: total(scrape(base), "listener_reloads_total", outcome="refused") == 1, 10)
        assert daemon.poll() is None and httpx.get(base + "/readyz").status_code == 200  # still serving
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        output = daemon.communicate()[0]
        notify.close()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == len(output.splitlines()), output[:2000]  # [log] format = "json": every line is JSON
    events = {line.get("event") for line in lines}
    assert {"started", "reloaded", "reload_refused", "stopped"} <= events
    refused = next(line for line in lines if line.get("event") == "reload_refused")
    assert refused["level"] == "error" and "rule[3].when.sentiment" in refused["problems"]
    polled = next(line for line in lines if line.get("event") == "polled")
    assert polled["source"] in ("moneytalk", "verbraucherforum", "late") and isinstance(polled["fetched"], int)
