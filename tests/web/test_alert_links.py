"""`listener run` serves the care inbox beside the scheduler; its e-mail and chat alerts link to the task page
and carry an acknowledge link that confirms with one POST."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from tests.flow import write_config
from tests.test_daemon import wait_for
from tests.tiny_model import build_tiny_model
from tests.web_support import PASSWORD, SECRET_ENV, acknowledge_by_link, alert_links


def test_daemon_serves_the_inbox_and_alert_links_acknowledge(tmp_path: Path, feed_server: FeedServer,
                                                             smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "daemon-test-secret")
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model,
                          extra=f'\n[web]\nlisten = "127.0.0.1:{port}"\nbase_url = "{base}"\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["-c", str(config), "users", "add", "alice", "--role", "agent", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    daemon = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "run"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: len(smtp_sink.messages) == 9 and len(webhook.received) == 9, 90)
        task_url, ack_urls, task_id = alert_links(smtp_sink.messages[0], webhook.received, base)
        acknowledge_by_link(base, "alice", task_url, ack_urls, task_id)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(60) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
        output = daemon.communicate()[0]
    assert "event=web_started" in output and "event=stopped" in output
    assert "$argon2" not in output
    tasks = runner.invoke(cli, ["-c", str(config), "tasks", "list", "--status", "acknowledged"]).output
    assert f"#{task_id} " in tasks


def test_daemon_refuses_to_start_the_inbox_without_its_secret(tmp_path: Path, feed_server: FeedServer,
                                                              smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model,
                          extra=f'\n[web]\nlisten = "127.0.0.1:{free_port()}"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "run"])
    assert result.exit_code == 1 and "LISTENER_WEB_SESSION_SECRET" in result.output
    assert not feed_server.requests  # nothing was polled: the start failed before the jobs
