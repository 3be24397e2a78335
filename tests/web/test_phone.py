"""The care inbox in Chromium: on a 390 px phone (no page wider than the screen, tasks as cards above folded
filters), and a desktop shift with the keyboard, a colleague's change announced on the open task, and the page
saying so when the session has ended. Screenshots go to $LISTENER_SCREENSHOTS or the test's tmp dir."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from listener.acting.activity import perform
from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from listener.store.models import TaskRow
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.web_support import PASSWORD, SECRET_ENV, add_users, seed_task, serving, web_settings

pytestmark = needs_chromium
PHONE = {"width": 390, "height": 844}
LONG_URL = "https://forum.example/t/" + "very-long-thread-name-without-any-break-" * 6
PAGES = ["/queue", "/mentions", "/sources", "/report", "/templates", "/silences", "/queue?view=mine"]


@dataclass
class Site:
    base: str
    store: Store
    clock: FakeClock
    tasks: list[int]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv(SECRET_ENV, "phone-test-secret")
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(url)
    upgrade(store)
    clock = FakeClock()
    add_users(store, clock, alice="agent", ben="agent")
    tasks = []
    for i in range(12):
        tasks.append(seed_task(
            store, clock, priority=("P1", "P2", "P3")[i % 3], due_in=timedelta(minutes=-10 + 7 * i),
            title=f"Acme Bank hat meine Überweisung Nummer {i} seit Tagen nicht ausgeführt und niemand antwortet",
            text="Seit Tagen warte ich. " * 20 + "Unterschriftsberechtigungsverfahrensdokumentation" * 3,
            author=f"kundin_{i}_mit_einem_sehr_langen_namen_ohne_leerzeichen", url=LONG_URL,
            source=("verbraucherforum", "moneytalk-reviews")[i % 2], categories=("billing", "support")))
    with serving(web_settings(url), store, clock) as base:
        yield Site(base, store, clock, tasks)
    store.dispose()


def sign_in(page: Any, base: str, name: str = "alice") -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)  # by id: the form is in the browser's language
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/queue")


def overflow(page: Any) -> int:
    """How far the page is wider than the screen (0: no horizontal scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_phone_gets_cards_and_no_page_wider_than_the_screen(site: Site, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = screenshot_folder(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=PHONE, locale="de-DE", is_mobile=True, has_touch=True)
        sign_in(page, site.base)
        page.screenshot(path=str(shots / "phone-queue-first-screen.png"))
        first = page.locator("tr[data-task]").first
        box = first.bounding_box()
        assert box is not None and box["y"] < 420, box  # the first task in sight, above the folded filters
        assert not page.locator(".facets").is_visible()  # filters folded …
        page.locator("details.facets-box > summary").click()
        assert page.locator(".facets").is_visible()  # … and there on a tap
        page.locator("details.facets-box > summary").click()
        assert overflow(page) <= 0, f"/queue is {overflow(page)} px too wide"
        page.screenshot(path=str(shots / "phone-queue.png"), full_page=True)
        for path in PAGES[1:]:
            page.goto(site.base + path)
            assert overflow(page) <= 0, f"{path} is {overflow(page)} px too wide"
        page.screenshot(path=str(shots / "phone-queue-mine.png"))
        page.goto(f"{site.base}/mentions")
        page.screenshot(path=str(shots / "phone-mentions.png"))
        page.goto(f"{site.base}/tasks/{site.tasks[0]}")
        assert overflow(page) <= 0, f"the task page is {overflow(page)} px too wide"
        page.screenshot(path=str(shots / "phone-task.png"), full_page=True)
        page.set_viewport_size({"width": 360, "height": 740})
        for path in ("/queue", f"/tasks/{site.tasks[1]}"):
            page.goto(site.base + path)
            assert overflow(page) <= 0, f"{path} at 360 px is {overflow(page)} px too wide"
        browser.close()


def test_a_desktop_shift_with_the_keyboard_a_colleagues_change_and_signing_out(site: Site, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots = screenshot_folder(tmp_path)
    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        page = context.new_page()
        sign_in(page, site.base)
        expect(page.locator(".facets")).to_be_visible()  # wide screen: the filters are open
        for key in ("Tab", "Enter", "Tab"):  # the skip link leads to the tasks: three keys to the first one
            page.keyboard.press(key)
        assert page.evaluate("!!document.activeElement.closest('tr[data-task]')")
        page.keyboard.press("?")
        expect(page.locator("#shortcuts")).to_be_visible()
        page.keyboard.press("?")
        page.keyboard.press("j")
        page.keyboard.press("j")
        second = page.locator("tr[data-task]").nth(1)
        expect(second).to_have_class(re.compile(r"\bcurrent\b"))
        task_id = int(second.get_attribute("data-task") or 0)
        page.keyboard.press("x")
        expect(second.locator("input[type=checkbox]")).to_be_checked()
        with page.expect_navigation():
            page.keyboard.press("a")  # acknowledge the current task, back on the queue
        assert page.url == f"{site.base}/queue"
        with site.store.read() as session:
            assert session.get_one(TaskRow, task_id).status == "acknowledged"
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{site.base}/tasks/{site.tasks[0]}")

        # ben resolves the task alice has open: a notice appears without a reload
        with site.store.write() as session:
            perform(session, site.tasks[0], "resolve", "ben", site.clock.now())
        expect(page.locator("#changes .warn-notice")).to_contain_text("ben resolved it", timeout=15_000)
        page.screenshot(path=str(shots / "desktop-task-changed.png"), full_page=True)
        page.get_by_role("button", name="Acknowledge").click()  # the page still offers it: refused, and says why
        expect(page.locator("p.error")).to_contain_text("Since you opened this task: ben resolved it")

        # signed out in another tab: the queue says so instead of silently going stale
        page.goto(f"{site.base}/queue")
        other = context.new_page()
        other.goto(f"{site.base}/queue")
        other.get_by_role("button", name="Sign out").click()
        expect(page.locator("#signed-out")).to_be_visible(timeout=15_000)
        expect(page.locator("#queue")).to_have_class(re.compile(r"\bstale\b"))
        page.screenshot(path=str(shots / "desktop-signed-out.png"))
        browser.close()
