"""The care team's labels: stored beside the model's score, exported in the eval format, read back by eval/train."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.labels import LabelError, export_labels, label_mention, remove_label
from listener.nlp.categories import row_targets
from listener.nlp.train.evaluate import read_tsv
from listener.store.engine import Store
from listener.store.models import MentionBrand, MentionRow, SourceRow
from tests.flow import write_config
from tests.tiny_model import build_tiny_model

NOW = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def add_mentions(store: Store, *texts: tuple[str | None, str, str]) -> list[int]:
    """Mentions (title, text, brand) in one forum source; returns their ids."""
    with store.write() as session:
        source = SourceRow(name="forum", kind="feed", cursor={})
        session.add(source)
        session.flush()
        rows = [MentionRow(source_id=source.id, source_kind="feed", external_id=f"post-{i}", title=title, text=text,
                           fetched_at=NOW, content_hash=f"h{i}", brands=[MentionBrand(brand=brand)])
                for i, (title, text, brand) in enumerate(texts)]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def test_label_is_validated_replaced_and_removed(store: Store) -> None:
    (mid,) = add_mentions(store, (None, "Die Hotline legt einfach auf.", "Acme"))
    with store.write() as session:
        with pytest.raises(LabelError, match="no mention #999"):
            label_mention(session, 999, "negative", [], None, NOW)
        with pytest.raises(LabelError, match="is negative"):
            label_mention(session, mid, "positive", ["support"], None, NOW)
        with pytest.raises(LabelError, match="unknown service category 'hotline'"):
            label_mention(session, mid, "negative", ["hotline"], None, NOW)
        with pytest.raises(LabelError, match="sentiment 'angry'"):
            label_mention(session, mid, "angry", [], None, NOW)
        label_mention(session, mid, "neutral", [], "anna", NOW)
    with store.write() as session:
        label = label_mention(session, mid, "negative", ["staff", "support", "support"], "ben", NOW)
        assert label.service_categories == ["support", "staff"] and label.negative_service
    with store.read() as session:
        row = session.get_one(MentionRow, mid)
        assert row.label is not None and (row.label.sentiment, row.label.labelled_by) == ("negative", "ben")
    with store.write() as session:
        assert remove_label(session, mid) and not remove_label(session, mid)
    with store.read() as session:
        assert session.get_one(MentionRow, mid).label is None


def test_export_reads_back_as_eval_and_training_data(store: Store, tmp_path: Path) -> None:
    ids = add_mentions(
        store,
        ("Abzocke", 'Zwei Mal abgebucht\tund die "Hotline"\nlegt auf.', "Acme"),
        (None, "Lovely staff at the Leeds branch.", "Acme"),
        (None, "Globex lost my parcel.", "Globex"),
        (None, "Not labelled.", "Acme"),
    )
    with store.write() as session:
        label_mention(session, ids[0], "negative", ["billing", "support"], None, NOW)
        label_mention(session, ids[1], "positive", [], None, NOW)
        label_mention(session, ids[2], "negative", ["delivery"], None, NOW)
    path = tmp_path / "labels.tsv"
    with store.read() as session, path.open("w", encoding="utf-8") as fh:
        assert export_labels(session, fh) == 3
    rows = read_tsv(path)
    assert [r["id"] for r in rows] == [f"mention-{i}" for i in ids[:3]]
    # The text the scorer sees (title, then body), on one line: the format has no quoting.
    assert rows[0]["text"] == 'Abzocke Zwei Mal abgebucht und die "Hotline" legt auf.'
    # No taxonomy needed: the aspects name the categories themselves.
    assert [row_targets(r, {}) for r in rows] == [(True, ("support", "billing")), (False, ()), (True, ("delivery",))]

    with store.read() as session:
        only_acme = io.StringIO()
        assert export_labels(session, only_acme, brand="Acme") == 2


def test_a_time_cut_splits_training_labels_from_held_out_ones(store: Store) -> None:
    ids = add_mentions(store, (None, "Hotline nie erreichbar.", "Acme"), (None, "All good, thanks!", "Acme"))
    with store.write() as session:
        label_mention(session, ids[0], "negative", ["support"], None, NOW)
        label_mention(session, ids[1], "positive", [], None, NOW + timedelta(days=1))
    cut = NOW + timedelta(hours=12)
    with store.read() as session:
        before, after = io.StringIO(), io.StringIO()
        assert export_labels(session, before, until=cut) == 1 and export_labels(session, after, since=cut) == 1
    assert f"mention-{ids[0]}\t" in before.getvalue() and f"mention-{ids[1]}\t" in after.getvalue()


def test_unknown_aspect_labels_leave_the_flag_unknown() -> None:
    """A GermEval-style file without its taxonomy: the flag cannot be told, rather than silently 'no'."""
    assert row_targets({"sentiment": "negative", "aspects": "Zugfahrt#Haupt:negative"}, {}) is None
    assert row_targets({"sentiment": "negative", "aspects": ""}, {}) == (False, ())
    assert row_targets({"sentiment": "negative", "reason": "Late Flight"}, {"Late Flight": "delivery"}) == (
        True, ("delivery",))


def test_care_team_labels_measure_the_model_from_the_cli(tmp_path: Path, feed_server: FeedServer,
                                                         smtp_sink: SmtpSink, webhook: WebhookReceiver,
                                                         database_url: str) -> None:
    """poll → score → a care agent labels two mentions → export → `listener nlp eval` on the export."""
    model = build_tiny_model(tmp_path / "model", ["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model, db_url=database_url)

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["-c", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("poll")
    run("score")
    mentions = json.loads(run("mentions", "list", "--json"))
    first, second = mentions[0]["id"], mentions[1]["id"]
    assert "labelled negative, negative service experience (support)" in run(
        "mentions", "label", str(first), "negative", "--service", "support", "--by", "anna")
    assert "no negative service experience" in run("mentions", "label", str(second), "positive")
    bad = CliRunner().invoke(cli, ["-c", str(config), "mentions", "label", str(second), "positive", "--service",
                                   "support"])
    assert bad.exit_code != 0 and "is negative" in bad.output

    labelled = {m["id"]: m["label"] for m in json.loads(run("mentions", "list", "--json"))}
    assert labelled[first]["service_categories"] == ["support"] and labelled[first]["labelled_by"] == "anna"
    assert labelled[second]["sentiment"] == "positive"
    assert "negative→positive" in run("mentions", "list")  # the model said negative, the care team says positive

    export = tmp_path / "labels.tsv"
    assert "wrote 2 labelled mentions" in run("mentions", "export-labels", str(export))
    assert "wrote 0 labelled mentions" in run("mentions", "export-labels", "--until", "2001-01-01", "-")
    (report,) = json.loads(run("nlp", "eval", "--json", str(export)))
    # This model calls everything negative: right about the first, wrong about the second.
    assert report["n"] == 2 and report["accuracy"] == 0.5
    assert report["flag"] is not None

    tasks = json.loads(run("tasks", "list", "--json"))
    assert f"listener mentions label {tasks[0]['mention_id']}" in run("tasks", "dismiss", str(tasks[0]["id"]))
    assert "label removed" in run("mentions", "label", str(second), "--remove")
