"""`listener run` serves the care inbox beside the scheduler; its e-mail and chat alerts link to the task page
and carry an acknowledge link that confirms with one POST."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from tests.flow import write_config
from tests.test_daemon import wait_for
from tests.tiny_model import build_tiny_model
from tests.web_support import PASSWORD, SECRET_ENV, csrf_of, sign_in


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
        email = smtp_sink.messages[0]
        text = email.get_body(("plain",)).get_content()
        html = email.get_body(("html",)).get_content()
        task_url = re.search(rf"Task:\s+({re.escape(base)}/tasks/(\d+))", text)
        ack_url = re.search(rf"Acknowledge:\s+({re.escape(base)}/ack/\S+)", text)
        assert task_url and ack_url, text
        assert f'href="{task_url.group(1)}"' in html and f'href="{ack_url.group(1)}"' in html
        task_id = int(task_url.group(2))
        chat = next(w["text"] for w in webhook.received if f"<{task_url.group(1)}|" in w["text"])
        assert f"<{task_url.group(1)}|open the task>" in chat and f"<{ack_url.group(1)}|acknowledge>" in chat

        with httpx.Client(base_url=base, timeout=20) as client:
            assert sign_in(client, "alice").status_code == 303
            confirm = client.get(ack_url.group(1))
            assert confirm.status_code == 200 and f"Acknowledge task #{task_id}" in confirm.text
            assert client.post(ack_url.group(1), data={"csrf": csrf_of(confirm.text)}).status_code == 303
            assert "acknowledged" in client.get(task_url.group(1)).text
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
