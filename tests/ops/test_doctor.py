"""`listener doctor`: one line per check against real servers; non-zero exit when a check fails; stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner

from listener.app import App
from listener.cli import cli
from listener.config import load_settings
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from listener.store.engine import Store, alembic_config
from listener.store.models import MentionRow, SourceRow
from tests.flow import write_config
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model"), labels=["negative", "neutral", "positive"])


def doctor(config: Path, *args: str) -> tuple[int, dict[str, str]]:
    result = CliRunner().invoke(cli, ["-c", str(config), "doctor", *args])
    lines = {}
    for line in result.output.splitlines():
        status, _, rest = line.partition("  ")
        if status.strip() not in ("ok", "warn", "FAIL"):
            continue  # a library's warning on stderr
        name = rest.strip()[:28].strip()
        lines[name] = f"{status.strip()} {rest.strip()}"
    return result.exit_code, lines


def test_a_healthy_installation(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                webhook: WebhookReceiver, model: Path) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model)
    app = App(load_settings(config))
    app.migrate()
    code, lines = doctor(config)
    assert code == 0, lines
    assert set(lines) == {"config", "database", "model", "channel care-mail", "channel care-chat",
                          "source verbraucherforum", "source moneytalk", "disk database", "disk model cache", "clock"}
    assert all(line.startswith(("ok ", "warn ")) for line in lines.values()), lines
    head = ScriptDirectory.from_config(alembic_config(Store("sqlite://"))).get_current_head()
    assert f"schema at {head}" in lines["database"]  # the migration head of this version
    assert "items fetched" in lines["source moneytalk"]
    assert "SMTP 127.0.0.1" in lines["channel care-mail"] and webhook.url not in lines["channel care-chat"]
    assert feed_server.hits("/reviews-en.xml") == 1  # one real poll …
    with app.store.read() as session:  # … and nothing stored, no cursor advanced
        assert session.query(MentionRow).count() == 0 and session.query(SourceRow).count() == 0
    assert smtp_sink.messages == [] and webhook.received == []  # connected, nothing sent

    code, lines = doctor(config, "--send-test")
    assert code == 0 and "test alert sent" in lines["channel care-mail"]
    assert len(smtp_sink.messages) == 1
    assert "This is a test of the alert channel." in smtp_sink.messages[0].get_body(("plain",)).get_content()
    assert len(webhook.received) == 1
    app.close()


def test_failures_are_named_and_exit_non_zero(tmp_path: Path, feed_server: FeedServer, webhook: WebhookReceiver,
                                              model: Path) -> None:
    config = write_config(tmp_path, feed_server, free_port(), webhook, model)  # no mail server listens there
    feed_server.fail["/forum-de.xml"] = (503, {}, b"down for maintenance")
    code, lines = doctor(config)
    assert code == 1
    assert lines["channel care-mail"].startswith("FAIL") and "ConnectionRefusedError" in lines["channel care-mail"]
    assert lines["source verbraucherforum"].startswith("FAIL") and "503" in lines["source verbraucherforum"]
    assert lines["source moneytalk"].startswith("ok")
    assert lines["database"].startswith("warn") and "no schema yet" in lines["database"]  # never migrated here


def test_a_config_with_errors(tmp_path: Path) -> None:
    config = tmp_path / "listener.toml"
    config.write_text('[[source]]\nname = "x"\nkind = "feed"\nurl = "http://127.0.0.1:9/feed"\nevery = "often"\n')
    code, lines = doctor(config)
    assert code == 1
    assert lines["config"].startswith("FAIL") and "source[0].every" in lines["config"]
