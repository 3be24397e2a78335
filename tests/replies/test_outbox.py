"""The reply outbox on SQLite and PostgreSQL: a reply goes from the composer to the platform once, the task is
responded at the moment the platform accepted it, failures are retried or shown, doubt is resolved by looking for
our own reply, approval holds a reply back, and our reply read back by the next poll is not a mention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from listener.acting.report import response_report
from listener.clock import FakeClock
from listener.config import Settings
from listener.matching import BrandMatcher
from listener.pipeline import poll_source
from listener.replies.clients import ReplyClients
from listener.replies.outbox import deliver_replies, release_dead_reply_claims
from listener.replies.platforms.base import PostedReply, ReplyClient, ReplyTarget
from listener.replies.service import ReplyActionError, approve, resend, send_back, settle_unknown, submit
from listener.sources.kit import HttpFetcher, HttpSettings, SourceContext, get_source_class
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow, ReplyRow, TaskEvent, TaskRow
from tests.replies.fakes import DiscourseFake, MastodonFake, discourse_error, rate_limited
from tests.replies.helpers import discourse_source, mastodon_source, seed_task, settings_with

TEXT = "Sorry about the parcel, Acme will sort it out today: we have sent you a message."
FORM_KEY = "0123456789abcdef0123456789abcdef"  # the composer's one-time key


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.setenv("LISTENER_FORUM_WRITE_KEY", "write-key")
    monkeypatch.setenv("LISTENER_FEDI_WRITE_TOKEN", "write-token")


@pytest.fixture
def forum() -> Iterator[DiscourseFake]:
    with DiscourseFake() as server:
        yield server


@pytest.fixture
def fedi() -> Iterator[MastodonFake]:
    with MastodonFake() as server:
        yield server


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    upgrade(s)
    yield s
    s.dispose()


def setup(store: Store, forum: DiscourseFake, fedi: MastodonFake, forum_keys: dict[str, Any] | None = None,
          **more: Any) -> Settings:
    return settings_with(discourse_source(forum.base_url, **(forum_keys or {})), mastodon_source(fedi.base_url),
                         db_url=str(store.engine.url.render_as_string(hide_password=False)), **more)


def forum_task(store: Store, clock: FakeClock) -> int:
    return seed_task(store, clock, "forum", "discourse", "555", thread_id="101", reply_ref={"post_number": "2"},
                     url="https://forum.example/t/parcel/101/2")


def reply_of(store: Store, reply_id: int) -> ReplyRow:
    with store.read() as session:
        row = session.get_one(ReplyRow, reply_id)
        session.expunge(row)
        return row


def log_of(store: Store, task_id: int) -> list[tuple[str, str, str | None]]:
    with store.read() as session:
        return [(e.actor, e.action, e.detail) for e in session.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id))]


def test_a_reply_is_posted_once_and_the_task_is_responded_when_the_platform_accepted_it(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi)
    task_id = forum_task(store, clock)
    with store.write() as session:
        reply_id = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now(), key=FORM_KEY).id
        assert submit(session, settings, task_id, TEXT, "anna", "agent", clock.now(), key=FORM_KEY).id == reply_id
    clock.advance(timedelta(minutes=7))  # the platform accepts it 7 minutes after the task was created
    report = deliver_replies(store, settings, ReplyClients(settings, clock), clock)
    assert report.posted == 1 and len(forum.posts) == 1 and forum.posts[0]["raw"] == TEXT
    reply = reply_of(store, reply_id)
    assert (reply.status, reply.platform_id, reply.attempts) == ("posted", str(forum.posts[0]["id"]), 1)
    assert reply.url == f"{forum.base_url}/t/parcel-lost/101/4" and reply.posted_at == clock.now()
    with store.read() as session:
        task = session.get_one(TaskRow, task_id)
        assert task.status == "responded" and task.responded_at == clock.now()
        figures = response_report(session, settings.rule, clock.now(), clock.now() - timedelta(days=1))
    assert figures.overall.responded == 1 and figures.overall.first_response_calendar.median == 7 * 60
    log = log_of(store, task_id)
    assert [a for _, a, _ in log] == ["reply_queued", "replied"]
    actor, _, detail = log[-1]
    assert actor == "anna" and TEXT in (detail or "") and (reply.url or "") in (detail or "")
    assert deliver_replies(store, settings, ReplyClients(settings, clock), clock).posted == 0
    assert len(forum.posts) == 1


def test_a_rate_limit_is_retried_after_retry_after_and_a_refusal_is_shown_and_resendable(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi)
    clients = ReplyClients(settings, clock)
    task_id = forum_task(store, clock)
    with store.write() as session:
        reply_id = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now()).id
    forum.next_failures.append(rate_limited("600"))
    assert deliver_replies(store, settings, clients, clock).retrying == 1
    reply = reply_of(store, reply_id)
    assert reply.status == "queued" and reply.attempts == 1 and "Too many requests" in (reply.last_error or "")
    assert reply.next_attempt_at == clock.now() + timedelta(seconds=600)  # never sooner than Retry-After
    clock.advance(timedelta(minutes=5))
    assert deliver_replies(store, settings, clients, clock).posted == 0  # not due yet
    clock.advance(timedelta(minutes=5))
    forum.closed.add(101)  # meanwhile the topic was closed: a refusal, shown to the agent, not retried
    assert deliver_replies(store, settings, clients, clock).failed == 1
    reply = reply_of(store, reply_id)
    assert reply.status == "failed" and "This topic is closed" in (reply.last_error or "")
    assert log_of(store, task_id)[-1][1] == "reply_failed"
    forum.closed.clear()  # reopened; the agent edits and sends again
    with store.write() as session:
        resend(session, settings, reply_id, TEXT + " Thanks for waiting.", "anna", "agent", clock.now())
    assert deliver_replies(store, settings, clients, clock).posted == 1
    assert [p["raw"] for p in forum.posts] == [TEXT + " Thanks for waiting."]
    assert reply_of(store, reply_id).idempotency_key != reply.idempotency_key


def test_an_outage_that_never_ends_fails_visibly_after_max_attempts(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi, delivery={"max_attempts": 3, "backoff": "1m"})
    clients = ReplyClients(settings, clock)
    task_id = forum_task(store, clock)
    with store.write() as session:
        reply_id = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now()).id
    for _ in range(3):
        forum.next_failures.append(discourse_error(503, "Service Unavailable"))
        deliver_replies(store, settings, clients, clock)
        clock.advance(timedelta(hours=1))
    reply = reply_of(store, reply_id)
    assert reply.status == "failed" and reply.last_error and reply.last_error.startswith("gave up after 3 attempts")
    assert forum.posts == []


def test_a_reply_in_doubt_is_looked_for_before_posting_again(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    """A claim left by a dead process (the platform had posted it, our commit never came): found, not re-posted."""
    settings = setup(store, forum, fedi)
    clients = ReplyClients(settings, clock)
    task_id = forum_task(store, clock)
    with store.write() as session:
        reply_id = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now()).id
    posted = clients("forum").post_reply(
        ReplyTarget("discourse", "forum", "555", None, "101", None, {"post_number": "2"}), TEXT, "x")
    with store.write() as session:  # what a process killed right after the platform's answer leaves behind
        row = session.get_one(ReplyRow, reply_id)
        row.status, row.claimed_by, row.claimed_until = "sending", "host/boot/1/999999999/1", clock.now()
    clock.advance(timedelta(minutes=6))  # the claim timed out
    assert deliver_replies(store, settings, clients, clock).posted == 1
    reply = reply_of(store, reply_id)
    assert (reply.status, reply.platform_id, reply.url) == ("posted", posted.platform_id, posted.url)
    assert len(forum.posts) == 1


class CannotLook:
    """The real Discourse client, as on a platform that offers no way to look for our own reply."""

    def __init__(self, inner: ReplyClient):
        self.inner, self.kind, self.max_length, self.markdown = inner, inner.kind, inner.max_length, inner.markdown
        self.idempotent = False

    def post_reply(self, target: ReplyTarget, text: str, idempotency_key: str) -> PostedReply:
        return self.inner.post_reply(target, text, idempotency_key)

    def find_own_reply(self, target: ReplyTarget, text: str) -> PostedReply | None:
        raise NotImplementedError


def test_a_reply_in_doubt_where_we_cannot_look_waits_for_a_person(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi)
    clients = ReplyClients(settings, clock)
    task_id = forum_task(store, clock)
    with store.write() as session:
        reply_id = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now()).id
        session.flush()
        session.get_one(ReplyRow, reply_id).in_doubt = True
    report = deliver_replies(store, settings, lambda name: CannotLook(clients(name)), clock)
    assert report.unknown == 1 and forum.posts == []
    assert reply_of(store, reply_id).status == "outcome_unknown"
    with store.write() as session:
        settle_unknown(session, reply_id, "lea", True, "https://forum.example/t/parcel/101/9", clock.now())
    reply = reply_of(store, reply_id)
    assert reply.status == "posted" and reply.url == "https://forum.example/t/parcel/101/9"
    with store.read() as session:
        assert session.get_one(TaskRow, task_id).status == "responded"


def test_mastodon_in_doubt_posts_again_with_the_same_key_and_gets_the_same_status(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi)
    clients = ReplyClients(settings, clock)
    task_id = seed_task(store, clock, "fedi", "mastodon", "111", reply_ref={"acct": "customer"})
    with store.write() as session:
        reply = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now())
        reply_id, key = reply.id, reply.idempotency_key
    first = clients("fedi").post_reply(ReplyTarget("mastodon", "fedi", "111", None, None, None,
                                                   {"acct": "customer"}), TEXT, key)
    fedi.posts[0]["account"] = {**fedi.me, "id": "other"}  # not findable as ours: only the key can tell
    assert release_dead_reply_claims(store, clock.now()) == 0
    with store.write() as session:
        session.get_one(ReplyRow, reply_id).in_doubt = True
    assert deliver_replies(store, settings, clients, clock).posted == 1
    assert len(fedi.posts) == 1 and reply_of(store, reply_id).platform_id == first.platform_id


def test_approval_holds_an_agents_reply_until_a_lead_approves_it(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi, web={"reply_approval": ["agent"]})
    clients = ReplyClients(settings, clock)
    task_id = forum_task(store, clock)
    with store.write() as session:
        reply_id = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now()).id
    assert reply_of(store, reply_id).status == "pending_approval"
    assert deliver_replies(store, settings, clients, clock).posted == 0 and forum.posts == []
    with store.write() as session:
        send_back(session, reply_id, "lea", "Please apologise first.", clock.now())
    assert reply_of(store, reply_id).status == "returned"
    with store.write() as session:
        resend(session, settings, reply_id, "We apologise! " + TEXT, "anna", "agent", clock.now())
    with store.write() as session, pytest.raises(ReplyActionError, match="someone other than its author"):
        approve(session, settings, reply_id, "anna", clock.now())
    with store.write() as session:
        approve(session, settings, reply_id, "lea", clock.now(), text="We apologise! " + TEXT + " — Lea")
    assert deliver_replies(store, settings, clients, clock).posted == 1
    assert forum.posts[0]["raw"] == "We apologise! " + TEXT + " — Lea"
    reply = reply_of(store, reply_id)
    assert (reply.author, reply.approver) == ("anna", "lea")
    assert [a for _, a, _ in log_of(store, task_id)] == ["reply_pending_approval", "reply_returned",
                                                         "reply_pending_approval", "reply_approved", "replied"]
    with store.write() as session:  # a lead's own reply goes straight out
        assert submit(session, settings, task_id, TEXT + " (2)", "lea", "lead", clock.now()).status == "queued"


def test_limits_switches_and_the_per_source_rate_limit(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi, forum_keys={"reply_per_hour": 1})
    clients = ReplyClients(settings, clock)
    task_id = forum_task(store, clock)
    fedi_task = seed_task(store, clock, "fedi", "mastodon", "111", reply_ref={"acct": "customer"})
    with store.write() as session, pytest.raises(ReplyActionError, match="allows 500: shorten it by 1"):
        submit(session, settings, fedi_task, "x" * 501, "anna", "agent", clock.now())
    with store.write() as session:
        first = submit(session, settings, task_id, TEXT, "anna", "agent", clock.now()).id
        second = submit(session, settings, task_id, TEXT + " Also: sorry.", "anna", "agent", clock.now()).id
    report = deliver_replies(store, settings, clients, clock)
    assert (report.posted, report.deferred) == (1, 1) and len(forum.posts) == 1
    assert reply_of(store, second).next_attempt_at == clock.now() + timedelta(hours=1)
    assert reply_of(store, first).status == "posted"
    clock.advance(timedelta(hours=1))
    assert deliver_replies(store, settings, clients, clock).posted == 1
    off = setup(store, forum, fedi, forum_keys={"reply": False})
    with store.write() as session, pytest.raises(ReplyActionError, match="switched off"):
        submit(session, off, task_id, TEXT, "anna", "agent", clock.now())


def test_our_reply_read_back_by_the_next_poll_is_not_a_mention(
        store: Store, forum: DiscourseFake, fedi: MastodonFake, clock: FakeClock) -> None:
    settings = setup(store, forum, fedi)
    task_id = seed_task(store, clock, "fedi", "mastodon", "111", reply_ref={"acct": "customer"})
    with store.write() as session:
        submit(session, settings, task_id, TEXT, "anna", "agent", clock.now())
    assert deliver_replies(store, settings, ReplyClients(settings, clock), clock).posted == 1
    other = {**fedi.posts[0], "id": "222", "content": "<p>Acme is slow today</p>",
             "account": {**fedi.me, "id": "9", "acct": "someone", "username": "someone"}}
    fedi.timeline.append(other)
    source_settings = settings.source_by_name("fedi")
    source = get_source_class("mastodon")(source_settings, SourceContext(
        http=HttpFetcher(HttpSettings(retries=0), clock=clock), brands=settings.brand, clock=clock))
    report = poll_source(store, source, BrandMatcher(settings.brand), clock)
    assert report.error is None and (report.stored, report.own) == (1, 1)
    with store.read() as session:
        stored = set(session.scalars(select(MentionRow.external_id).where(MentionRow.source_kind == "mastodon")))
    assert stored == {"111", "222"}
    # an account listed in own_accounts is never a mention either, posted through listener or not
    fedi.timeline.append({**other, "id": "333", "account": {**fedi.me, "acct": "acme_team"}})
    listed = source_settings.model_copy(update={"own_accounts": ["@ACME_team"]})
    source = get_source_class("mastodon")(listed, source.context)
    again = poll_source(store, source, BrandMatcher(settings.brand), clock, force=True)
    assert (again.stored, again.own) == (0, 2)  # 333, and our reply again (this fake ignores min_id)
