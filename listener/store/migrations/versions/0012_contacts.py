"""contacts: identities across platforms, follow-ups of open tasks, merges — and every stored mention backfilled

Revision ID: 0012_contacts
Revises: 0012_replies (re-chained at the merge into surveys: the replies and contacts branches both added a 0012
on 0011_spikes; this one now follows 0012_replies so the chain stays linear, its revision id unchanged)
Create Date: 2026-12-10 10:00:00

Every mention with an author gets an identity: same platform + same account key → one identity, one contact (the
rule of listener/contacts/keys.py, frozen here as it stood: a test checks both agree). Stored mentions carry only
the author's name, so their key is the handle where handles are unique on the platform, else `name:` + the name.
Nothing is merged across platforms. The backfill reads mentions in id order, a batch at a time, and writes with
executemany: two passes over the mentions table, memory for one entry per distinct author.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from alembic import op

from listener.text import words

revision = "0012_contacts"
down_revision = "0012_replies"  # was 0011_spikes on its own branch (see the docstring)
branch_labels = None
depends_on = None

BATCH = 5000

# ------------------------------------------------------------------ the keying rule as of this revision (frozen)
GLOBAL_PLATFORMS = {"reddit", "hackernews", "mastodon", "bluesky", "youtube", "appstore", "googleplay", "trustpilot"}
UNIQUE_HANDLES = {"reddit", "hackernews", "mastodon", "bluesky", "discourse"}
CASE_INSENSITIVE = {"reddit", "mastodon", "bluesky", "discourse"}
PSEUDONYM_PREFIX = "hmac:"  # [privacy] pseudonymise_authors: the stored author is a keyed hash, nothing to derive


_HOST = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.\-]*://(?:[^/?#@]*@)?([^/?#:@\s]+)")


def host_of(url: str | None) -> str | None:
    match = _HOST.match(url or "")
    if not match:
        return None
    host = match.group(1).lower()
    return host[4:] if host.startswith("www.") else host


def platform_of(kind: str, url: str | None, source_name: str) -> str:
    if kind in GLOBAL_PLATFORMS:
        return kind
    host = host_of(url)
    return f"{kind}:{host}" if host else f"{kind}:source={source_name}"


def name_account(kind: str, handle: str, url: str | None) -> str:
    name = handle.strip()
    if kind == "mastodon":
        name = name.lstrip("@")
        host = host_of(url)
        if "@" not in name and host:
            name = f"{name}@{host}"
    if kind in CASE_INSENSITIVE:
        name = name.lower()
    return name if kind in UNIQUE_HANDLES else "name:" + name


def name_key(name: str | None) -> str | None:
    if not name:
        return None
    key = "".join(words(name))[:200]
    return key if len(key) >= 4 else None


_HANDLE_LIKE = re.compile(r"(?:(?<![\w@])@|\bu/)([\w][\w.\-]{2,})|\b([A-Za-z]+[_\-.]?\d+\w*|[A-Za-z]+_\w+)\b")


def named_handles(text: str) -> set[str]:
    found = set()
    for at_name, handle_like in _HANDLE_LIKE.findall(text):
        key = name_key((at_name or handle_like).split("@")[0])
        if key:
            found.add(key)
    return found


def derived_profile(kind: str, handle: str, url: str | None) -> str | None:
    name = handle.strip()
    if kind == "reddit":
        return f"https://reddit.com/user/{quote(name.removeprefix('u/').removeprefix('/u/'))}"
    if kind == "hackernews":
        return f"https://news.ycombinator.com/user?id={quote(name)}"
    if kind == "bluesky":
        return f"https://bsky.app/profile/{quote(name)}"
    if kind == "discourse" and host_of(url):
        return f"https://{host_of(url)}/u/{quote(name)}"
    if kind == "mastodon":
        user, _, host = name.lstrip("@").partition("@")
        host = host or host_of(url) or ""
        return f"https://{host}/@{quote(user)}" if host else None
    return None


def key_of(kind: str, url: str | None, author: str, source_name: str) -> tuple[str, str]:
    """(platform, account) of one stored mention's author."""
    return platform_of(kind, url, source_name), name_account(kind, author.strip(), url)[:500]


def identity_of(kind: str, url: str | None, author: str, source_name: str) -> tuple[tuple[str, str], dict[str, Any]]:
    """(platform, account) and the identity's columns, for one stored mention."""
    handle = author.strip()
    platform, account = key_of(kind, url, author, source_name)
    hashed = handle.startswith(PSEUDONYM_PREFIX)
    profile = None if hashed else derived_profile(kind, handle, url)  # already in normalised form
    local = handle.lstrip("@").split("@")[0] if platform == "mastodon" else handle
    local = local.removesuffix(".bsky.social") if platform == "bluesky" else local
    return (platform, account), {"handle": handle[:500], "profile_url": profile[:1000] if profile else None,
                                 "name_key": name_key(local)}


# ------------------------------------------------------------------ schema
def create_tables() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contacts_merged_into_id", "contacts", ["merged_into_id"])
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("platform", sa.String(length=300), nullable=False),
        sa.Column("account", sa.String(length=500), nullable=False),
        sa.Column("handle", sa.String(length=500), nullable=True),
        sa.Column("display_name", sa.String(length=500), nullable=True),
        sa.Column("profile_url", sa.String(length=1000), nullable=True),
        sa.Column("name_key", sa.String(length=200), nullable=True),
        sa.Column("display_key", sa.String(length=200), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "account", name="uq_identities_platform_account"),
    )
    for column in ("contact_id", "profile_url", "name_key", "display_key"):
        op.create_index(f"ix_identities_{column}", "identities", [column])
    op.create_table(
        "identity_mentions",
        sa.Column("mention_id", sa.Integer(), sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("identity_id", sa.Integer(), sa.ForeignKey("identities.id", ondelete="CASCADE"), nullable=False),
        sa.PrimaryKeyConstraint("mention_id"),
    )
    op.create_index("ix_identity_mentions_identity_id", "identity_mentions", ["identity_id"])
    op.create_table(
        "mention_handles",
        sa.Column("mention_id", sa.Integer(), sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("mention_id", "name_key"),
    )
    op.create_index("ix_mention_handles_name_key", "mention_handles", ["name_key"])
    op.create_table(
        "contact_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("merged_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("identity_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("linked_by", sa.String(length=200), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("undone_by", sa.String(length=200), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_links_kept_id", "contact_links", ["kept_id"])
    op.create_index("ix_contact_links_merged_id", "contact_links", ["merged_id"])
    op.create_table(
        "task_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mention_id", sa.Integer(), sa.ForeignKey("mentions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=5), nullable=True),
        sa.Column("merged_from_task_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id"),
    )
    op.create_index("ix_task_followups_task", "task_followups", ["task_id", "joined_at"])
    op.create_table(
        "task_merges",
        sa.Column("from_task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("into_task_id", sa.Integer(), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("merged_by", sa.String(length=200), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("from_task_id"),
    )
    op.create_index("ix_task_merges_into_task_id", "task_merges", ["into_task_id"])


# ------------------------------------------------------------------ backfill
mentions_t = sa.table("mentions", sa.column("id", sa.Integer), sa.column("source_id", sa.Integer),
                      sa.column("source_kind", sa.String), sa.column("url", sa.Text), sa.column("author", sa.String),
                      sa.column("fetched_at", sa.DateTime(timezone=True)), sa.column("title", sa.Text),
                      sa.column("text", sa.Text))
sources_t = sa.table("sources", sa.column("id", sa.Integer), sa.column("name", sa.String))
contacts_t = sa.table("contacts", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime(timezone=True)))
identities_t = sa.table(
    "identities", sa.column("id", sa.Integer), sa.column("contact_id", sa.Integer), sa.column("platform", sa.String),
    sa.column("account", sa.String), sa.column("handle", sa.String), sa.column("profile_url", sa.String),
    sa.column("name_key", sa.String), sa.column("first_seen_at", sa.DateTime(timezone=True)),
    sa.column("last_seen_at", sa.DateTime(timezone=True)))
links_t = sa.table("identity_mentions", sa.column("mention_id", sa.Integer), sa.column("identity_id", sa.Integer))
handles_t = sa.table("mention_handles", sa.column("mention_id", sa.Integer), sa.column("name_key", sa.String))


def _utc(value: datetime | str | None) -> datetime:
    """SQLite hands back what was stored; the models store UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _authored(conn: sa.Connection, with_text: bool = False
              ) -> Iterator[tuple[int, str, str | None, str, datetime, str, str]]:
    """(id, kind, url, author, fetched_at, source name, title + text or "") of every mention with an author, in id
    order, by batches."""
    sources = {row[0]: row[1] for row in conn.execute(sa.select(sources_t.c.id, sources_t.c.name))}
    texts = [mentions_t.c.title, mentions_t.c.text] if with_text else [sa.null(), sa.null()]
    after = 0
    while True:
        rows = conn.execute(
            sa.select(mentions_t.c.id, mentions_t.c.source_id, mentions_t.c.source_kind, mentions_t.c.url,
                      mentions_t.c.author, mentions_t.c.fetched_at, *texts)
            .where(mentions_t.c.id > after, mentions_t.c.author.is_not(None), mentions_t.c.author != "")
            .order_by(mentions_t.c.id).limit(BATCH)).all()
        if not rows:
            return
        for mention_id, source_id, kind, url, author, fetched, title, text in rows:
            if author.strip():
                yield (mention_id, kind, url, author, _utc(fetched), str(sources.get(source_id, source_id)),
                       f"{title or ''}\n{text or ''}")
        after = rows[-1][0]


def backfill(conn: sa.Connection) -> None:
    identities: dict[tuple[str, str], dict[str, Any]] = {}
    for _mention_id, kind, url, author, fetched, source, _text in _authored(conn):
        key = key_of(kind, url, author, source)
        found = identities.get(key)
        if found is None:
            identities[key] = {"id": len(identities) + 1, "first_seen_at": fetched, "last_seen_at": fetched,
                               "latest": (kind, url, author, source)}
        else:
            found["first_seen_at"] = min(found["first_seen_at"], fetched)
            if fetched >= found["last_seen_at"]:  # the latest spelling of the handle is the one shown
                found.update(last_seen_at=fetched, latest=(kind, url, author, source))
    for found in identities.values():
        found.update(identity_of(*found.pop("latest"))[1])
    rows = list(identities.items())
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        conn.execute(contacts_t.insert(), [{"id": r["id"], "created_at": r["first_seen_at"]} for _key, r in chunk])
        conn.execute(identities_t.insert(), [
            {"id": r["id"], "contact_id": r["id"], "platform": platform, "account": account, "handle": r["handle"],
             "profile_url": r["profile_url"], "name_key": r["name_key"], "first_seen_at": r["first_seen_at"],
             "last_seen_at": r["last_seen_at"]} for (platform, account), r in chunk])
    pending: list[dict[str, int]] = []
    handles: list[dict[str, Any]] = []
    for mention_id, kind, url, author, _fetched, source, text in _authored(conn, with_text=True):
        pending.append({"mention_id": mention_id, "identity_id": identities[key_of(kind, url, author, source)]["id"]})
        handles += [{"mention_id": mention_id, "name_key": name} for name in sorted(named_handles(text))]
        if len(pending) >= BATCH:
            conn.execute(links_t.insert(), pending)
            pending = []
        if len(handles) >= BATCH:
            conn.execute(handles_t.insert(), handles)
            handles = []
    if pending:
        conn.execute(links_t.insert(), pending)
    if handles:
        conn.execute(handles_t.insert(), handles)
    if conn.dialect.name == "postgresql" and rows:  # ids were given explicitly: move the sequences past them
        for table in ("contacts", "identities"):
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))


def upgrade() -> None:
    create_tables()
    backfill(op.get_bind())


def downgrade() -> None:
    for index, table in (("ix_task_merges_into_task_id", "task_merges"), ("ix_task_followups_task", "task_followups"),
                         ("ix_contact_links_merged_id", "contact_links"), ("ix_contact_links_kept_id", "contact_links"),
                         ("ix_identity_mentions_identity_id", "identity_mentions"),
                         ("ix_mention_handles_name_key", "mention_handles")):
        op.drop_index(index, table_name=table)
    for table in ("task_merges", "task_followups", "contact_links", "mention_handles", "identity_mentions"):
        op.drop_table(table)
    for column in ("contact_id", "profile_url", "name_key", "display_key"):
        op.drop_index(f"ix_identities_{column}", table_name="identities")
    op.drop_table("identities")
    op.drop_index("ix_contacts_merged_into_id", table_name="contacts")
    op.drop_table("contacts")
