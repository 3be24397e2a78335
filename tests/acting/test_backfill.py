"""A new source's history pages nobody ([[rule]] max_age, listener/acting/backfill.py), and `listener db upgrade`
says what it did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.command import sample_feeds
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.store.engine import Store, alembic_config, upgrade
from tests.flow import write_config

FRESH = """  <entry>
    <title>Acme Bank blocked my card again</title>
    <id>https://moneytalk.example.com/p/fresh-1</id>
    <link href="https://moneytalk.example.com/p/fresh-1"/>
    <author><name>fresh_fred</name></author>
    <published>{when}</published>
    <updated>{when}</updated>
    <content type="html">Acme Bank blocked my card for the third time this month and support never answers.</content>
  </entry>
"""


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_backfilled_feed_is_stored_and_scored_but_creates_no_task(tmp_path: Path, negative_model: Path,
                                                                     smtp_sink: SmtpSink,
                                                                     webhook: WebhookReceiver) -> None:
    now = datetime.now(UTC)
    routes = sample_feeds(now - timedelta(weeks=8))  # the samples' newest posts eight weeks old
    body, ctype = routes["/reviews-en.xml"]
    fresh = FRESH.format(when=(now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    routes["/reviews-en.xml"] = (body.replace(b"  <entry>", fresh.encode() + b"  <entry>", 1), ctype)
    with FeedServer(routes) as feeds:
        config = write_config(tmp_path, feeds, smtp_sink.port, webhook, negative_model)
        out = run(config, "poll", "--backfill")
    stored = sum(int(line.split(" new,")[0].rsplit(" ", 1)[1]) for line in out.splitlines() if " new," in line)
    mentions = json.loads(run(config, "mentions", "list", "--json", "--limit", "1000"))
    assert stored == len(mentions) >= 10
    assert all(m["sentiment"] == "negative" for m in mentions)  # every one scored (the model says negative)
    tasks = json.loads(run(config, "tasks", "list", "--status", "all", "--json"))
    assert [t["url"] for t in tasks] == ["https://moneytalk.example.com/p/fresh-1"]  # only the fresh post
    old_acme = [m for m in mentions if "Acme" in m["brands"] and m["url"] != "https://moneytalk.example.com/p/fresh-1"
                and m["canonical_id"] is None]  # what the rule (negative, about Acme) would have paged for
    assert f"1 tasks, 2 alerts queued; {len(old_acme)} kept quiet" in out, out
    run(config, "deliver")
    assert len(smtp_sink.messages) == 1 and len(webhook.received) == 1


def test_max_age_is_per_rule(tmp_path: Path, negative_model: Path, smtp_sink: SmtpSink,
                             webhook: WebhookReceiver) -> None:
    routes = sample_feeds(datetime.now(UTC) - timedelta(days=5))
    with FeedServer(routes) as feeds:
        config = write_config(tmp_path, feeds, smtp_sink.port, webhook, negative_model)
        text = config.read_text().replace('first_response = "15m" }\nnotify = ["care-mail", "care-chat"]\n',
                                          'first_response = "15m" }\nnotify = ["care-mail", "care-chat"]\n'
                                          'max_age = "8d"\n', 1)
        config.write_text(text)
        out = run(config, "poll", "--backfill")
    assert "kept quiet" in out and " 0 tasks" not in out, out  # five days old: within the first rule's 8 days


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(url)
    upgrade(store, "0004")
    head = ScriptDirectory.from_config(alembic_config(store)).get_current_head()
    store.dispose()
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    assert f"upgraded 0004 → {head}" in run(config, "db", "upgrade")
    assert f"is up to date ({head})" in run(config, "db", "upgrade")
    empty = tmp_path / "empty.toml"
    empty.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "new.db"}"\n')
    assert f"upgraded an empty database → {head}" in run(empty, "db", "upgrade")
