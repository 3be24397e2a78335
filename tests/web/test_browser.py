"""The care inbox in a real browser (Chromium via Playwright) against `listener web` on loopback.

A task that arrives after a poll appears in the open queue without a reload; the agent opens it, acknowledges,
corrects the verdict and resolves it; the CLI then shows the same states and the label.
Screenshots of the queue and the task page go to $LISTENER_SCREENSHOTS or the test's tmp dir.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from listener.cli import cli
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver, free_port
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.flow import write_config
from tests.tiny_model import build_tiny_model
from tests.web_support import PASSWORD, SECRET_ENV

pytestmark = needs_chromium

NEW_ENTRY = """  <entry>
    <title>Still no refund from Acme Bank</title>
    <id>https://moneytalk.example.com/p/99200</id>
    <link href="https://moneytalk.example.com/p/99200"/>
    <author><name>jenny_k</name></author>
    <published>{when}</published>
    <updated>{when}</updated>
    <content type="html">Two weeks after the double charge Acme still has not refunded me.
      Support promised a call back that never came.</content>
  </entry>
"""


def run(config: Path, *args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(cli, ["-c", str(config), *args], input=stdin, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def served(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook: WebhookReceiver,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    monkeypatch.setenv(SECRET_ENV, "browser-test-secret")
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    port = free_port()
    config = write_config(tmp_path, feed_server, smtp_sink.port, webhook, model,
                          extra=f'\n[web]\nlisten = "127.0.0.1:{port}"\nrefresh = "1s"\n')
    run(config, "db", "upgrade")
    run(config, "users", "add", "alice", "--role", "agent", "--password-stdin", stdin=PASSWORD + "\n")
    server = subprocess.Popen([sys.executable, "-m", "listener", "-c", str(config), "web"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield config, base
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
        assert "argon2" not in output  # no password hash in the server's log


def test_agent_works_a_task_in_the_browser(served: tuple[Path, str], feed_server: FeedServer,
                                           tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    config, base = served
    run(config, "poll")
    run(config, "score")
    shots = screenshot_folder(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(locale="en-GB", viewport={"width": 1400, "height": 1000})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{base}/queue")
        expect(page).to_have_url(f"{base}/login?next=%2Fqueue")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(f"{base}/queue")
        rows = page.locator("table.tasks tbody tr[data-task]")
        expect(rows).to_have_count(9)
        # jenny_k's first complaint is dealt with (while it is open, her next one would join it as a follow-up).
        first = next(t for t in json.loads(run(config, "tasks", "list", "--json"))
                     if t["url"] == "https://moneytalk.example.com/p/99120")
        run(config, "tasks", "resolve", str(first["id"]))
        expect(rows).to_have_count(8, timeout=15_000)

        # A new complaint arrives: poll and score (the CLI, as the daemon would) while the page stays open.
        path = "/reviews-en.xml"
        body, ctype = feed_server.routes[path]
        entry = NEW_ENTRY.format(when=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        feed_server.routes[path] = (body.replace(b"  <entry>", entry.encode() + b"  <entry>", 1), ctype)
        assert "1 new" in run(config, "poll", "--source", "moneytalk")
        run(config, "score")
        tasks = json.loads(run(config, "tasks", "list", "--json"))
        new_task = next(t for t in tasks if t["url"] == "https://moneytalk.example.com/p/99200")
        expect(rows).to_have_count(9, timeout=15_000)  # fetched by the page's refresh, no reload
        expect(page.locator(f'tr[data-task="{new_task["id"]}"]')).to_contain_text("Still no refund")
        page.screenshot(path=str(shots / "queue.png"), full_page=True)

        page.locator(f'tr[data-task="{new_task["id"]}"] td a').first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"Task #{new_task['id']}")
        # The contact history shows jenny_k's earlier complaint and its task.
        history = page.locator("section[aria-labelledby=h-history]")
        expect(history).to_contain_text("Acme Bank charged me twice")
        page.get_by_role("button", name="Acknowledge").click()
        expect(page.locator("h1 .status")).to_have_text("acknowledged")
        page.get_by_label("Sentiment").select_option("negative")
        page.get_by_label("billing").check()
        page.get_by_label("support").check()
        page.get_by_role("button", name="Save verdict").click()
        expect(page.locator("p.label")).to_contain_text("negative")
        page.screenshot(path=str(shots / "task.png"), full_page=True)
        page.get_by_role("button", name="Resolve").click()
        expect(page.locator("h1 .status")).to_have_text("resolved")
        log = page.locator("ol.log li")
        expect(log).to_have_count(4)  # created, then who did what
        for i, step in enumerate(("alice: acknowledged", "alice: verdict corrected: negative, service: support, "
                                  "billing", "alice: resolved"), start=1):
            expect(log.nth(i)).to_contain_text(step)
        # The user's own language choice beats the browser's (en-GB here).
        page.get_by_label("Language").select_option("de")
        page.get_by_role("button", name="Save", exact=True).click()
        page.goto(f"{base}/queue")
        expect(page.get_by_role("heading", level=1)).to_have_text("Warteschlange")
        expect(page.locator("p.summary")).to_contain_text("Offene Aufgaben: 8")
        page.screenshot(path=str(shots / "queue-de.png"), full_page=True)
        assert not dialogs  # the feeds' hostile markup (an <img onerror> author) never ran
        browser.close()

    done = {t["id"]: t for t in json.loads(run(config, "tasks", "list", "--status", "all", "--json"))}
    assert done[new_task["id"]]["status"] == "resolved"
    mentions = {m["id"]: m for m in json.loads(run(config, "mentions", "list", "--json"))}
    label = mentions[new_task["mention_id"]]["label"]
    assert label["sentiment"] == "negative" and label["service_categories"] == ["support", "billing"]
    assert label["labelled_by"] == "alice"
