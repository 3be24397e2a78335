"""Across platforms nothing is merged on a guess: listener suggests (same profile URL, same folded name, a text
naming a handle), an agent links, and an unlink restores the split exactly. Agents also merge tasks by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from listener.acting.merging import merge_tasks, merged_into
from listener.acting.tasks import TaskError
from listener.clock import FakeClock
from listener.contacts import contact_for_mention, contact_for_task
from listener.contacts.history import contact_history
from listener.contacts.linking import ContactError, link, links_of, unlink
from listener.contacts.models import Contact, ContactLink, TaskFollowUp, TaskMerge
from listener.contacts.suggestions import suggestions
from listener.store.engine import Store, upgrade
from listener.store.models import TaskEvent, TaskRow
from tests.contacts.support import complaint, platform, say, settings


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    upgrade(store)
    yield store
    store.dispose()


def contact_id(store: Store, mention_id: int) -> int:
    with store.read() as session:
        found = contact_for_mention(session, mention_id)
        assert found is not None
        return found.id


def identity_sets(store: Store) -> dict[int, set[str]]:
    """Each live contact's identities as 'platform account'."""
    with store.read() as session:
        return {c.id: {f"{i.platform} {i.account}" for i in c.identities}
                for c in session.scalars(select(Contact).where(Contact.merged_into_id.is_(None)))
                if c.identities}


def test_link_and_unlink_round_trip(db: Store, clock: FakeClock) -> None:
    cfg = settings()
    forum, mastodon, reddit = (platform(k, k, clock) for k in ("discourse", "mastodon", "reddit"))
    in_forum, task_id = complaint(db, cfg, clock, forum, "kundin_77")
    on_mastodon = say(db, mastodon, clock, "Kundin77", "Acme hat schon wieder abgebucht",
                      url="https://mastodon.social/@Kundin77/1", author_name="Kundin 77")
    on_reddit = say(db, reddit, clock, "someone", "Acme rocks")
    a, b = contact_id(db, in_forum), contact_id(db, on_mastodon)
    before = identity_sets(db)
    with db.read() as session:
        suggested = suggestions(session, a)
        assert [s.contact.id for s in suggested] == [b]
        assert suggested[0].reasons == ["same name: discourse “kundin_77”, mastodon “Kundin77”"]
        # Unlinked, the Mastodon post is not part of the forum customer's history.
        assert [e.mention_id for e in contact_history(session, a)] == [in_forum]
    with db.write() as session:
        row = link(session, a, b, "anna", clock.now(), suggested[0].reasons[0], task_id=task_id)
        link_id = row.id
    assert contact_id(db, on_mastodon) == a and contact_id(db, on_reddit) not in (a, b)
    with db.read() as session:
        assert {e.mention_id for e in contact_history(session, a)} == {in_forum, on_mastodon}
        assert suggestions(session, a) == []
        event = session.scalars(select(TaskEvent).where(TaskEvent.action == "contact_link")).one()
        assert (event.actor, event.task_id) == ("anna", task_id) and f"contact #{b}" in (event.detail or "")
        card = contact_for_task(session, task_id)
        assert card is not None and {i.kind for i in card.identities} == {"discourse", "mastodon"}
        assert session.get_one(Contact, b).merged_into_id == a
    # Linked, the Mastodon complaint joins the forum task: one conversation.
    clock.advance(timedelta(hours=1))
    _, joined = complaint(db, cfg, clock, mastodon, "kundin77", url="https://mastodon.social/@kundin77/2")
    assert joined == task_id

    with db.write() as session:
        unlink(session, link_id, "ben", clock.now(), task_id=task_id)
    assert identity_sets(db) == before  # the split is back exactly
    assert contact_id(db, on_mastodon) == b
    with db.read() as session:
        row = session.get_one(ContactLink, link_id)
        assert (row.linked_by, row.undone_by, row.identity_ids) == ("anna", "ben", [row.identity_ids[0]])
        assert [r.id for r in links_of(session, a)] == [link_id]
        assert suggestions(session, a) == []  # an agent said no once: not suggested again
        assert session.scalars(select(TaskEvent.detail).where(TaskEvent.action == "contact_unlink")).one()
    with db.write() as session, pytest.raises(ContactError, match="already undone"):
        unlink(session, link_id, "ben", clock.now())


def test_links_undo_in_order(db: Store, clock: FakeClock) -> None:
    kinds = ("discourse", "mastodon", "youtube")
    sources = [platform(k, k, clock) for k in kinds]
    mentions = [say(db, s, clock, f"user{n}", url=f"https://{k}.example/x/{n}")
                for n, (s, k) in enumerate(zip(sources, kinds, strict=True))]
    a, b, c = (contact_id(db, m) for m in mentions)
    before = identity_sets(db)
    with db.write() as session:
        first = link(session, a, b, "anna", clock.now()).id
        second = link(session, c, a, "anna", clock.now()).id  # a (with b's identity) into c
    assert len(identity_sets(db)) == 1 and contact_id(db, mentions[1]) == c
    with db.write() as session, pytest.raises(ContactError, match=rf"#{a} was itself linked into contact #{c} "
                                                                  rf"\(link #{second}\); unlink that first"):
        unlink(session, first, "anna", clock.now())
    with db.write() as session:
        unlink(session, second, "anna", clock.now())
        unlink(session, first, "anna", clock.now())
    assert identity_sets(db) == before
    with db.write() as session:
        with pytest.raises(ContactError, match="already one contact"):
            link(session, a, a, "anna", clock.now())
        with pytest.raises(ContactError, match="no contact #999"):
            link(session, a, 999, "anna", clock.now())


def test_suggestions_by_profile_url_and_by_a_text_naming_a_handle(db: Store, clock: FakeClock) -> None:
    youtube, reviews, bluesky = (platform(k, k, clock) for k in ("youtube", "reviews", "bluesky"))
    channel = say(db, youtube, clock, "Anna Beispiel", author_id="UC1", author_url="https://youtube.com/@anna")
    page = say(db, reviews, clock, "A. B.", author_url="https://www.youtube.com/@anna/",
               url="https://shop.example/r/1")
    sky = say(db, bluesky, clock, "annab.bsky.social",
              text="Acme still ignores me. Same story as my review, I am @ab_reviews_2024 there")
    named = say(db, reviews, clock, "ab_reviews_2024", url="https://shop.example/r/2")
    with db.read() as session:
        by_profile = suggestions(session, contact_id(db, channel))
        assert [(s.contact.id, s.reasons) for s in by_profile] == [
            (contact_id(db, page), ["same profile https://youtube.com/@anna"])]
        by_text = suggestions(session, contact_id(db, sky))
        assert [s.contact.id for s in by_text] == [contact_id(db, named)]
        assert by_text[0].reasons == [f"mention #{sky} names reviews “ab_reviews_2024”"]


def test_merge_two_open_tasks_by_hand(db: Store, clock: FakeClock) -> None:
    cfg = settings()
    forum, appstore = platform("discourse", "forum", clock), platform("appstore", "appstore", clock)
    _, keep = complaint(db, cfg, clock, forum, "kundin_77")  # P2, due in 1 h
    clock.advance(timedelta(minutes=5))
    review, merge = complaint(db, cfg, clock, appstore, "Kundin", urgency="P1")  # another contact: P1, 15 min
    clock.advance(timedelta(minutes=1))
    follow_up, joined = complaint(db, cfg, clock, appstore, "Kundin")
    assert joined == merge
    with db.write() as session:
        merge_tasks(session, merge, keep, "anna", clock.now())
    with db.read() as session:
        merged, kept = session.get_one(TaskRow, merge), session.get_one(TaskRow, keep)
        assert merged.status == "merged" and merged.closed_at == clock.now()
        assert kept.status == "open" and kept.priority == "P1"
        assert kept.due_at == clock.now() + timedelta(minutes=14)  # the merged one's deadline (it opened 1 min ago)
        moved = {(f.mention_id, f.via, f.merged_from_task_id)
                 for f in session.scalars(select(TaskFollowUp).where(TaskFollowUp.task_id == keep))}
        assert moved == {(review, "merge", merge), (follow_up, "merge", merge)}
        assert merged_into(session, merge) == keep
        assert session.get_one(TaskMerge, merge).merged_by == "anna"
        log = {(e.task_id, e.action, e.detail) for e in session.scalars(
            select(TaskEvent).where(TaskEvent.actor == "anna"))}
        assert log == {(keep, "merge", f"task #{merge} merged into this one (2 mentions); priority P2 → P1"),
                       (merge, "merged", f"merged into task #{keep}")}
    with db.write() as session:
        with pytest.raises(TaskError, match=f"task #{merge} is merged; only open tasks can be merged"):
            merge_tasks(session, merge, keep, "anna", clock.now())
        with pytest.raises(TaskError, match="into itself"):
            merge_tasks(session, keep, keep, "anna", clock.now())
