"""Privacy requests: export everything about an author; erase it so that no table holds their name or text, with
past weeks' counts unchanged and an audit record that does not repeat what it erased."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from listener.app import App
from listener.cli import cli
from listener.config import load_settings
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.store.models import MentionBrand, MentionRow, PrivacyAudit, ScoreRow, TaskRow
from tests.dbdump import dump
from tests.flow import write_config

AUTHOR = "kundin_77"
# Words of her post (title, text, link) that appear nowhere else in the sample feeds.
HER_WORDS = ["kundin_77", "sperrt seit einer Woche", "Girokonto", "40 Minuten Warteschleife", "forum.example.de/t/1842"]


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def weekly_counts(app: App) -> list[tuple[object, ...]]:
    """Mentions per (week, brand, sentiment): what the digest's volume and sentiment figures count."""
    week = func.strftime("%Y-%W", MentionRow.published_at) if app.store.engine.dialect.name == "sqlite" \
        else func.to_char(MentionRow.published_at, "IYYY-IW")
    with app.store.read() as session:
        return sorted(tuple(r) for r in session.execute(
            select(week, MentionBrand.brand, ScoreRow.sentiment, func.count())
            .join(MentionBrand).outerjoin(ScoreRow).group_by(week, MentionBrand.brand, ScoreRow.sentiment)))


def test_export_then_erase_leaves_no_trace_and_keeps_counts(tmp_path: Path, feed_server: FeedServer,
                                                            smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                            negative_model: Path, database_url: str) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model, db_url=database_url)
    run(config, "poll")
    run(config, "score")
    app = App(load_settings(config))
    with app.store.read() as session:
        hers = session.scalar(select(MentionRow).where(MentionRow.author == AUTHOR))
        assert hers is not None
        her_id = hers.id
        her_task = session.scalar(select(TaskRow.id).where(TaskRow.mention_id == her_id))
    run(config, "deliver")  # her alerts went out by mail and chat …
    run(config, "tasks", "ack", str(her_task), "--note", f"{AUTHOR} called, wants the account unblocked")
    run(config, "mentions", "label", str(her_id), "negative", "--service", "support", "--by", "anna")
    feed_server.requests.clear()
    before = weekly_counts(app)
    assert all(word in dump(app.store) for word in HER_WORDS)

    exported = json.loads(run(config, "privacy", "export", "--author", AUTHOR, "--by", "dpo"))
    assert [m["id"] for m in exported["mentions"]] == [her_id]
    (record,) = exported["mentions"]
    assert record["author"] == AUTHOR and "Girokonto" in record["text"]
    assert record["label"]["labelled_by"] == "anna" and AUTHOR in record["task"]["note"]
    assert {a["channel"] for a in record["alerts"]} == {"care-mail", "care-chat"}

    out = run(config, "privacy", "erase", "--author", AUTHOR, "--by", "dpo", "--yes")
    assert "mentions 1" in out and "labels 1" in out

    text = dump(app.store)
    for word in HER_WORDS:
        assert word not in text, word
    assert weekly_counts(app) == before  # the mention still counts, anonymously
    with app.store.read() as session:
        audits = list(session.scalars(select(PrivacyAudit).order_by(PrivacyAudit.id)))
        task = session.get_one(TaskRow, her_task)
        assert task.status == "acknowledged" and task.note is None and task.reasons == []
    assert [(a.action, a.by, a.selector) for a in audits] == [("export", "dpo", "author"), ("erase", "dpo", "author")]
    assert audits[1].counts["mentions"] == 1

    # Her post is still in the feed: the next poll does not bring it back.
    feed_server.routes["/forum-de.xml"] = (feed_server.routes["/forum-de.xml"][0] + b"\n", "application/rss+xml")
    run(config, "poll", "--force")
    assert all(word not in dump(app.store) for word in HER_WORDS)
    assert json.loads(run(config, "privacy", "export", "--author", AUTHOR))["mentions"] == []
    app.close()


def test_pseudonymised_authors_are_stored_as_keyed_hashes(
        tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook: WebhookReceiver, negative_model: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, negative_model,
                          extra='\n[privacy]\npseudonymise_authors = true\nauthor_key_secret = "author-key"\n')
    result = CliRunner().invoke(cli, ["-c", str(config), "poll"])
    assert result.exit_code == 1 and "LISTENER_AUTHOR_KEY" in result.output  # no key: refuses, names the secret

    monkeypatch.setenv("LISTENER_AUTHOR_KEY", "k3y-for-tests")
    run(config, "poll")
    app = App(load_settings(config))
    assert AUTHOR not in dump(app.store)
    with app.store.read() as session:
        authors = list(session.scalars(select(MentionRow.author)))
    assert authors and all(a is None or a.startswith("hmac:") for a in authors)

    exported = json.loads(run(config, "privacy", "export", "--author", AUTHOR))
    assert len(exported["mentions"]) == 1 and "Girokonto" in exported["mentions"][0]["text"]
    run(config, "privacy", "erase", "--author", AUTHOR, "--yes")
    assert "Girokonto" not in dump(app.store)
    app.close()


def test_bad_requests_are_refused(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink,
                                  webhook: WebhookReceiver) -> None:
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, "unused")
    for args, message in ((["erase", "--yes"], "exactly one of --author NAME, --url URL or --contact ID"),
                          (["erase", "--author", "a", "--url", "u", "--yes"], "exactly one"),
                          (["export", "--author", "a", "--source", "nope"], "no source named 'nope'")):
        result = CliRunner().invoke(cli, ["-c", str(config), "privacy", *args])
        assert result.exit_code == 2 and message in result.output, result.output
