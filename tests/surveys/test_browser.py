"""From a reply to the report, with real parts: `listener tasks reply --template … --now` fills {survey_url} and
posts the reply to a loopback Discourse; the link in the posted text opens in Debian's Chromium on a 390 px phone
screen with JavaScript off; the customers answer (CSAT in English and German, NPS, CES); `listener report --json`
and the care inbox's report page then show exact figures. On SQLite and PostgreSQL. Screenshots of the survey
page (EN, DE), the task page with the answer and the report page go to $LISTENER_SCREENSHOTS or the tmp dir."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.clock import SystemClock
from listener.config import load_settings
from listener.demo.servers import free_port
from listener.store.engine import Store
from listener.store.models import ReplyTemplate, TaskRow
from listener.surveys.models import SurveyAnswer
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.replies.fakes import DiscourseFake
from tests.replies.helpers import seed_task
from tests.web_support import PASSWORD, SECRET_ENV, add_users, serving

pytestmark = needs_chromium
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "java_script_enabled": False}
HOSTILE = 'Quick help <img src=x onerror="alert(1)"> thanks'


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def write_config(tmp_path: Path, db_url: str, forum: DiscourseFake, port: int) -> Path:
    config = tmp_path / "listener.toml"
    config.write_text(textwrap.dedent(f"""\
        [database]
        url = "{db_url}"

        [[brand]]
        name = "Acme"
        terms = ["Acme"]

        [[source]]
        name = "acme-forum"
        kind = "discourse"
        base_url = "{forum.base_url}"
        every = "1h"
        reply = true
        reply_api_key_secret = "forum-write-key"
        reply_username = "acme_care"

        [[rule]]
        name = "negative"
        when = {{ sentiment = "negative" }}

        [[rule]]
        name = "praise"
        when = {{ sentiment = "positive" }}

        [[rule]]
        name = "billing"
        when = {{ categories = ["billing"] }}

        [[survey]]
        name = "effort"
        kind = "ces"
        rules = ["billing"]
        comment = false
        question.en = "How easy was it to get your problem solved?"
        question.de = "Wie einfach war es, Ihr Anliegen zu lösen?"

        [[survey]]
        name = "recommend"
        kind = "nps"
        rules = ["praise"]
        question.en = "How likely are you to recommend Acme to a friend?"
        question.de = "Wie wahrscheinlich ist es, dass Sie Acme weiterempfehlen?"

        [[survey]]
        name = "csat"
        kind = "csat"
        question.en = "How satisfied are you with our answer?"
        question.de = "Wie zufrieden sind Sie mit unserer Antwort?"

        [web]
        listen = "127.0.0.1:{port}"
        base_url = "http://127.0.0.1:{port}"
        """))
    return config


CUSTOMERS = [  # author, language, rule, assignee, what they answer (None: never opens the link)
    ("jenny_k", "en", "negative", "alice", 4),
    ("kurt_m", "de", "negative", "alice", 2),
    ("lena_p", "en", "praise", "bob", 9),
    ("max_r", "en", "billing", None, None),
    ("nina_s", "de", "billing", None, 6),
]


def test_a_survey_link_from_a_reply_answered_on_a_phone_gives_exact_figures(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv(SECRET_ENV, "survey-browser-secret")
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "write-key")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    shots = screenshot_folder(tmp_path)
    port = free_port()
    with DiscourseFake() as forum:
        config = write_config(tmp_path, database_url, forum, port)
        run(config, "db", "upgrade")
        store, clock = Store(database_url), SystemClock()
        add_users(store, clock, lea="lead")
        tasks = []
        for n, (author, lang, rule, agent, _) in enumerate(CUSTOMERS):
            task_id = seed_task(store, clock, "acme-forum", "discourse", str(600 + n), thread_id="101",  # type: ignore[arg-type]
                                reply_ref={"post_number": "2"}, author=author,
                                text=f"Acme SECRET-COMPLAINT-{n} about my parcel", url=f"{forum.base_url}/t/x/101/2")
            with store.write() as session:
                task = session.get_one(TaskRow, task_id)
                task.rule, task.assignee = rule, agent
                task.mention.score.language = lang  # type: ignore[union-attr]
            tasks.append(task_id)
        with store.write() as session:
            for lang, body in (("en", "Sorry about that, {author}! Did we help? Tell us: {survey_url}"),
                               ("de", "Das tut uns leid, {author}! Haben wir geholfen? Sagen Sie es: {survey_url}")):
                session.add(ReplyTemplate(name="Survey", category="", language=lang, body=body, updated_at=clock.now()))
        for task_id in tasks:
            out = run(config, "tasks", "reply", str(task_id), "--template", "Survey", "--by", "lea", "--now")
            assert "posted" in out, out

        links = [re.search(r"http://127\.0\.0\.1:\d+/survey/[A-Za-z0-9_.-]+", p["raw"]) for p in forum.posts]
        assert all(links) and len(forum.posts) == len(CUSTOMERS)
        assert forum.posts[1]["raw"].startswith("Das tut uns leid, kurt_m! Haben wir geholfen?")
        urls = [m.group(0) for m in links if m]

    settings = load_settings(config)
    base = f"http://127.0.0.1:{port}"
    with serving(settings, store, clock), sync_playwright() as p:
        browser = launch(p)
        requested: list[str] = []
        for (author, lang, rule, _, score), url in zip(CUSTOMERS, urls, strict=True):
            if score is None:
                continue
            phone = browser.new_context(locale="de-DE" if lang == "de" else "en-GB", **PHONE)
            page = phone.new_page()
            page.on("request", lambda r: requested.append(r.url))
            page.goto(url)
            expect(page.locator("html")).to_have_attribute("lang", lang)
            assert "SECRET-COMPLAINT" not in page.content() and author not in page.content()
            page.get_by_role("radio", name=str(score), exact=True).check()
            if rule != "billing":
                page.get_by_label("Anything you would like to tell us? (optional)" if lang == "en"
                                  else "Möchten Sie uns noch etwas mitteilen? (freiwillig)").fill(
                    HOSTILE if author == "jenny_k" else "Zu langsam")
            else:
                expect(page.locator("textarea")).to_have_count(0)  # the CES survey asks no comment
            box = page.locator("main").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
            for label in page.locator("label.pick").all():
                pick = label.bounding_box()
                assert pick is not None and pick["x"] + pick["width"] <= 390 and pick["height"] >= 44  # thumb-sized
            if author in ("jenny_k", "kurt_m", "lena_p"):
                page.screenshot(path=str(shots / f"survey-{rule}-{lang}.png"), full_page=True)
            page.get_by_role("button", name="Send" if lang == "en" else "Senden").click()
            expect(page.locator(".saved")).to_have_text("Thank you! Your answer has been saved." if lang == "en"
                                                        else "Vielen Dank! Ihre Antwort wurde gespeichert.")
            expect(page.get_by_role("radio", name=str(score), exact=True)).to_be_checked()
            if author == "jenny_k":
                page.screenshot(path=str(shots / "survey-negative-en-saved.png"), full_page=True)
                page.goto(url)  # re-opened: the answer is there and can be changed
                expect(page.get_by_role("button", name="Change my answer")).to_be_visible()
            phone.close()
        assert requested and all(u.startswith(base + "/") for u in requested), requested  # no third party

        desk = browser.new_context(locale="en-GB", viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        lead = desk.new_page()
        lead.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        lead.goto(f"{base}/login")
        lead.get_by_label("Name").fill("lea")
        lead.get_by_label("Password").fill(PASSWORD)
        lead.get_by_role("button", name="Sign in").click()
        lead.goto(f"{base}/tasks/{tasks[0]}")
        answer = lead.locator("section.survey-answer")
        expect(answer.locator(".survey-score")).to_have_text("4 / 5")
        expect(answer.locator("blockquote.comment")).to_have_text(HOSTILE)  # shown as text
        answer.screenshot(path=str(shots / "task-survey-answer.png"))
        lead.goto(f"{base}/report?days=7")
        overall = lead.locator("table.satisfaction tbody tr").first
        expect(overall).to_contain_text("all tasks")
        cells = [c.strip() for c in overall.locator("td").all_inner_texts()]
        assert cells == ["5", "5", "4", "80 %", "50 %", "6", "100", "1 / 0 / 0", "—", "—", "—", "5"], cells
        lead.screenshot(path=str(shots / "report.png"), full_page=True)
        assert not dialogs
        browser.close()

    with store.read() as session:
        stored = {a.task_id: (a.kind, a.score, a.comment, a.language) for a in session.query(SurveyAnswer)}
    assert stored == {tasks[0]: ("csat", 4, HOSTILE, "en"), tasks[1]: ("csat", 2, "Zu langsam", "de"),
                      tasks[2]: ("nps", 9, "Zu langsam", "en"), tasks[4]: ("ces", 6, None, "de")}
    report = json.loads(run(config, "report", "--json"))["satisfaction"]
    expect_figures(report)
    text = run(config, "report")
    assert re.search(r"\nall tasks\s+5\s+5\s+4\s+80%\s+50%\s+6\.0\s+100\s+1/0/0\s+-\s+-\s+-\s+5\n", text), text
    store.dispose()


def expect_figures(report: dict[str, Any]) -> None:
    overall = report["overall"]
    assert {k: overall[k] for k in ("tasks", "answered", "invited", "answers", "response_rate", "csat_answers",
                                    "csat_satisfied", "csat", "ces_answers", "ces", "nps_answers", "promoters",
                                    "passives", "detractors", "nps", "pending")} == {
        "tasks": 5, "answered": 5, "invited": 5, "answers": 4, "response_rate": 0.8, "csat_answers": 2,
        "csat_satisfied": 1, "csat": 0.5, "ces_answers": 1, "ces": 6.0, "nps_answers": 1, "promoters": 1,
        "passives": 0, "detractors": 0, "nps": 100.0, "pending": 5}
    assert overall["recovery"] == {"decided": 0, "silent_share": None, "recovered_share": None,
                                   "negative_again_share": None}

    def brief(f: dict[str, Any]) -> tuple[Any, ...]:
        return f["tasks"], f["invited"], f["answers"], f["response_rate"], f["csat"], f["ces"], f["nps"]

    assert {k: brief(v) for k, v in report["per_rule"].items()} == {
        "billing": (2, 2, 1, 0.5, None, 6.0, None), "negative": (2, 2, 2, 1.0, 0.5, None, None),
        "praise": (1, 1, 1, 1.0, None, None, 100.0)}
    assert {k: brief(v) for k, v in report["per_agent"].items()} == {
        "(unassigned)": (2, 2, 1, 0.5, None, 6.0, None), "alice": (2, 2, 2, 1.0, 0.5, None, None),
        "bob": (1, 1, 1, 1.0, None, None, 100.0)}
    assert {k: brief(v) for k, v in report["per_category"].items()} == {"delivery": (5, 5, 4, 0.8, 0.5, 6.0, 100.0)}
    assert {k: brief(v) for k, v in report["per_brand"].items()} == {"Acme": (5, 5, 4, 0.8, 0.5, 6.0, 100.0)}
    assert [brief(v) for v in report["per_week"].values()] == [(5, 5, 4, 0.8, 0.5, 6.0, 100.0)]
