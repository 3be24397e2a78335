"""The care inbox's defences, over real HTTP against uvicorn on loopback: sessions, CSRF, roles, escaping,
acknowledge links, header sign-in, throttling, and password hashes that never show."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from listener.cli import cli
from listener.clock import FakeClock
from listener.config import ConfigError, parse_settings
from listener.store.engine import Store, upgrade
from listener.store.models import TaskEvent, TaskRow, UserRow
from listener.web.security import AckLinks
from tests.web_support import PASSWORD, SECRET_ENV, add_users, csrf_of, seed_task, serving, sign_in, web_settings

PAGES = ["/", "/queue", "/queue/fragment", "/tasks/1", "/mentions", "/sources", "/report", "/templates", "/silences",
         "/digest"]
ACTIONS = ["/tasks/1/act", "/templates/save", "/templates/1/delete", "/prefs/language", "/logout", "/silences/add",
           "/silences/1/end"]


@dataclass
class Site:
    base: str
    store: Store
    clock: FakeClock
    task_id: int
    db_url: str

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=20)

    def signed_in(self, name: str) -> httpx.Client:
        client = self.client()
        assert sign_in(client, name).status_code == 303
        return client

    def task(self) -> TaskRow:
        with self.store.read() as session:
            return session.get_one(TaskRow, self.task_id)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv(SECRET_ENV, "security-test-secret")
    db_url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(db_url)
    upgrade(store)
    clock = FakeClock()
    add_users(store, clock, alice="agent", vic="viewer", lee="lead")
    task_id = seed_task(store, clock)
    with serving(web_settings(db_url), store, clock) as base:
        yield Site(base, store, clock, task_id, db_url)
    store.dispose()


def test_every_page_and_action_without_a_session_goes_to_sign_in(site: Site) -> None:
    client = site.client()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), path
    for path in ACTIONS:
        response = client.post(path, data={"csrf": "x", "action": "ack"})
        assert response.status_code == 303 and response.headers["location"] == "/login", path
    assert site.task().status == "open"


def test_post_without_or_with_a_wrong_csrf_token_is_refused(site: Site) -> None:
    client = site.signed_in("alice")
    assert client.post(f"/tasks/{site.task_id}/act", data={"action": "ack"}).status_code == 403
    assert client.post(f"/tasks/{site.task_id}/act", data={"action": "ack", "csrf": "forged"}).status_code == 403
    assert site.task().status == "open"
    token = csrf_of(client.get(f"/tasks/{site.task_id}").text)
    assert client.post(f"/tasks/{site.task_id}/act", data={"action": "ack", "csrf": token}).status_code == 303
    assert site.task().status == "acknowledged"


def test_sign_in_form_needs_its_csrf_token_too(site: Site) -> None:
    client = site.client()
    response = client.post("/login", data={"name": "alice", "password": PASSWORD})
    assert response.status_code == 403


def test_a_viewer_cannot_change_anything(site: Site) -> None:
    client = site.signed_in("vic")
    page = client.get(f"/tasks/{site.task_id}")
    assert page.status_code == 200 and "Save verdict" not in page.text and 'value="ack"' not in page.text
    token = csrf_of(page.text)
    for data in ({"action": "ack"}, {"action": "resolve"}, {"action": "label", "sentiment": "positive"},
                 {"action": "assign", "assignee": "me"}, {"action": "note", "note": "hi"}):
        assert client.post(f"/tasks/{site.task_id}/act", data={**data, "csrf": token}).status_code == 403
    assert client.post("/templates/save", data={"csrf": token, "name": "x", "body": "y", "language": "en"}
                       ).status_code == 403
    token_link = AckLinks("security-test-secret", site.clock, timedelta(hours=1)).token(site.task_id)
    assert client.post(f"/ack/{token_link}", data={"csrf": token}).status_code == 403
    with site.store.read() as session:
        assert session.scalars(select(TaskEvent)).all() == []
    assert site.task().status == "open"


def test_agents_work_tasks_but_only_leads_edit_templates(site: Site) -> None:
    agent = site.signed_in("alice")
    token = csrf_of(agent.get("/templates").text)
    form = {"csrf": token, "name": "Late parcel", "category": "delivery", "language": "en",
            "body": "Hi {author}, sorry about your {brand} parcel: {link}"}
    assert agent.post("/templates/save", data=form).status_code == 403
    lead = site.signed_in("lee")
    form["csrf"] = csrf_of(lead.get("/templates").text)
    assert lead.post("/templates/save", data=form).status_code == 303
    page = agent.get(f"/tasks/{site.task_id}").text
    assert "Hi anna, sorry about your Acme parcel: https://forum.example/t/1" in page


def test_a_hostile_mention_renders_inert(site: Site) -> None:
    hostile = seed_task(site.store, site.clock, text='<script>alert("x")</script><img src=x onerror=alert(1)>',
                        title="<b>bold</b> title", author='<a href="javascript:alert(1)">eve</a>',
                        url="javascript:alert(document.cookie)")
    client = site.signed_in("alice")
    for path in (f"/tasks/{hostile}", "/queue", "/mentions?q=script"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>bold" not in html, path
        assert 'href="javascript:' not in html and "<a href=\"javascript" not in html, path
    html = client.get(f"/tasks/{hostile}").text
    assert "&lt;script&gt;" in html and "&lt;a href=&#34;javascript:alert(1)&#34;&gt;eve&lt;/a&gt;" in html
    assert "script-src 'self'" in client.get(f"/tasks/{hostile}").headers["content-security-policy"]


def test_acknowledge_links_confirm_with_a_post_and_refuse_expired_or_tampered_tokens(site: Site) -> None:
    links = AckLinks("security-test-secret", site.clock, timedelta(hours=24))
    token = links.token(site.task_id)
    anonymous = site.client().get(f"/ack/{token}")  # a mail scanner's preview: sign-in, nothing acknowledged
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=%2Fack%2F")
    client = site.signed_in("alice")
    page = client.get(f"/ack/{token}")
    assert page.status_code == 200 and "Acknowledge task" in page.text
    assert site.task().status == "open"  # a GET never acknowledges
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/ack/{tampered}").status_code == 400
    forged = AckLinks("another-secret", site.clock, timedelta(hours=24)).token(site.task_id)
    assert client.get(f"/ack/{forged}").status_code == 400
    site.clock.advance(timedelta(hours=25))
    expired = client.get(f"/ack/{token}")
    assert expired.status_code == 400 and "expired" in expired.text
    fresh = links.token(site.task_id)
    response = client.post(f"/ack/{fresh}", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == f"/tasks/{site.task_id}"
    assert site.task().status == "acknowledged"


def test_sign_in_is_throttled_and_sign_out_ends_the_session(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        assert sign_in(client, "alice", "wrong password!").status_code == 401
    assert sign_in(client, "alice").status_code == 429  # the right password, but locked for now
    site.clock.advance(timedelta(minutes=16))
    assert sign_in(client, "alice").status_code == 303
    assert client.get("/queue").status_code == 200
    token = csrf_of(client.get("/queue").text)
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/queue").status_code == 303


def test_sign_in_redirects_only_within_the_site(site: Site) -> None:
    client = site.client()
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": token,
                                           "next": "//evil.example/x"})
    assert response.headers["location"] == "/queue"


def test_session_cookie_flags(site: Site) -> None:
    response = sign_in(site.client(), "alice")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # http base URL
    https = web_settings("sqlite://", base_url="https://care.example.org")
    assert https.web is not None and https.web.secure_cookies


def test_disabled_users_and_changed_passwords_end_sessions(site: Site) -> None:
    from listener.web.users import set_password

    alice, lee = site.signed_in("alice"), site.signed_in("lee")
    with site.store.write() as session:
        session.scalars(select(UserRow).where(UserRow.name == "alice")).one().disabled = True
        set_password(session, "lee", "a new long password")
    assert alice.get("/queue").status_code == 303
    assert lee.get("/queue").status_code == 303
    assert sign_in(lee, "lee", "a new long password").status_code == 303


def test_password_hashes_never_appear_in_pages_or_logs(site: Site, caplog: pytest.LogCaptureFixture,
                                                       tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    with site.store.read() as session:
        hashes = [u.password_hash for u in session.scalars(select(UserRow)) if u.password_hash]
    assert hashes and all(h.startswith("$argon2") for h in hashes)
    lead = site.signed_in("lee")
    pages = [lead.get(p).text for p in PAGES[1:]]
    config = tmp_path / "listener.toml"
    config.write_text(f'[database]\nurl = "{site.db_url}"\n')
    listed = CliRunner().invoke(cli, ["-c", str(config), "users", "list"]).output
    assert "alice" in listed and "agent" in listed
    for text in [*pages, listed, caplog.text]:
        assert "$argon2" not in text and not any(h in text for h in hashes)


def test_header_sign_in_only_from_the_configured_proxies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "header-test-secret")
    db_url = f"sqlite:///{tmp_path / 'listener.db'}"
    store = Store(db_url)
    upgrade(store)
    clock = FakeClock()
    add_users(store, clock, alice="agent")
    header = {"X-Forwarded-User": "alice"}
    elsewhere = web_settings(db_url, auth="header", trusted_proxies=["10.0.0.0/8"])
    with serving(elsewhere, store, clock) as base:
        assert httpx.get(f"{base}/queue", headers=header).status_code == 403
    proxy = web_settings(db_url, auth="header", trusted_proxies=["127.0.0.1"])
    with serving(proxy, store, clock) as base:
        assert httpx.get(f"{base}/queue", headers=header).status_code == 200
        assert httpx.get(f"{base}/queue", headers={"X-Forwarded-User": "mallory"}).status_code == 403
        assert httpx.get(f"{base}/queue").status_code == 403
        assert httpx.post(f"{base}/login", data={"name": "alice", "password": PASSWORD}).status_code == 404
    store.dispose()


def test_header_auth_without_proxies_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings({"web": {"auth": "header"}})
    assert "web" in str(info.value) and "trusted_proxies" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_settings({"web": {"listen": "8080"}})
    assert "web.listen" in str(info.value)


def test_every_form_field_has_a_label(site: Site) -> None:
    from bs4 import BeautifulSoup

    lead = site.signed_in("lee")
    for path in [*PAGES[1:], f"/tasks/{site.task_id}", "/templates?edit=1"]:
        soup = BeautifulSoup(lead.get(path).text, "html.parser")
        labelled = {label.get("for") for label in soup.find_all("label")}
        for field in soup.find_all(["input", "select", "textarea"]):
            if field.get("type") in ("hidden", "submit"):
                continue
            inside_label = field.find_parent("label") is not None
            assert inside_label or field.get("id") in labelled or field.get("aria-label"), (path, str(field)[:80])
        if path not in ("/queue/fragment", "/digest"):  # a fragment; the digest is the e-mail as sent
            assert soup.find("main") and soup.find("a", class_="skip"), path


def test_only_leads_add_and_end_silences(site: Site) -> None:
    from listener.store.models import SilenceRow

    agent = site.signed_in("alice")
    token = csrf_of(agent.get("/silences").text)
    form = {"csrf": token, "brand": "Acme", "category": "delivery", "rule": "", "duration": "2h", "note": "outage"}
    assert agent.post("/silences/add", data=form).status_code == 403
    lead = site.signed_in("lee")
    form["csrf"] = csrf_of(lead.get("/silences").text)
    assert lead.post("/silences/add", data={**form, "duration": "soon"}).status_code == 400
    assert lead.post("/silences/add", data={**form, "brand": "", "category": ""}).status_code == 400  # mutes all
    assert lead.post("/silences/add", data=form).status_code == 303
    page = agent.get("/silences").text
    assert "outage" in page and "End now" not in page  # the agent reads, the lead ends
    with site.store.read() as session:
        silence = session.scalars(select(SilenceRow)).one()
    assert silence.created_by == "lee" and silence.ends_at == site.clock.now() + timedelta(hours=2)
    assert lead.post(f"/silences/{silence.id}/end", data={"csrf": form["csrf"]}).status_code == 303
    assert "No silence is running." in lead.get("/silences").text


def test_digest_preview_runs_no_script(site: Site) -> None:
    viewer = site.signed_in("vic")
    response = viewer.get("/digest")
    assert response.status_code == 200 and "<html" in response.text.lower()
    policy = response.headers.get_list("content-security-policy")
    assert policy == ["default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"]
    assert "<script" not in response.text.lower()
    assert viewer.get("/digest?week=not-a-week").status_code == 400
