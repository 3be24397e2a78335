"""In Chromium: an agent opens a forum customer's task, sees that a Mastodon account may be the same person,
links the two, and the contact history then shows both platforms. Screenshots (before and after) go to
$LISTENER_SCREENSHOTS or the test's tmp dir."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from tests.browser import launch, needs_chromium, screenshot_folder
from tests.contacts.support import complaint, platform, say, settings
from tests.web_support import PASSWORD, SECRET_ENV, add_users, serving, web_settings

pytestmark = needs_chromium


def test_agent_links_two_identities_and_sees_both_platforms(tmp_path: Path, clock: FakeClock,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv(SECRET_ENV, "contacts-browser-secret")
    url = f"sqlite:///{tmp_path / 'l.db'}"
    store = Store(url)
    upgrade(store)
    cfg = settings()
    forum, mastodon = platform("discourse", "verbraucherforum", clock), platform("mastodon", "mastodon", clock)
    say(store, mastodon, clock, "Kundin77", "Seit drei Tagen kein Onlinebanking bei Acme. Ich schreibe gleich im "
        "Verbraucherforum, da bin ich kundin_77.", url="https://mastodon.social/@Kundin77/112",
        author_name="Kundin 77 🐘")
    clock.advance(timedelta(hours=2))
    _, task = complaint(store, cfg, clock, forum, "kundin_77",
                        text="Acme Bank hat mein Girokonto gesperrt und niemand ruft zurück.",
                        url="https://forum.verbraucher.example/t/acme-konto/1842")
    clock.advance(timedelta(minutes=20))
    complaint(store, cfg, clock, forum, "kundin_77", text="Nachtrag: Acme hat jetzt auch noch Gebühren abgebucht.",
              url="https://forum.verbraucher.example/t/acme-konto/1842#3")
    add_users(store, clock, alice="agent")
    shots = screenshot_folder(tmp_path)
    with serving(web_settings(url), store, clock) as base, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(locale="en-GB", viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/login")
        page.get_by_label("Name").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(f'tr[data-task="{task}"]')).to_contain_text("+1 follow-up")
        page.goto(f"{base}/tasks/{task}")
        history = page.locator("section[aria-labelledby=h-history]")
        expect(history).not_to_contain_text("mastodon")
        suggestion = page.locator("ul.suggestions li")
        expect(suggestion).to_contain_text("mastodon Kundin77")
        expect(suggestion).to_contain_text("by mastodon “Kundin77” names discourse “kundin_77”")  # her own words
        page.screenshot(path=str(shots / "contact-before-link.png"), full_page=True)

        suggestion.get_by_role("button", name="Same person: link").click()
        expect(page.locator("ol.log")).to_contain_text("alice: contacts linked")
        identities = page.locator("ul.identities li")
        expect(identities).to_have_count(2)
        expect(page.locator("ul.identities")).to_contain_text("Kundin 77 🐘")
        rows = history.locator("tbody tr")
        expect(rows).to_have_count(2)  # the follow-up (this task) and the Mastodon post
        expect(rows.nth(0)).to_contain_text("discourse")
        expect(rows.nth(0)).to_contain_text("this task (follow-up)")
        expect(rows.nth(1)).to_contain_text("mastodon")
        expect(rows.nth(1)).to_contain_text("Seit drei Tagen kein Onlinebanking")
        expect(page.locator("ul.suggestions")).to_have_count(0)
        page.screenshot(path=str(shots / "contact-after-link.png"), full_page=True)
        browser.close()
    store.dispose()
