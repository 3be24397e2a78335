"""The guards around every route (listener/web/guards.py): POSTs from another site refused by their Origin or
Sec-Fetch-Site even with a valid CSRF token; pages never cached; HSTS under an https base URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from listener.clock import FakeClock
from listener.store.engine import Store, upgrade
from listener.store.models import TaskRow
from tests.web_support import PASSWORD, SECRET_ENV, add_users, csrf_of, seed_task, serving, sign_in, web_settings


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, FakeClock, str]]:
    monkeypatch.setenv(SECRET_ENV, "guards-test-secret")
    url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(url)
    upgrade(store)
    clock = FakeClock()
    add_users(store, clock, alice="agent")
    yield store, clock, url
    store.dispose()


def test_a_post_from_another_site_is_refused_even_with_the_token(db: tuple[Store, FakeClock, str]) -> None:
    store, clock, url = db
    task_id = seed_task(store, clock)
    # behind a proxy at care.example.org (http here: the test client keeps no Secure cookie over plain http)
    with serving(web_settings(url, base_url="http://care.example.org"), store, clock) as base, \
            httpx.Client(base_url=base) as client:
        assert sign_in(client, "alice").status_code == 303
        token = csrf_of(client.get(f"/tasks/{task_id}").text)
        act, form = f"/tasks/{task_id}/act", {"csrf": token, "action": "ack"}
        for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                        {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                        {"Origin": base, "Sec-Fetch-Site": "cross-site"}, {"Origin": "http://care.example.org.evil"}):
            refused = client.post(act, data=form, headers=headers)
            assert refused.status_code == 403 and "from another site" in refused.text, headers
        german = client.post(act, data=form, headers={"Origin": "https://evil.example", "Accept-Language": "de"})
        assert german.status_code == 403 and "von einer anderen Website" in german.text
        with store.read() as session:
            assert session.get_one(TaskRow, task_id).status == "open"
        # the site itself (by its Host, or its public base URL behind a proxy), or no header at all
        for headers in ({"Origin": base, "Sec-Fetch-Site": "same-origin"}, {"Origin": "http://care.example.org"},
                        {}):
            assert client.post(act, data={**form, "action": "note", "note": "x"}, headers=headers
                               ).status_code == 303, headers
        login = httpx.Client(base_url=base)
        token = csrf_of(login.get("/login").text)
        assert login.post("/login", data={"csrf": token, "name": "alice", "password": PASSWORD},
                          headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403


def test_pages_are_never_cached_and_https_gets_hsts(db: tuple[Store, FakeClock, str]) -> None:
    store, clock, url = db
    task_id = seed_task(store, clock)
    with serving(web_settings(url), store, clock) as base, httpx.Client(base_url=base) as client:
        assert client.get("/login").headers["cache-control"] == "no-store"
        sign_in(client, "alice")
        for path in ("/queue", "/queue/fragment", f"/tasks/{task_id}", "/mentions", "/report", "/digest"):
            response = client.get(path)
            assert response.status_code == 200 and response.headers["cache-control"] == "no-store", path
            assert "strict-transport-security" not in response.headers  # plain http
        static = client.get("/static/style.css")
        assert static.status_code == 200 and "no-store" not in static.headers.get("cache-control", "")
    with serving(web_settings(url, base_url="https://care.example.org"), store, clock) as base:
        for path in ("/login", "/queue", "/static/style.css"):
            response = httpx.get(f"{base}{path}")
            assert response.headers["strict-transport-security"] == "max-age=31536000", path
