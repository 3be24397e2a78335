"""The survey parts around the page: config errors naming their key, {survey_url} in the composer, privacy
export and erase, Prometheus counts without text, the digest's care section, `listener report`'s text."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from listener.clock import FakeClock
from listener.config import ConfigError, parse_settings
from listener.store.engine import Store, upgrade
from listener.store.models import ReplyRow, ReplyTemplate, TaskRow
from listener.surveys.models import SurveyAnswer
from tests.surveys.support import CES, CSAT, survey_settings
from tests.web_support import PASSWORD, SECRET_ENV, add_users, csrf_of, seed_task, serving

RAW: dict[str, Any] = {"brand": [{"name": "Acme", "terms": ["Acme"]}],
                       "rule": [{"name": "negative", "when": {"sentiment": "negative"}}],
                       "survey": [copy.deepcopy(CSAT)],
                       "web": {"base_url": "https://care.example.org"}}


@pytest.mark.parametrize(("patch", "key", "fragment"), [
    (lambda r: r["survey"][0].update(kind="stars"), "survey[0].kind", "'csat', 'ces' or 'nps'"),
    (lambda r: r["survey"][0].update(question={"fr": "Ça va ?"}), "survey[0].question.fr", "unknown key"),
    (lambda r: r["survey"][0].update(question={"en": " "}), "survey[0].question.en", "is empty"),
    (lambda r: r["survey"][0].update(question={"de": "Wie …?"}), "survey[0]", "needs a 'en' text"),
    (lambda r: r["survey"][0].update(rules=["nope"]), "survey[0].rules", "no rule named 'nope'"),
    (lambda r: r["survey"][0].update(brands=["Initech"]), "survey[0].brands", "no brand named 'Initech'"),
    (lambda r: r["survey"][0].update(name="CSAT!"), "survey[0].name", "lower-case"),
    (lambda r: r["survey"].append(copy.deepcopy(CSAT)), "survey[1].name", "used twice"),
    (lambda r: r["survey"][0].update(colour="blue"), "survey[0].colour", "unknown key"),
    (lambda r: r.pop("web"), "survey[0]", "add [web] with base_url"),
    (lambda r: r.update(report={"recovery_window": "10m"}), "report.recovery_window", "between 1h and 366d"),
    (lambda r: r.update(report={"timezone": "Mars/Base"}), "report.timezone", "unknown time zone"),
    (lambda r: r["web"].update(survey_answers=0), "web.survey_answers", "greater than or equal to 1"),
])
def test_config_errors_name_the_key(patch, key: str, fragment: str) -> None:  # noqa: ANN001
    raw = copy.deepcopy(RAW)
    patch(raw)
    with pytest.raises(ConfigError) as info:
        parse_settings(raw)
    found = dict(info.value.problems)
    assert key in found and fragment in found[key], found


def test_the_composer_fills_the_survey_link_only_where_a_survey_fits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "composer-secret")
    settings = survey_settings(f"sqlite:///{tmp_path / 'l.db'}", surveys=[CES])  # billing tasks only
    store, clock = Store(settings.database.url), FakeClock()
    upgrade(store)
    add_users(store, clock, alice="agent")
    fits, other = seed_task(store, clock), seed_task(store, clock, author="ben")
    with store.write() as session:
        session.get_one(TaskRow, fits).rule = "billing"
        session.add(ReplyTemplate(name="Ask", category="", language="en", updated_at=clock.now(),
                                  body="Thanks {author}! Rate us: {survey_url}"))
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as client:
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": token, "next": "/queue"})
        page = client.get(f"/tasks/{fits}")
        assert f"Thanks anna! Rate us: {base}/survey/" in page.text
        assert "No answer yet." in page.text and "effort (CES)" in page.text
        page = client.get(f"/tasks/{other}")  # no [[survey]] fits its rule: the placeholder becomes ""
        assert "Thanks ben! Rate us: </textarea>" in page.text and "/survey/" not in page.text
        assert "The customer&#39;s answer" not in page.text
    store.dispose()


def answer(store: Store, task_id: int, kind: str, score: int, comment: str | None, at: datetime,
           survey: str = "csat") -> None:
    with store.write() as session:
        session.add(SurveyAnswer(task_id=task_id, survey=survey, kind=kind, score=score, comment=comment,
                                 language="en", answered_at=at, updated_at=at, changes=0))


def test_privacy_export_lists_the_answer_and_erase_clears_its_comment(store: Store, clock: FakeClock) -> None:
    from listener.ops.privacy import Selector, erase, export

    task_id = seed_task(store, clock, author="anna")
    answer(store, task_id, "csat", 2, "Call me on 0171 5550199", clock.now())
    record = export(store, Selector(author="anna"), None, "dpo", clock.now())
    assert record["mentions"][0]["task"]["survey_answer"] == {
        "survey": "csat", "kind": "csat", "score": 2, "comment": "Call me on 0171 5550199", "language": "en",
        "answered_at": clock.now().isoformat(), "updated_at": clock.now().isoformat(), "changes": 0}
    with store.write() as session:  # the answer belongs to the contact: a request by contact finds it too
        from listener.contacts.ingest import link_row
        from listener.store.models import TaskRow as Task

        identity = link_row(session, session.get_one(Task, task_id).mention, clock.now())
        assert identity is not None
        contact_id = identity.contact_id
    by_contact = export(store, Selector(contact=contact_id), None, "dpo", clock.now())
    assert [m["task"]["survey_answer"]["score"] for m in by_contact["mentions"]] == [2]
    counts = erase(store, Selector(contact=contact_id), None, "dpo", clock.now())
    assert counts["survey_comments"] == 1
    with store.read() as session:
        kept = session.query(SurveyAnswer).one()
        assert (kept.score, kept.comment) == (2, None)  # the figure stays, the words go


def test_metrics_count_answers_by_score_and_never_show_a_comment(store: Store, clock: FakeClock) -> None:
    from listener.ops.health import Probes
    from listener.ops.server import Endpoints

    for n, (kind, score, survey) in enumerate([("csat", 4, "csat"), ("csat", 4, "csat"), ("nps", 10, "nps")]):
        answer(store, seed_task(store, clock, author=f"a{n}"), kind, score, "SECRET WORDS", clock.now(), survey)
    body = Endpoints(Probes(store, lambda: True, lambda: True), clock).metrics().body.decode()
    assert 'listener_survey_answers{kind="csat",score="4",survey="csat"} 2.0' in body
    assert 'listener_survey_answers{kind="nps",score="10",survey="nps"} 1.0' in body
    assert 'listener_survey_comments{survey="csat"} 2.0' in body
    assert "SECRET" not in body and "a0" not in body


def test_the_digest_care_section_has_satisfaction_against_the_week_before(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from listener.digest.compose import make_digest
    from listener.digest.period import iso_week

    settings = survey_settings("sqlite://")
    week = iso_week("2026-W02", ZoneInfo("UTC"))  # Monday 5 January 2026
    clock = FakeClock(datetime(2025, 12, 30, 10, tzinfo=UTC))  # the week before
    before = seed_task(store, clock, author="ole")
    answer(store, before, "csat", 1, None, clock.now())
    clock.advance(timedelta(days=7))
    tasks = [seed_task(store, clock, author=name) for name in ("pia", "quin", "rob")]
    answer(store, tasks[0], "csat", 5, None, clock.now())
    answer(store, tasks[1], "csat", 3, None, clock.now())
    with store.write() as session:
        for task_id in (before, *tasks):
            session.get_one(TaskRow, task_id).responded_at = clock.now()
        task = session.get_one(TaskRow, tasks[2])  # sent the link, never answered
        session.add(ReplyRow(task_id=task.id, mention_id=task.mention_id, source_name="forum", source_kind="feed",
                             text=f"Rate us: {settings.web.base_url}/survey/abc", status="posted",  # type: ignore[union-attr]
                             idempotency_key="k1", attempts=1, in_doubt=False, author="alice",
                             created_at=clock.now(), updated_at=clock.now(), posted_at=clock.now()))
    digest = make_digest(store, settings, week, lang="en", draw=False)
    care = digest.report["brands"][0]["care"]
    assert care["survey_answers"] == {"value": 2, "previous": 1, "change": 1, "change_pct": 1.0}
    assert care["csat"] == {"value": 0.5, "previous": 0.0, "change": 0.5, "change_pct": None}
    assert care["response_rate"]["value"] == round(2 / 3, 6) and care["response_rate"]["previous"] == 1.0
    assert care["recovered_share"]["value"] is None  # every answered task is still inside its 14 days
    text = digest.text()
    assert "CSAT (satisfied): 50% (previous week 0%, +50 pts)" in text
    assert "Survey answers: 2 (previous week 1, +1 (+100%))" in text
    assert "CSAT (satisfied)" in digest.html()


def test_retention_takes_the_answer_with_its_task(database_url: str) -> None:
    from listener.ops.retention import delete_mentions

    store, clock = Store(database_url), FakeClock()
    upgrade(store)
    task_id = seed_task(store, clock)
    answer(store, task_id, "csat", 5, "Thanks", clock.now())
    with store.write() as session:
        mention_id = session.get_one(TaskRow, task_id).mention_id
        assert delete_mentions(session, [mention_id], clock.now()) == (1, 0)
    with store.read() as session:
        assert session.query(SurveyAnswer).count() == 0
    store.dispose()
