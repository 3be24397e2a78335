"""`listener run` as systemd runs it: READY=1, a complaint becomes an alert within one poll, SIGTERM exits 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from tests.flow import write_config
from tests.tiny_model import build_tiny_model


def wait_for(condition, timeout: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_daemon_notifies_systemd_alerts_and_stops_cleanly(tmp_path: Path, feed_server: FeedServer,
                                                          smtp_sink: SmtpSink, webhook: WebhookReceiver) -> None:
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model,
                          extra='\n[daemon]\nscore_every = "1h"\ndeliver_every = "1h"\n')
    notify_path = str(tmp_path / "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(60)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    daemon = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "run"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert notify.recv(4096).startswith(b"READY=1")
        # Scoring and delivery run every hour here; they are woken by new mentions and new tasks instead.
        assert wait_for(lambda: len(smtp_sink.messages) == 9 and len(webhook.received) == 9, 60), \
            (len(smtp_sink.messages), len(webhook.received))
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0
        assert notify.recv(4096).startswith(b"STOPPING=1")
    finally:
        if daemon.poll() is None:
            daemon.kill()
        output = daemon.communicate()[0]
        notify.close()
    assert "event=stopped" in output
    assert "event=polled source=verbraucherforum" in output


def test_daemon_refuses_to_start_without_its_model(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                                   webhook: WebhookReceiver) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, tmp_path / "no-such-model")
    result = subprocess.run([sys.executable, "-m", "listener", "-c", str(config), "run"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "cannot load model" in result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT])
def test_sigint_also_stops_cleanly(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                   webhook: WebhookReceiver, signum: int) -> None:
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"])
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model)
    daemon = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "run"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: feed_server.hits("/reviews-en.xml") >= 1, 60)
        daemon.send_signal(signum)
        assert daemon.wait(60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        daemon.communicate()


def test_a_wake_while_its_job_runs_runs_the_job_again(tmp_path: Path, feed_server: FeedServer,
                                                      smtp_sink: SmtpSink, webhook: WebhookReceiver) -> None:
    """A second poll's wake arriving while scoring runs is skipped by the scheduler (one instance per job); the
    job must score once more instead of leaving those mentions for `score_every` (an hour here). This lost wake
    once left 5 of 9 alerts undelivered in the daemon test above."""
    from listener.app import App
    from listener.config import load_settings
    from listener.scheduler import Scheduler

    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model,
                          extra='\n[daemon]\nscore_every = "1h"\ndeliver_every = "1h"\n')
    app = App(load_settings(config))
    app.migrate()
    scheduler = Scheduler(app)
    scheduler.schedule()
    runs: list[int] = []
    score = app.score

    def score_while_a_poll_arrives(claim: bool = False):  # noqa: ANN202
        runs.append(len(runs))
        if len(runs) == 1:
            app.poll()  # mentions stored while scoring runs …
            scheduler._wake("score")  # … and the poll's wake, which the scheduler would skip
        return score(claim)

    app.score = score_while_a_poll_arrives  # type: ignore[method-assign]
    scheduler.score_job()
    assert runs == [0, 1]  # scored again, once
    scheduler.deliver_job()
    assert len(smtp_sink.messages) == 9 and len(webhook.received) == 9
