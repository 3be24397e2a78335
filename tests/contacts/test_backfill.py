"""Migration 0012 backfills every stored mention into contacts: a database filled at the previous revision
(0011) is upgraded, on SQLite and on PostgreSQL, and its authors become identities and contacts by the same rule
as ingest; new mentions after the upgrade find the backfilled identities."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from types import ModuleType

from alembic import command
from sqlalchemy import func, select, text

from listener.clock import FakeClock
from listener.contacts.keys import host_of, identity_key, name_key, named_handles
from listener.contacts.models import Contact, Identity, IdentityMention, MentionHandle
from listener.store.engine import MIGRATIONS, Store, alembic_config, upgrade
from listener.store.models import MentionBrand, MentionRow, SourceRow
from tests.contacts.support import platform, say

PREVIOUS = "0012_replies"  # the revision before 0012_contacts (re-chained after 0012_replies at the merge)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# (source name, kind, author, url) of mentions written before contacts existed (revision PREVIOUS)
OLD_MENTIONS = [
    ("reddit-de", "reddit", "Kundin_77", "https://reddit.com/r/de/comments/1"),
    ("reddit-en", "reddit", "kundin_77", "https://reddit.com/r/en/comments/2"),  # same account, other subreddit
    ("appstore", "appstore", "kundin_77", "https://apps.apple.com/de/app/id1"),  # same name, other platform
    ("forum", "discourse", "kundin_77", "https://forum.acme.example/t/1"),
    ("forum", "discourse", "Kundin_77", "https://forum.acme.example/t/2"),  # usernames are case-insensitive
    ("other-forum", "discourse", "kundin_77", "https://community.other.example/t/3"),  # another forum
    ("mastodon", "mastodon", "kundin77", "https://mastodon.social/@kundin77/4"),
    ("mastodon", "mastodon", "kundin77@mastodon.social", "https://mastodon.social/@kundin77/5"),
    ("news", "feed", "Jane Doe", None),  # no link: the source names the site
    ("news", "feed", None, "https://news.example/a/6"),  # no author: no contact
    ("news", "feed", "", "https://news.example/a/7"),
    ("hn", "hackernews", "pg", "https://news.ycombinator.com/item?id=8"),
    ("hn", "hackernews", "PG", "https://news.ycombinator.com/item?id=9"),  # HN names are case-sensitive
]


def fill_at_previous_revision(store: Store) -> None:
    command.upgrade(alembic_config(store), PREVIOUS)
    with store.write() as session:
        sources: dict[str, SourceRow] = {}
        for n, (source, kind, author, url) in enumerate(OLD_MENTIONS):
            if source not in sources:
                sources[source] = SourceRow(name=source, kind=kind, cursor={})
                session.add(sources[source])
                session.flush()
            text = f"Acme post {n}" + (", ich bin auch @kundin77 auf Mastodon" if n == 0 else "")
            session.add(MentionRow(source_id=sources[source].id, source_kind=kind, external_id=f"old-{n}", url=url,
                                   author=author, text=text, fetched_at=T0 + timedelta(hours=n),
                                   published_at=T0, reach={}, content_hash=f"{n:064x}",
                                   brands=[MentionBrand(brand="Acme")]))


def test_the_backfill_groups_stored_mentions_into_contacts(database_url: str, clock: FakeClock) -> None:
    store = Store(database_url)
    fill_at_previous_revision(store)
    upgrade(store)
    assert store.is_current()
    with store.read() as session:
        by_external = dict(session.execute(select(MentionRow.external_id, MentionRow.id)).all())
        identity_of = dict(session.execute(select(IdentityMention.mention_id, IdentityMention.identity_id)).all())
        identities = {i.id: i for i in session.scalars(select(Identity))}
        assert session.scalar(select(func.count()).select_from(Contact)) == len(identities) == 8

        def ident(n: int) -> Identity:
            return identities[identity_of[by_external[f"old-{n}"]]]

        assert ident(0).id == ident(1).id and (ident(0).platform, ident(0).account) == ("reddit", "kundin_77")
        assert ident(0).handle == "kundin_77"  # the later spelling
        assert ident(0).first_seen_at == T0 and ident(0).last_seen_at == T0 + timedelta(hours=1)
        assert ident(2).account == "name:kundin_77" and ident(2).id != ident(0).id
        assert ident(3).id == ident(4).id != ident(5).id
        assert ident(3).platform == "discourse:forum.acme.example" and ident(3).account == "kundin_77"
        assert ident(3).profile_url == "https://forum.acme.example/u/Kundin_77"
        assert ident(6).id == ident(7).id and ident(6).account == "kundin77@mastodon.social"
        assert ident(8).platform == "feed:source=news" and ident(8).account == "name:Jane Doe"
        assert by_external["old-9"] not in identity_of and by_external["old-10"] not in identity_of
        assert ident(11).id != ident(12).id
        assert {i.contact_id for i in identities.values()} == set(identities)  # one contact each, nothing merged
        assert ident(0).name_key == ident(2).name_key == name_key("kundin_77")  # … but suggestions can see them
        named = session.execute(select(MentionHandle.mention_id, MentionHandle.name_key)).all()
        assert [tuple(row) for row in named] == [(by_external["old-0"], "kundin77")]

    # Ingest after the upgrade finds the backfilled identities (and the id sequences moved past them on PostgreSQL).
    clock.advance(T0 + timedelta(days=1) - clock.now())
    reddit, forum = platform("reddit", "reddit-de", clock), platform("discourse", "forum", clock)
    new_reddit = say(store, reddit, clock, "KUNDIN_77")
    new_forum = say(store, forum, clock, "kundin_77", url="https://forum.acme.example/t/10")
    fresh = say(store, forum, clock, "someone_new", url="https://forum.acme.example/t/11")
    with store.read() as session:
        linked = dict(session.execute(select(IdentityMention.mention_id, IdentityMention.identity_id)).all())
        assert linked[new_reddit] == identity_of[by_external["old-0"]]
        assert linked[new_forum] == identity_of[by_external["old-3"]]
        assert linked[fresh] not in identities
        assert session.scalar(select(func.count()).select_from(Contact)) == 9
    store.dispose()


def test_the_migration_goes_down_and_up(database_url: str) -> None:
    store = Store(database_url)
    fill_at_previous_revision(store)
    upgrade(store)
    command.downgrade(alembic_config(store), PREVIOUS)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mentions")).scalar() == len(OLD_MENTIONS)
    upgrade(store)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(IdentityMention)) == len(OLD_MENTIONS) - 2
    store.dispose()


def _migration() -> ModuleType:
    path = MIGRATIONS / "versions" / "0012_contacts.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_frozen_keying_rule_agrees_with_ingest() -> None:
    """The migration keeps its own copy of the rule (migrations must not change with the code); today both agree."""
    migration = _migration()
    for source, kind, author, url in OLD_MENTIONS + [
        ("bsky", "bluesky", "Kundin77.bsky.social", "https://bsky.app/profile/kundin77.bsky.social/post/1"),
        ("yt", "youtube", "Kundin 77", "https://www.youtube.com/watch?v=x"),
        ("se", "stackexchange", "Anna", "https://stackoverflow.com/q/1"),
        ("rv", "reviews", "Anna B.", "https://shop.example/p/1"),
        ("forum", "discourse", "Kundin_77", "HTTPS://User:pw@WWW.Forum.Example:8443/t/1?x=1#y"),
        ("masto", "mastodon", "@kundin77", None),
        ("news", "feed", "Jane", "not a link"),
    ]:
        if not author:
            continue
        live = identity_key(kind, source, url, author)
        assert live is not None
        (platform_, account), columns = migration.identity_of(kind, url, author, source)
        assert (platform_, account) == (live.platform, live.account), (kind, author)
        assert columns == {"handle": live.handle, "profile_url": live.profile_url, "name_key": live.name_key}
    assert host_of("HTTPS://User:pw@WWW.Forum.Example:8443/t/1") == "forum.example"
    assert host_of("mailto:someone@example.org") is None and host_of(None) is None
    for sample in ("@Kundin77 und u/kundin_77, Max1987, max, ab_cd, user.name99 und jemand@example.org",
                   "Acme kündigt mir, @Kündin_77!"):
        assert migration.named_handles(sample) == named_handles(sample)
