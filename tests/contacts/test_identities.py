"""Identities at ingest: the same account on the same platform is one contact automatically; nothing is merged
across platforms (or across sites of a one-site-per-source kind) on a guess."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from listener.clock import FakeClock
from listener.contacts import contact_for_mention
from listener.contacts.keys import identity_key, name_key, named_handles, profile_key
from listener.contacts.models import Contact, Identity, IdentityMention
from listener.ops.privacy import install_pseudonymiser, pseudonym
from listener.store.engine import Store, upgrade
from tests.contacts.support import platform, say


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    upgrade(store)
    yield store
    store.dispose()


def contact_of(store: Store, mention_id: int) -> int:
    with store.read() as session:
        found = contact_for_mention(session, mention_id)
        assert found is not None
        return found.id


def test_the_same_account_on_one_platform_is_one_contact(db: Store, clock: FakeClock) -> None:
    """Two Reddit sources (two subreddits), the handle spelled in two cases: one identity, one contact."""
    de, en = platform("reddit", "reddit-de", clock), platform("reddit", "reddit-en", clock)
    first = say(db, de, clock, "Kundin_77")
    clock.advance(timedelta(hours=1))
    second = say(db, en, clock, "kundin_77")
    assert contact_of(db, first) == contact_of(db, second)
    with db.read() as session:
        identity = session.scalars(select(Identity)).one()
        assert (identity.platform, identity.account, identity.handle) == ("reddit", "kundin_77", "kundin_77")
        assert identity.profile_url == "https://reddit.com/user/kundin_77"
        assert identity.last_seen_at == clock.now() and identity.first_seen_at == clock.now() - timedelta(hours=1)
        assert session.scalar(select(func.count()).select_from(IdentityMention)) == 2


def test_the_same_handle_on_two_platforms_is_two_contacts(db: Store, clock: FakeClock) -> None:
    reddit, appstore = platform("reddit", "reddit", clock), platform("appstore", "appstore", clock)
    on_reddit = say(db, reddit, clock, "john")
    in_the_app_store = say(db, appstore, clock, "john")
    assert contact_of(db, on_reddit) != contact_of(db, in_the_app_store)
    with db.read() as session:
        accounts = {(i.platform, i.account) for i in session.scalars(select(Identity))}
    assert accounts == {("reddit", "john"), ("appstore", "name:john")}  # App Store names are not unique


def test_forums_are_platforms_of_their_own(db: Store, clock: FakeClock) -> None:
    """The same Discourse username on two forums is two people until someone says otherwise; two sources reading
    the same forum (latest posts and a search) see one."""
    one, search, other = (platform("discourse", n, clock) for n in ("forum", "forum-search", "other-forum"))
    a = say(db, one, clock, "Kundin77", url="https://forum.acme.example/t/1/2")
    b = say(db, search, clock, "kundin77", url="https://www.forum.acme.example/t/9/1")
    c = say(db, other, clock, "kundin77", url="https://community.other.example/t/5/1")
    assert contact_of(db, a) == contact_of(db, b) != contact_of(db, c)
    with db.read() as session:
        platforms = sorted(i.platform for i in session.scalars(select(Identity)))
    assert platforms == ["discourse:community.other.example", "discourse:forum.acme.example"]


def test_a_platform_account_id_beats_the_display_name(db: Store, clock: FakeClock) -> None:
    """YouTube gives the channel id: a renamed channel stays one identity; two channels with one name stay two."""
    youtube = platform("youtube", "youtube", clock)
    first = say(db, youtube, clock, "Kundin 77", author_id="UCabc", author_url="http://www.youtube.com/@kundin77")
    renamed = say(db, youtube, clock, "@kundin77", author_id="UCabc")
    namesake = say(db, youtube, clock, "@kundin77", author_id="UCxyz")
    assert contact_of(db, first) == contact_of(db, renamed) != contact_of(db, namesake)
    with db.read() as session:
        channel = session.scalars(select(Identity).where(Identity.account == "UCabc")).one()
        assert channel.handle == "@kundin77"  # the latest name shown
        assert channel.profile_url == "https://youtube.com/@kundin77"


def test_a_handle_known_before_its_account_id_takes_the_id(db: Store, clock: FakeClock) -> None:
    """A Bluesky identity backfilled by its handle becomes the DID's when a post with the DID arrives (handles are
    unique on Bluesky); on YouTube, where names are not, a name-only identity stays apart."""
    bluesky, youtube = platform("bluesky", "bluesky", clock), platform("youtube", "youtube", clock)
    old = say(db, bluesky, clock, "kundin77.bsky.social")
    new = say(db, bluesky, clock, "kundin77.bsky.social", author_id="did:plc:abc", author_name="Kundin 77")
    assert contact_of(db, old) == contact_of(db, new)
    old_yt = say(db, youtube, clock, "Kundin 77")
    new_yt = say(db, youtube, clock, "Kundin 77", author_id="UCabc")
    assert contact_of(db, old_yt) != contact_of(db, new_yt)
    with db.read() as session:
        sky = session.scalars(select(Identity).where(Identity.platform == "bluesky")).one()
        assert (sky.account, sky.display_name, sky.display_key) == ("did:plc:abc", "Kundin 77", None)
        assert sky.name_key == "kundin77"  # what people call themselves elsewhere


def test_mastodon_accounts_carry_their_instance(db: Store, clock: FakeClock) -> None:
    """A local account's `acct` has no instance; its status URL names it. `kundin77` on two instances is two."""
    social, other = platform("mastodon", "mastodon-social", clock), platform("mastodon", "chaos", clock)
    local = say(db, social, clock, "Kundin77", url="https://mastodon.social/@Kundin77/1")
    remote = say(db, other, clock, "kundin77@mastodon.social", url="https://mastodon.social/@Kundin77/2")
    elsewhere = say(db, other, clock, "kundin77", url="https://chaos.social/@kundin77/3")
    assert contact_of(db, local) == contact_of(db, remote) != contact_of(db, elsewhere)
    with db.read() as session:
        accounts = sorted(i.account for i in session.scalars(select(Identity)))
    assert accounts == ["kundin77@chaos.social", "kundin77@mastodon.social"]


def test_a_mention_without_an_author_has_no_contact(db: Store, clock: FakeClock) -> None:
    feed = platform("feed", "news", clock)
    mention = say(db, feed, clock, None)
    with db.read() as session:
        assert contact_for_mention(session, mention) is None
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_pseudonymised_authors_stay_pseudonymous_in_identities(tmp_path: object, clock: FakeClock) -> None:
    store = Store(f"sqlite:///{tmp_path}/p.db")
    upgrade(store)
    key = b"k" * 32
    install_pseudonymiser(store, key)
    reddit = platform("reddit", "reddit", clock)
    a = say(store, reddit, clock, "kundin_77", author_url="https://reddit.com/user/kundin_77",
            author_name="Anna Example")
    b = say(store, reddit, clock, "kundin_77")
    assert contact_of(store, a) == contact_of(store, b)
    with store.read() as session:
        identity = session.scalars(select(Identity)).one()
        assert identity.handle == pseudonym("kundin_77", key)
        assert identity.display_name is None and identity.profile_url is None
        assert "kundin" not in identity.account
    store.dispose()


# ----------------------------------------------------------------------------- keys without a database
def test_keys() -> None:
    assert name_key("kundin_77") == name_key("Kundin77") == name_key("Kündin-77".replace("ü", "u")) == "kundin77"
    assert name_key("Max") is None  # too short to suggest anything
    assert profile_key("http://WWW.Reddit.com/user/Kundin_77/") == "https://reddit.com/user/Kundin_77"
    assert profile_key("javascript:alert(1)") is None
    assert named_handles("Ich hab's im Forum als @Kundin77 und auf Reddit als u/kundin_77 gepostet, Max1987 auch") \
        == {"kundin77", "max1987"}
    assert named_handles("Acme support is slow again") == set()
    key = identity_key("stackexchange", "se", "https://stackoverflow.com/q/1", "Anna", author_id="42",
                       author_url="https://stackoverflow.com/users/42/anna")
    assert key is not None and (key.platform, key.account) == ("stackexchange:stackoverflow.com", "42")
    assert identity_key("feed", "news", None, "Anna") == identity_key("feed", "news", None, "Anna")
    unlinked = identity_key("feed", "news", None, "Anna")
    assert unlinked is not None and unlinked.platform == "feed:source=news"
