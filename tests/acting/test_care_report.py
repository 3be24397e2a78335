"""Assignment (by hand and round-robin), the response-time figures, and the care lead's CLI commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from listener.acting.report import response_report
from listener.acting.tasks import transition
from listener.cli import cli
from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from listener.store.models import AlertRow, TaskRow
from tests.alerting import alert_config, alert_settings, complaint, move_to
from tests.alerting import berlin as at

RULES = """
[[rule]]
name = "complaints"
when = { brands = ["Acme"] }
task = { first_response = "30m", hours = "care-de" }
notify = ["chat"]
agents = ["anna", "ben"]

[[rule]]
name = "competitor"
when = { brands = ["Globex"] }
task = { priority = "P3", first_response = "1h" }
"""




def test_round_robin_and_response_figures_in_business_and_calendar_time(store: Store) -> None:
    settings = alert_settings(2525, "http://127.0.0.1:9/hook", RULES)
    clock = FakeClock(at(2026, 12, 1, 9, 0))  # Tuesday
    t1, t2, t3 = (complaint(store, settings, clock) for _ in range(3))
    t5 = complaint(store, settings, clock, brand="Globex")
    move_to(clock, at(2026, 12, 1, 9, 20))
    with store.write() as session:
        transition(session, t1, "respond", clock.now())  # 20 min: in time
        transition(session, t3, "dismiss", clock.now())  # a false alarm
    move_to(clock, at(2026, 12, 1, 10, 0))
    with store.write() as session:
        transition(session, t2, "resolve", clock.now())  # 60 min, no separate response: late
    move_to(clock, at(2026, 12, 4, 17, 0))  # Friday after closing
    t4 = complaint(store, settings, clock)
    move_to(clock, at(2026, 12, 7, 8, 30))  # Monday: 30 business minutes, 63.5 calendar hours
    with store.write() as session:
        transition(session, t4, "ack", clock.now())
        transition(session, t4, "respond", clock.now())
        assignees = [session.get_one(TaskRow, t).assignee for t in (t1, t2, t3, t4, t5)]
    assert assignees == ["anna", "ben", "anna", "ben", None]

    move_to(clock, at(2026, 12, 8, 12, 0))
    with store.read() as session:
        report = response_report(session, settings.rule, clock.now())
    rule = report.per_rule["complaints"]
    assert (rule.created, rule.responded, rule.dismissed) == (4, 3, 1)
    assert rule.dismissed_share == 0.25
    assert rule.first_response_business.median == 30 * 60
    assert rule.first_response_business.p90 == 54 * 60  # 20, 30, 60 min: inclusive 90th percentile
    assert rule.first_response_calendar.median == 60 * 60
    assert rule.within_deadline == 2 / 3
    overall = report.overall
    assert overall.created == 5 and overall.within_deadline == 0.5  # the competitor task is past its hour
    assert report.per_rule["competitor"].first_response_business.median is None
    assert {k: (v.created, v.responded) for k, v in report.per_agent.items()} == {
        "(unassigned)": (1, 0), "anna": (2, 1), "ben": (2, 2)}
    assert report.backlog_by_age == {"<1h": 0, "1-4h": 0, "4-24h": 0, "1-3d": 0, ">3d": 1}
    assert json.loads(json.dumps(report.as_dict()))["overall"]["within_deadline"] == 0.5

    with store.read() as session:
        since = response_report(session, settings.rule, clock.now(), since=at(2026, 12, 4, 0, 0))
    assert since.overall.created == 1 and since.overall.first_response_calendar.median == 63.5 * 3600


def test_cli_silence_assign_report_and_escalate(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'listener.db'}"
    config = tmp_path / "listener.toml"
    config.write_text(alert_config(2525, "http://127.0.0.1:9/hook", RULES, db))
    store = Store(db)
    upgrade(store)
    settings = alert_settings(2525, "http://127.0.0.1:9/hook", RULES, db)
    task_id = complaint(store, settings, FakeClock(datetime.now(UTC)))
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["-c", str(config), *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "silence #1 until" in run("silence", "add", "--brand", "Acme", "--category", "digital", "--for", "2h",
                                     "--note", "known outage")
    listed = json.loads(run("silence", "list", "--json"))
    assert [(s["brand"], s["category"], s["note"], s["active"]) for s in listed] == [
        ("Acme", "digital", "known outage", True)]
    muted = complaint(store, settings, FakeClock(datetime.now(UTC)))
    with store.read() as session:
        assert session.get_one(TaskRow, muted).silenced_by == 1
        assert session.query(AlertRow).filter_by(task_id=muted).count() == 0
    assert "ended" in run("silence", "remove", "1")
    assert run("silence", "list") == ""

    assert f"task #{task_id} assigned to carla" in run("tasks", "assign", str(task_id), "--to", "carla")
    assert [t["id"] for t in json.loads(run("tasks", "list", "--assignee", "carla", "--json"))] == [task_id]
    figures = json.loads(run("report", "--json", "--since", "7d"))
    assert figures["overall"]["created"] == 2
    assert figures["per_agent"]["carla"]["created"] == 1
    assert "rule complaints" in run("report")
    assert "queued 0 escalation alerts, 0 grouped messages" in run("escalate")

    for args, message in ((["silence", "add", "--brand", "Nope", "--for", "1h"], "no brand named 'Nope'"),
                          (["silence", "add", "--for", "1h"], "at least one of --brand"),
                          (["silence", "add", "--brand", "Acme", "--for", "soon"], "expected a duration"),
                          (["tasks", "assign", "999", "--to", "x"], "no task #999"),
                          (["report", "--since", "yesterday"], "expected a duration like 7d")):
        result = runner.invoke(cli, ["-c", str(config), *args])
        assert result.exit_code != 0 and message in result.output, result.output
    store.dispose()
