"""Replying from the care inbox in a real browser (Debian's Chromium via Playwright) against `listener run`: an
agent starts from a template (placeholders filled), watches the character counter, previews and sends; the reply
waits for approval ([web] reply_approval = ["agent"]); a lead edits and approves it; the daemon posts it to a
loopback Discourse once; the task shows "responded" with the reply's link. Screenshots of the composer and of the
task after sending go to $LISTENER_SCREENSHOTS or the test's tmp dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.clock import SystemClock
from listener.demo.servers import free_port
from listener.store.engine import Store
from listener.store.models import ReplyRow, ReplyTemplate, TaskRow
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.replies.fakes import DiscourseFake
from tests.replies.helpers import seed_task
from tests.web_support import PASSWORD, SECRET_ENV

pytestmark = needs_chromium

HOSTILE = 'Acme lost my parcel <img src=x onerror="alert(1)"> and nobody answers **at all**'


def run(config: Path, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def daemon(tmp_path: Path, negative_model: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[Path, str, DiscourseFake, Store, int]]:
    monkeypatch.setenv(SECRET_ENV, "browser-test-secret")
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "write-key")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    port = free_port()
    with DiscourseFake() as forum:
        config = tmp_path / "listener.toml"
        config.write_text(textwrap.dedent(f"""\
            [database]
            url = "sqlite:///{tmp_path / 'l.db'}"

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

            [nlp]
            model = "{negative_model}"

            [daemon]
            deliver_every = "1s"

            [metrics]
            listen = "127.0.0.1:0"

            [web]
            listen = "127.0.0.1:{port}"
            reply_approval = ["agent"]
            """))
        run(config, "db", "upgrade")
        run(config, "users", "add", "alice", "--role", "agent", "--password-stdin", stdin=PASSWORD + "\n")
        run(config, "users", "add", "lea", "--role", "lead", "--password-stdin", stdin=PASSWORD + "\n")
        store = Store(f"sqlite:///{tmp_path / 'l.db'}")
        clock = SystemClock()
        task_id = seed_task(store, clock, "acme-forum", "discourse", "555", thread_id="101",
                            reply_ref={"post_number": "2"}, author="jenny_k", text=HOSTILE,
                            url=f"{forum.base_url}/t/parcel-lost/101/2")
        with store.write() as session:
            session.add(ReplyTemplate(name="Parcel", category="delivery", language="en", updated_at=clock.now(),
                                      body="Hi {author}, sorry about your parcel! {brand} support will sort it out "
                                           "today; we have sent you a direct message."))
        process = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "run"],
                                   env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield config, base, forum, store, task_id
        finally:
            process.send_signal(signal.SIGTERM)
            log = process.communicate(timeout=60)[0]
            store.dispose()
        assert process.returncode == 0, log
        assert "write-key" not in log  # the write secret never reaches the log


def sign_in(page: object, base: str, name: str) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(f"{base}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/queue")


def test_an_agent_replies_a_lead_approves_and_the_platform_receives_it_once(
        daemon: tuple[Path, str, DiscourseFake, Store, int], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    config, base, forum, store, task_id = daemon
    shots = screenshot_folder(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        dialogs: list[str] = []
        agent = browser.new_page(locale="en-GB", viewport={"width": 1400, "height": 1100})
        agent.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(agent, base, "alice")
        agent.goto(f"{base}/tasks/{task_id}")
        composer = agent.get_by_label("Your reply to jenny_k (acme-forum)")
        counter = agent.locator("#reply-count")
        expect(counter).to_have_text("0 / 32000")
        agent.get_by_role("link", name="Use in the reply").click()  # the template, placeholders filled, in place
        filled = "Hi jenny_k, sorry about your parcel! Acme support will sort it out today; we have sent you a " \
                 "direct message."
        expect(composer).to_have_value(filled)
        expect(counter).to_have_text(f"{len(filled)} / 32000")
        composer.press("End")
        composer.type(" **Order 4711**")
        expect(counter).to_have_text(f"{len(filled) + 15} / 32000")  # counted as the agent types
        agent.get_by_role("button", name="Preview").click()
        preview = agent.locator(".preview")
        expect(preview).to_contain_text("Order 4711")
        expect(preview.locator("blockquote")).to_contain_text('<img src=x onerror="alert(1)">')  # shown as text
        expect(composer).to_have_value(
            "Hi jenny_k, sorry about your parcel! Acme support will sort it out today; we have sent you a direct "
            "message. **Order 4711**")
        agent.locator("#replies").screenshot(path=str(shots / "reply-composer.png"))
        agent.get_by_role("button", name="Send for approval").click()
        reply = agent.locator("article.posted-reply")
        expect(reply).to_have_count(1)
        expect(reply.locator(".reply-status")).to_have_text("pending approval")
        expect(reply).to_contain_text("Waiting for a lead's approval.")
        time.sleep(2.5)  # two delivery rounds of the daemon: nothing goes out unapproved
        assert forum.posts == []

        lead = browser.new_page(locale="en-GB", viewport={"width": 1400, "height": 1100})
        sign_in(lead, base, "lea")
        lead.goto(f"{base}/tasks/{task_id}")
        edit = lead.get_by_label("Edit before approving (optional)")
        edit.fill(edit.input_value() + "\n\n— Lea, Acme care")
        lead.get_by_role("button", name="Approve and send").click()
        status = lead.locator("article.posted-reply .reply-status")
        for _ in range(60):  # the daemon posts it within a delivery round or two
            if status.inner_text() == "posted":
                break
            time.sleep(0.5)
            lead.reload()
        expect(status).to_have_text("posted")
        expect(lead.locator("h1 .status")).to_have_text("responded")
        link = lead.get_by_role("link", name="Open the reply on the platform")
        expect(link).to_have_attribute("href", f"{forum.base_url}/t/parcel-lost/101/4")
        expect(lead.locator("ol.log")).to_contain_text("alice: replied on the platform")
        lead.screenshot(path=str(shots / "task-after-reply.png"), full_page=True)
        assert not dialogs
        browser.close()

    assert len(forum.posts) == 1
    assert forum.posts[0]["raw"] == ("Hi jenny_k, sorry about your parcel! Acme support will sort it out today; we "
                                     "have sent you a direct message. **Order 4711**\n\n— Lea, Acme care")
    assert forum.requests[-1].json() == {"topic_id": 101, "raw": forum.posts[0]["raw"], "reply_to_post_number": 2} \
        or any(r.method == "POST" and r.json()["reply_to_post_number"] == 2 for r in forum.requests)
    with store.read() as session:
        row = session.query(ReplyRow).one()
        task = session.get_one(TaskRow, task_id)
        assert (row.author, row.approver, row.status) == ("alice", "lea", "posted")
        assert task.status == "responded" and task.responded_at == row.posted_at
