"""Reading contacts: a mention's or a task's contact, its identities, its mentions.

These are the functions other parts use (the task page, privacy requests, the helpdesk hand-off):
`contact_for_task(session, task_id)` and `contact_for_mention(session, mention_id)` return a `ContactCard` — the
live contact (links followed) with its identities as plain data — or None when the mention names nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from listener.contacts.models import Contact, Identity, IdentityMention, TaskFollowUp
from listener.store.models import TaskRow

MAX_LINK_DEPTH = 100  # a merged_into chain longer than this is a bug, not data


@dataclass(frozen=True)
class IdentityCard:
    id: int
    platform: str  # e.g. "reddit", "discourse:forum.example.de"
    kind: str  # the platform kind: "reddit", "discourse"
    account: str  # the platform's account id, the handle, or "name:" + the name (listener/contacts/keys.py)
    handle: str | None
    display_name: str | None
    profile_url: str | None
    first_seen_at: datetime
    last_seen_at: datetime

    @property
    def account_id(self) -> str | None:
        """The platform's own account key (id or unique handle); None when only a display name is known."""
        return None if self.account.startswith("name:") else self.account


@dataclass(frozen=True)
class ContactCard:
    id: int
    created_at: datetime
    identities: tuple[IdentityCard, ...]

    @property
    def external_id(self) -> str:
        """A stable id for systems outside listener (a helpdesk's external id): `listener-contact-<id>`."""
        return f"listener-contact-{self.id}"

    @property
    def name(self) -> str:
        """What to call the contact: the first identity's display name or handle."""
        for identity in self.identities:
            if identity.display_name or identity.handle:
                return str(identity.display_name or identity.handle)
        return f"contact #{self.id}"


def live_contact(session: Session, contact_id: int) -> Contact | None:
    """The contact itself, or the one it was linked into (following the chain)."""
    contact = session.get(Contact, contact_id)
    for _ in range(MAX_LINK_DEPTH):
        if contact is None or contact.merged_into_id is None:
            return contact
        contact = session.get(Contact, contact.merged_into_id)
    raise RuntimeError(f"contact #{contact_id}: the chain of links does not end")


def contact_of_mention(session: Session, mention_id: int) -> Contact | None:
    identity_id = session.scalar(select(IdentityMention.identity_id).where(IdentityMention.mention_id == mention_id))
    if identity_id is None:
        return None
    identity = session.get_one(Identity, identity_id)
    return live_contact(session, identity.contact_id)


def mention_ids_of(contact_id: int) -> Select[int]:
    """The ids of every mention by any identity of the (live) contact, as a subquery."""
    return (select(IdentityMention.mention_id).join(Identity, Identity.id == IdentityMention.identity_id)
            .where(Identity.contact_id == contact_id))


def task_mention_ids(session: Session, task_id: int) -> list[int]:
    """The task's own mention and the mentions that joined it."""
    own = session.scalar(select(TaskRow.mention_id).where(TaskRow.id == task_id))
    if own is None:
        return []
    joined = session.scalars(select(TaskFollowUp.mention_id).where(TaskFollowUp.task_id == task_id)
                             .order_by(TaskFollowUp.joined_at, TaskFollowUp.id))
    return [own, *joined]


def card(contact: Contact) -> ContactCard:
    return ContactCard(contact.id, contact.created_at, tuple(
        IdentityCard(i.id, i.platform, i.kind, i.account, i.handle, i.display_name, i.profile_url, i.first_seen_at,
                     i.last_seen_at) for i in contact.identities))


def contact_for_mention(session: Session, mention_id: int) -> ContactCard | None:
    """The contact who wrote the mention, with every identity; None when the mention names nobody."""
    contact = contact_of_mention(session, mention_id)
    return card(contact) if contact is not None else None


def contact_for_task(session: Session, task_id: int) -> ContactCard | None:
    """The contact of a task: the author of its own mention (after links), with every identity."""
    mention_id = session.scalar(select(TaskRow.mention_id).where(TaskRow.id == task_id))
    return contact_for_mention(session, mention_id) if mention_id is not None else None


def contact_card(session: Session, contact_id: int) -> ContactCard | None:
    """A contact by id (a linked one gives the contact it joined)."""
    contact = live_contact(session, contact_id)
    return card(contact) if contact is not None else None
