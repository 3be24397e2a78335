"""What every helpdesk channel does, checked against each helpdesk's API on loopback (fake_*.py):
one ticket per task, later alerts into it, nothing twice after a crash, errors retried and parked as the outbox
does, and the helpdesk's answer and closing flowing back — by polling and by a signed webhook on the care inbox."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from listener.acting.escalation import run_escalations
from listener.clock import FakeClock
from listener.config import Settings, parse_settings
from listener.delivery.helpdesk.handoff import HelpdeskChannel
from listener.delivery.helpdesk.model import Post
from listener.delivery.helpdesk.status import read_back
from listener.delivery.outbox import backoff
from listener.demo.servers import free_port
from listener.store.engine import Store
from listener.store.models import AlertRow, HandoffPostRow, TaskEvent, TaskRow
from tests.alerting import complaint, migrated_store
from tests.delivery.helpdesk.fake_api import FakeApi, json_reply
from tests.delivery.helpdesk.support import (
    CASES,
    HOOK_KEY,
    Case,
    alerts,
    channel_of,
    complaint_by,
    deliver,
    handoff,
    helpdesk_config,
    helpdesk_settings,
    later_mention,
    set_secrets,
    texts,
    ticket_ids,
)
from tests.web_support import SECRET_ENV, serving

TEXT = "Acme charged me twice and the app just says <b>error</b> — @everyone look"


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite; or PostgreSQL too for a test marked `@BOTH_DATABASES`."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return f"sqlite:///{tmp_path / 'listener.db'}"
    return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]


BOTH_DATABASES = pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


def task(store: Store) -> TaskRow:
    with store.read() as session:
        return session.query(TaskRow).one()


def events(store: Store, task_id: int) -> list[tuple[str, str, str | None]]:
    with store.read() as session:
        return [(e.actor, e.action, e.detail) for e in
                session.query(TaskEvent).filter_by(task_id=task_id).order_by(TaskEvent.id)]


# ----------------------------------------------------------------------------- one ticket per task
def test_a_task_opens_one_ticket_and_its_later_alerts_go_into_it(case: Case, fake: FakeApi, settings: Settings,
                                                                 store: Store, clock: FakeClock) -> None:
    task_id = complaint(store, settings, clock, text=TEXT)
    assert task_id is not None
    report = deliver(store, settings, clock)
    assert report.sent == 1 and fake.violations == []
    [ticket] = ticket_ids(fake)
    row = handoff(store, task_id)
    assert (row.state, row.ticket_id, row.external_id) == ("open", str(ticket), f"listener-task-{task_id}")
    written = texts(fake, ticket)
    assert any("Acme charged me twice" in t for t in written)  # the customer's words …
    assert any("https://forum.example.com/t/" in t for t in written)  # … their link …
    assert any("Flagged by listener" in t and "https://care.example.com/tasks/" in t for t in written)  # … why
    assert ("desk", "handoff") in [(a, b) for a, b, _ in events(store, task_id)]

    clock.advance(timedelta(minutes=31))  # past due, still unacknowledged: the escalation goes to the ticket
    run_escalations(store, settings.rule, clock)
    later_mention(store, clock, task_id, "Still nothing from Acme. Third day now.")
    report = deliver(store, settings, clock)
    assert report.sent == 2 and fake.violations == []
    assert ticket_ids(fake) == [ticket]  # never a second ticket
    written = texts(fake, ticket)
    assert any("listener escalation" in t for t in written)
    assert any("Third day now" in t for t in written)
    assert [s for _, s, _ in alerts(store)] == ["sent", "sent", "sent"]
    assert not any('"email"' in r.body.decode() for r in fake.requests)  # no invented e-mail address


@pytest.mark.parametrize("delivered_first", [True, False], ids=["after-the-ticket", "before-the-ticket"])
def test_the_customers_next_complaint_joins_the_task_and_goes_into_its_ticket(
        delivered_first: bool, case: Case, fake: FakeApi, settings: Settings, store: Store,
        clock: FakeClock) -> None:
    """One conversation per customer (listener/contacts): the same author complains again within the rule's join
    window, the mention joins the open task, and its words reach the task's one ticket — whether the ticket was
    open already (a follow-up outbox row) or is opened afterwards (posted with the opening)."""
    task_id = complaint_by(store, settings, clock, "kundin_77", "Acme charged me twice.")
    if delivered_first:
        deliver(store, settings, clock)
    clock.advance(timedelta(minutes=10))
    assert complaint_by(store, settings, clock, "kundin_77", "Acme, it happened AGAIN today.") == task_id
    deliver(store, settings, clock)
    assert fake.violations == []
    [ticket] = ticket_ids(fake)
    written = texts(fake, ticket)
    assert sum("charged me twice" in t for t in written) == 1 and sum("AGAIN today" in t for t in written) == 1
    assert {s for _, s, _ in alerts(store)} == {"sent"}
    deliver(store, settings, clock)
    assert texts(fake, ticket) == written  # nothing posted twice


# ----------------------------------------------------------------------------- nothing twice after a crash
@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_crash_between_the_helpdesks_answer_and_our_commit_opens_no_second_ticket(
        db: str, case: Case, fake: FakeApi, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    set_secrets(monkeypatch, case)
    url = f"sqlite:///{tmp_path / 'crash.db'}" if db == "sqlite" else request.getfixturevalue("postgres_url")
    settings = helpdesk_settings(case, fake.base_url, url)
    store = migrated_store(url)
    task_id = complaint(store, settings, clock)
    assert task_id is not None
    real = HelpdeskChannel._opened

    def die(self: HelpdeskChannel, *args: object) -> None:  # the process dies right before storing the ticket
        raise SystemExit("killed before commit")

    monkeypatch.setattr(HelpdeskChannel, "_opened", die)
    with pytest.raises(SystemExit):
        deliver(store, settings, clock)
    assert len(ticket_ids(fake)) == 1  # the helpdesk has the ticket; we do not know its id
    assert handoff(store, task_id).ticket_id is None

    monkeypatch.setattr(HelpdeskChannel, "_opened", real)
    clock.advance(timedelta(minutes=6))  # the outbox claim and the opening claim time out
    report = deliver(store, settings, clock)
    assert report.sent == 1, report.errors
    assert len(ticket_ids(fake)) == 1 and fake.violations == []  # found by its external id, not opened again
    assert handoff(store, task_id).ticket_id == str(ticket_ids(fake)[0])
    store.dispose()


@BOTH_DATABASES
def test_a_crash_after_a_post_before_our_commit_posts_it_once(case: Case, fake: FakeApi, settings: Settings,
                                                              store: Store, clock: FakeClock,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    task_id = complaint(store, settings, clock)
    assert task_id is not None
    deliver(store, settings, clock)
    clock.advance(timedelta(minutes=31))
    run_escalations(store, settings.rule, clock)
    driver_class = type(channel_of(settings, store, clock).driver)
    real = driver_class.add_post

    def post_then_die(self: object, api: object, ticket: object, post: Post) -> str:
        real(self, api, ticket, post)  # type: ignore[arg-type]
        raise SystemExit("killed after the helpdesk answered")

    monkeypatch.setattr(driver_class, "add_post", post_then_die)
    with pytest.raises(SystemExit):
        deliver(store, settings, clock)
    monkeypatch.setattr(driver_class, "add_post", real)
    clock.advance(timedelta(minutes=6))
    assert deliver(store, settings, clock).sent == 1
    [ticket] = ticket_ids(fake)
    escalations = [t for t in texts(fake, ticket) if "listener escalation" in t]
    assert len(escalations) == 1, escalations  # found by its marker, not posted again
    with store.read() as session:
        assert all(p.state == "posted" for p in session.query(HandoffPostRow))


# ----------------------------------------------------------------------------- errors: retried, never dropped
def test_wrong_credentials_fail_visibly_and_name_the_secret_not_its_value(
        case: Case, fake: FakeApi, db_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    set_secrets(monkeypatch, case, token="wrong-token-value")
    settings = helpdesk_settings(case, fake.base_url, db_url)
    store = migrated_store(db_url)
    complaint(store, settings, clock)
    report = deliver(store, settings, clock)
    assert report.failed == 1 and ticket_ids(fake) == []
    [(_, status, error)] = alerts(store)
    assert status == "pending" and error and "HTTP 401" in error and "desk-token" in error
    assert "wrong-token-value" not in error
    store.dispose()


def test_429_waits_at_least_retry_after_then_succeeds(case: Case, fake: FakeApi, settings: Settings, store: Store,
                                                       clock: FakeClock) -> None:
    complaint(store, settings, clock)
    fake.fail("create", json_reply({"error": "too many requests"}, 429, {"Retry-After": "120"}))
    assert deliver(store, settings, clock).failed == 1
    with store.read() as session:
        alert = session.query(AlertRow).one()
        assert alert.next_attempt_at - clock.now() == max(timedelta(seconds=120), backoff(settings.delivery, 1))
    clock.advance(timedelta(seconds=119))
    assert deliver(store, settings, clock).sent == 0  # not before the helpdesk said
    clock.advance(timedelta(seconds=2))
    assert deliver(store, settings, clock).sent == 1
    assert len(ticket_ids(fake)) == 1  # the 429 opened nothing; the retry looked before opening


def test_a_rejected_ticket_keeps_failing_until_parked_with_the_helpdesks_reason(
        case: Case, fake: FakeApi, settings: Settings, store: Store, clock: FakeClock) -> None:
    complaint(store, settings, clock)
    status = 400 if case.kind == "freshdesk" else 422
    fake.fail("create", fake.invalid("subject is too long"), times=settings.delivery.max_attempts)
    for _ in range(settings.delivery.max_attempts):
        deliver(store, settings, clock)
        clock.advance(settings.delivery.max_backoff)
    [(_, state, error)] = alerts(store)
    assert state == "parked" and error and f"HTTP {status}" in error and "subject is too long" in error
    assert ticket_ids(fake) == []


def test_an_answer_not_shaped_as_documented_fails_the_alert_not_the_deliverer(
        case: Case, fake: FakeApi, settings: Settings, store: Store, clock: FakeClock) -> None:
    complaint(store, settings, clock)
    fake.fail("create", json_reply({"unexpected": True}, 201))
    report = deliver(store, settings, clock)  # no exception escapes the outbox
    assert report.failed == 1
    [(_, state, error)] = alerts(store)
    assert state == "pending" and error and "unexpected answer" in error


def test_a_post_to_a_ticket_deleted_in_the_helpdesk_fails_visibly(case: Case, fake: FakeApi, settings: Settings,
                                                                    store: Store, clock: FakeClock) -> None:
    complaint(store, settings, clock)
    deliver(store, settings, clock)
    [ticket] = ticket_ids(fake)
    fake.delete(ticket)  # type: ignore[attr-defined]
    clock.advance(timedelta(minutes=31))
    run_escalations(store, settings.rule, clock)
    assert deliver(store, settings, clock).failed == 1
    (_, first, _), (_, state, error) = alerts(store)
    assert first == "sent" and state == "pending" and error
    assert f"ticket {ticket} no longer exists" in error or f"conversation {ticket} no longer exists" in error
    assert "HTTP 404" in error and ticket_ids(fake) == []  # retried (and parked in the end), never a new ticket


# ----------------------------------------------------------------------------- status flows back: polling
@BOTH_DATABASES
def test_an_agents_public_answer_makes_the_task_responded_and_solving_resolves_it(
        case: Case, fake: FakeApi, settings: Settings, store: Store, clock: FakeClock) -> None:
    task_id = complaint(store, settings, clock)
    assert task_id is not None
    deliver(store, settings, clock)
    [ticket] = ticket_ids(fake)
    channel = channel_of(settings, store, clock)

    private = {"zendesk": {"public": False}, "zammad": {"internal": True}, "chatwoot": {"private": True}}
    if case.kind in private:  # (a Freshdesk agent's private note is a note, as ours are: not read as an answer)
        clock.advance(timedelta(minutes=3))
        fake.agent_reply(ticket, "internal: checking billing", **private[case.kind])  # type: ignore[attr-defined]
        clock.advance(timedelta(minutes=1))
        read_back(channel)
        assert task(store).status == "open"  # an internal note is no answer to the customer

    clock.advance(timedelta(minutes=4))
    answered_at = fake.agent_reply(ticket, "So sorry — we refunded the double charge.")  # type: ignore[attr-defined]
    clock.advance(timedelta(minutes=5))  # the poll comes later than the answer
    assert read_back(channel).responded == [task_id] and fake.violations == []
    row = task(store)
    assert row.status == "responded" and row.responded_at == answered_at.replace(microsecond=0)
    assert ("desk", "respond") in [(a, b) for a, b, _ in events(store, task_id)]

    clock.advance(timedelta(hours=1))
    solved_at = fake.solve(ticket)  # type: ignore[attr-defined]
    clock.advance(timedelta(minutes=5))
    assert read_back(channel).resolved == [task_id]
    row = task(store)
    assert row.status == "resolved" and row.closed_at == solved_at.replace(microsecond=0)
    assert handoff(store, task_id).state == "closed"
    before = len(fake.requests)
    read_back(channel)
    assert len(fake.requests) == before  # only open hand-offs are read back


def test_a_ticket_deleted_in_the_helpdesk_stops_the_read_back_and_leaves_the_task(
        case: Case, fake: FakeApi, settings: Settings, store: Store, clock: FakeClock) -> None:
    task_id = complaint(store, settings, clock)
    assert task_id is not None
    deliver(store, settings, clock)
    fake.delete(ticket_ids(fake)[0])  # type: ignore[attr-defined]
    clock.advance(timedelta(minutes=5))
    # Freshdesk's list of changed tickets leaves deleted ones out: a deletion shows when the ticket is read alone
    # (a webhook, or this full read).
    assert read_back(channel_of(settings, store, clock), incremental=case.kind != "freshdesk").gone == [task_id]
    assert handoff(store, task_id).state == "gone" and task(store).status == "open"


# ----------------------------------------------------------------------------- status flows back: webhook
@BOTH_DATABASES
def test_a_signed_webhook_resolves_the_task_forgery_and_replay_are_refused(
        case: Case, fake: FakeApi, db_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "session-secret-for-tests")
    set_secrets(monkeypatch, case)
    raw = tomllib.loads(helpdesk_config(case, fake.base_url, db_url,
                                        f'\n[web]\nlisten = "127.0.0.1:{free_port()}"\n'))
    settings = parse_settings(raw)
    store = migrated_store(db_url)
    task_id = complaint(store, settings, clock)
    assert task_id is not None
    deliver(store, settings, clock)
    [ticket] = ticket_ids(fake)
    fake.solve(ticket)  # type: ignore[attr-defined]
    body = case.hook(ticket, "delivery-1")
    headers = {"Content-Type": "application/json", **case.sign(HOOK_KEY, body, clock.now())}
    if case.delivery_header:
        headers[case.delivery_header] = "delivery-1"
    with serving(settings, store, clock) as base, httpx.Client(base_url=base) as client:
        forged = dict(headers, **case.sign("not-the-key", body, clock.now()))
        assert client.post("/hooks/desk", content=body, headers=forged).status_code == 401
        tampered = client.post("/hooks/desk", content=case.hook(999_999, "delivery-1"), headers=headers)
        # Freshdesk's token does not cover the body: the request is taken, and listener reads ticket 999999 —
        # not one of ours. Every signing helpdesk refuses it.
        assert tampered.status_code == (200 if case.kind == "freshdesk" else 401)
        assert task(store).status == "open"  # nothing forged reaches the task

        answer = client.post("/hooks/desk", content=body, headers=headers)  # no session, no CSRF token
        assert answer.status_code == 200, answer.text
        assert answer.json()["resolved"] == [task_id] and task(store).status == "resolved"

        replay = client.post("/hooks/desk", content=body, headers=headers)
        assert replay.status_code == (409 if case.replay_refused else 200)
        if case.timestamped:
            stale = {**headers, **case.sign(HOOK_KEY, body, clock.now() - timedelta(minutes=10))}
            if case.delivery_header:
                stale[case.delivery_header] = "delivery-2"
            assert client.post("/hooks/desk", content=body.replace(b"delivery-1", b"delivery-2"),
                               headers=stale).status_code == 401
        assert client.post("/hooks/nope", content=body, headers=headers).status_code == 404
    assert fake.violations == []
    store.dispose()

