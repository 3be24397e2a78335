"""At ingest: each stored mention is linked to its author's identity (found or created, with a new contact),
in the transaction that stores the mention (listener/pipeline.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.contacts.keys import UNIQUE_HANDLES, IdentityKey, identity_key, named_handles
from listener.contacts.models import Contact, Identity, IdentityMention, MentionHandle
from listener.domain import Mention
from listener.store.models import MentionRow

# `session.info` key of the author pseudonymiser (listener/ops/privacy.py: install_pseudonymiser sets it).
PSEUDONYMISE = "listener.pseudonymise"


def _pseudonymiser(session: Session) -> Callable[[str], str] | None:
    value = session.info.get(PSEUDONYMISE)
    return value if callable(value) else None


def identity_for(session: Session, key: IdentityKey, now: datetime) -> Identity:
    """The identity of `key`, created with a contact of its own when it is new; what it shows is refreshed."""
    identity = session.scalar(select(Identity).where(Identity.platform == key.platform,
                                                     Identity.account == key.account))
    if identity is None and key.legacy_account and key.platform in UNIQUE_HANDLES:
        # Known so far by its handle only (mentions from before the platform's id was recorded): one account.
        identity = session.scalar(select(Identity).where(Identity.platform == key.platform,
                                                         Identity.account == key.legacy_account))
        if identity is not None:
            identity.account = key.account
    if identity is None:
        contact = Contact(created_at=now)
        identity = Identity(contact=contact, platform=key.platform, account=key.account, first_seen_at=now,
                            last_seen_at=now)
        session.add(identity)
    identity.handle = key.handle
    identity.display_name = key.display_name or identity.display_name
    identity.profile_url = key.profile_url or identity.profile_url
    identity.name_key, identity.display_key = key.name_key, key.display_key or identity.display_key
    identity.last_seen_at = max(identity.last_seen_at, now)
    return identity


def link_mention(session: Session, row: MentionRow, mention: Mention, now: datetime) -> Identity | None:
    """Link a just-stored mention (flushed, so it has an id) to its author's identity; None when it names nobody."""
    key = identity_key(mention.source_kind, mention.source_name, mention.url, mention.author, mention.author_id,
                       mention.author_url, mention.author_name, _pseudonymiser(session))
    if key is None:
        return None
    identity = identity_for(session, key, now)
    _link(session, row, identity)
    return identity


def _link(session: Session, row: MentionRow, identity: Identity) -> None:
    session.flush()
    session.add(IdentityMention(mention_id=row.id, identity_id=identity.id))
    text = f"{row.title or ''}\n{row.text}"
    session.add_all(MentionHandle(mention_id=row.id, name_key=key) for key in sorted(named_handles(text)))


def link_row(session: Session, row: MentionRow, now: datetime) -> Identity | None:
    """The identity of a stored mention, linking it from its stored author when it has none yet (a mention written
    by something other than a poll). The stored author is already pseudonymised where that is configured."""
    found = session.scalar(select(Identity).join(IdentityMention, IdentityMention.identity_id == Identity.id)
                           .where(IdentityMention.mention_id == row.id))
    if found is not None or not row.author:
        return found
    key = identity_key(row.source_kind, row.source.name, row.url, row.author,
                       hashed=_pseudonymiser(session) is not None)
    if key is None:
        return None
    identity = identity_for(session, key, now)
    _link(session, row, identity)
    return identity
