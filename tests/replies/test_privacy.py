"""A privacy request covers our replies too: an export lists them, an erasure drops unsent ones and blanks the
text of posted ones (they may greet the author by name), and the handle a reply would @mention goes; retention
removes a mention's replies with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from listener.clock import FakeClock
from listener.ops.privacy import Selector, erase, export
from listener.replies.service import mark_posted, submit
from listener.store.engine import Store, upgrade
from listener.store.models import MentionRow, ReplyRow
from tests.replies.helpers import mastodon_source, seed_task, settings_with


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    upgrade(s)
    yield s
    s.dispose()


def test_erasure_and_export_cover_replies(store: Store, clock: FakeClock) -> None:
    settings = settings_with(mastodon_source("https://fedi.example"))
    task_id = seed_task(store, clock, "fedi", "mastodon", "111", reply_ref={"acct": "jenny@fedi.example"},
                        author="jenny@fedi.example")
    with store.write() as session:
        posted = submit(session, settings, task_id, "Hi Jenny, sorry about the parcel!", "anna", "agent", clock.now())
        mark_posted(session, posted, "900", "https://fedi.example/@acme/900", "anna", clock.now())
        submit(session, settings, task_id, "Jenny, one more thing …", "anna", "agent", clock.now(), draft=True)
    record = export(store, Selector(author="jenny@fedi.example"), None, "dpo", clock.now())["mentions"][0]
    assert [r["text"] for r in record["replies"]] == ["Hi Jenny, sorry about the parcel!", "Jenny, one more thing …"]
    assert record["reply_ref"] == {"acct": "jenny@fedi.example"}
    counts = erase(store, Selector(author="jenny@fedi.example"), None, "dpo", clock.now())
    assert counts["replies_deleted"] == 1
    with store.read() as session:
        replies = list(session.scalars(select(ReplyRow)))
        mention = session.scalars(select(MentionRow)).one()
    assert [(r.status, r.text, r.url) for r in replies] == [("posted", "", "https://fedi.example/@acme/900")]
    assert mention.reply_ref == {}


def test_retention_takes_a_mentions_replies_with_it(store: Store, clock: FakeClock) -> None:
    from listener.ops.retention import delete_mentions

    settings = settings_with(mastodon_source("https://fedi.example"))
    task_id = seed_task(store, clock, "fedi", "mastodon", "111")
    with store.write() as session:
        submit(session, settings, task_id, "Sorry about the parcel!", "anna", "agent", clock.now())
        mention_id = session.scalars(select(MentionRow.id)).one()
    with store.write() as session:
        assert delete_mentions(session, [mention_id], clock.now()) == (1, 0)
    with store.read() as session:
        assert session.scalars(select(ReplyRow)).all() == []
