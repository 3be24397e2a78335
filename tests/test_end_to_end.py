"""A post in a feed becomes a stored mention, a score, a task, an email and a chat message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from tests.flow import write_config
from tests.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def negative_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A tiny BERT whose classifier bias makes every text clearly "negative" — the model is not what is tested here.
    return build_tiny_model(tmp_path_factory.mktemp("model"), labels=["negative", "neutral", "positive"],
                            bias=[4.0, 0.0, 0.0])


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_feed_post_to_email_and_chat(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                     webhook: WebhookReceiver, negative_model: Path, database_url: str) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model, db_url=database_url)

    out = run(config, "poll")
    assert "verbraucherforum: 6 fetched, 5 new" in out and "moneytalk: 6 fetched, 5 new" in out
    mentions = json.loads(run(config, "mentions", "list", "--json"))
    assert len(mentions) == 10
    assert {m["sentiment"] for m in mentions} == {None}
    assert not any("hiking" in (m["title"] or "") for m in mentions)  # about no brand: not stored
    globex = [m for m in mentions if m["brands"] == ["Globex"]]
    assert len(globex) == 1  # competitors are stored too

    out = run(config, "score")
    assert "scored 10 mentions" in out
    tasks = json.loads(run(config, "tasks", "list", "--json"))
    # The rule is for Acme only: 9 Acme mentions, all negative under this model → 9 tasks, 18 alerts.
    assert len(tasks) == 9
    # "negative" rule → P2; the "urgent" rule raises complaints that triage rates P1 (escalation cues) to P1.
    assert {t["priority"] for t in tasks} <= {"P1", "P2"} and {t["status"] for t in tasks} == {"open"}
    assert all(t["due_at"] and t["reasons"] for t in tasks)
    assert "queued" in out and "18 alerts" in out

    out = run(config, "deliver")
    assert "sent 18" in out
    assert len(smtp_sink.messages) == 9 and len(webhook.received) == 9
    assert smtp_sink.envelopes[0] == ("listener@acme.example", ["care@acme.example"])
    email = smtp_sink.messages[0]
    # Threatens to cancel and to go to the Verbraucherzentrale: triage says P1, the "urgent" rule makes it a P1 task.
    assert str(email["Subject"]).strip().startswith("[P1] Acme on verbraucherforum: Acme Bank sperrt")
    assert email.get_body(("plain",)) is not None and email.get_body(("html",)) is not None
    assert webhook.received[0]["text"].startswith("*P1*")
    assert webhook.headers[0]["Idempotency-Key"] == webhook.received[0]["listener"]["idempotency_key"]

    # Polling again stores nothing new and sends nothing new.
    assert "not modified" in run(config, "poll")
    assert "scored 0 mentions" in run(config, "score")
    assert "sent 0" in run(config, "deliver")
    assert len(smtp_sink.messages) == 9 and len(webhook.received) == 9

    # The care agent works the task.
    first = tasks[0]["id"]
    assert "acknowledged" in run(config, "tasks", "ack", str(first))
    assert "resolved" in run(config, "tasks", "resolve", str(first), "--note", "refund issued")
    remaining = json.loads(run(config, "tasks", "list", "--json"))
    assert first not in {t["id"] for t in remaining}


def test_untrusted_text_is_escaped_in_email_and_chat(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                                      webhook: WebhookReceiver, negative_model: Path) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model)
    run(config, "poll", "--source", "moneytalk")
    run(config, "score")
    run(config, "deliver")
    hostile = [m for m in smtp_sink.messages if "fake" in m["Subject"]]
    assert hostile
    html = hostile[0].get_body(("html",)).get_content()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    chats = [p["text"] for p in webhook.received if "fake" in p["text"]]
    assert chats and "<img" not in chats[0]


def test_config_check_names_the_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[source]]\nname = "x"\nkind = "feed"\nurl = "https://e.org/f"\nevery = "often"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "config", "check"])
    assert result.exit_code == 1
    assert "source[0].every" in result.output


def test_demo_runs_the_whole_flow_on_the_shipped_samples(tmp_path: Path, negative_model: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--model", str(negative_model), "--dir", str(tmp_path), "--no-web"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "verbraucherforum: 6 posts fetched, 5 about our brands stored, 1 about no brand dropped" in result.output
    assert "alerts: 18 of 18 sent" in result.output
    assert "emails received by the local SMTP server: 9" in result.output
    assert (tmp_path / "listener.toml").exists() and (tmp_path / "demo.db").exists()


def test_demo_samples_are_moved_to_now() -> None:
    from datetime import UTC, datetime

    from listener.demo.command import sample_feeds

    now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    forum = sample_feeds(now)["/forum-de.xml"][0].decode()
    assert "<pubDate>Sat, 01 Jun 2030 04:58:00 +0000</pubDate>" in forum  # 01:58 on a morning read at 09:00
