"""An agent says two contacts are one person (`link`), or takes that back (`unlink`).

Linking moves every identity of the second contact to the first and points the second at the first
(`merged_into_id`); the `contact_links` row records who, when, why and exactly which identities moved. Unlinking
moves those identities back, so the earlier split returns as it was. Links undo in any order, except that a contact
which was itself linked into another must be unlinked from that one first (its identities are there now). When it
is done on a task page, the task's activity log says so too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from listener.contacts.lookup import live_contact
from listener.contacts.models import Contact, ContactLink, Identity
from listener.store.models import TaskEvent

REASON_LIMIT = 500


class ContactError(Exception):
    pass


def _contact(session: Session, contact_id: int) -> Contact:
    contact = live_contact(session, contact_id)
    if contact is None:
        raise ContactError(f"no contact #{contact_id}")
    if contact.erased_at is not None and not contact.identities:
        raise ContactError(f"contact #{contact.id} was erased")
    return contact


def _names(contact: Contact) -> str:
    return ", ".join(f"{i.kind} {i.label}" for i in contact.identities) or "no identities"


def link(session: Session, keep_id: int, merge_id: int, actor: str, now: datetime, reason: str | None = None,
         task_id: int | None = None) -> ContactLink:
    """Make `merge_id`'s contact part of `keep_id`'s: all its identities move over. Logged and undoable."""
    keep, merge = _contact(session, keep_id), _contact(session, merge_id)
    if keep.id == merge.id:
        raise ContactError(f"contacts #{keep_id} and #{merge_id} are already one contact (#{keep.id})")
    moved = list(merge.identities)
    row = ContactLink(kept_id=keep.id, merged_id=merge.id, identity_ids=[i.id for i in moved],
                      reason=(reason or "").strip()[:REASON_LIMIT] or None, linked_by=actor, linked_at=now,
                      task_id=task_id)
    detail = f"contact #{merge.id} ({_names(merge)}) linked with contact #{keep.id}"
    for identity in moved:
        identity.contact_id = keep.id
    merge.merged_into_id = keep.id
    session.add(row)
    if task_id is not None:
        session.add(TaskEvent(task_id=task_id, at=now, actor=actor, action="contact_link",
                              detail=detail + (f": {row.reason}" if row.reason else "")))
    session.flush()
    session.expire(keep, ["identities"])
    session.expire(merge, ["identities"])
    return row


def unlink(session: Session, link_id: int, actor: str, now: datetime, task_id: int | None = None) -> ContactLink:
    """Undo a link: the identities it moved go back to the contact they came from."""
    row = session.get(ContactLink, link_id)
    if row is None:
        raise ContactError(f"no contact link #{link_id}")
    if row.undone_at is not None:
        raise ContactError(f"link #{link_id} was already undone by {row.undone_by}")
    kept = session.get_one(Contact, row.kept_id)
    if kept.merged_into_id is not None:
        later = session.scalar(select(ContactLink.id).where(ContactLink.merged_id == kept.id,
                                                            ContactLink.undone_at.is_(None)))
        raise ContactError(f"contact #{kept.id} was itself linked into contact #{kept.merged_into_id}"
                           + (f" (link #{later})" if later else "") + "; unlink that first")
    merged = session.get_one(Contact, row.merged_id)
    identities = list(session.scalars(select(Identity).where(Identity.id.in_(row.identity_ids))))
    for identity in identities:  # an identity erased since (privacy) is simply gone
        identity.contact_id = merged.id
    merged.merged_into_id = None
    row.undone_by, row.undone_at = actor, now
    if task_id is not None:
        names = ", ".join(f"{i.kind} {i.label}" for i in identities) or "no identities left"
        session.add(TaskEvent(task_id=task_id, at=now, actor=actor, action="contact_unlink",
                              detail=f"link #{row.id} undone: contact #{merged.id} ({names}) is separate again"))
    session.flush()
    session.expire(kept, ["identities"])
    session.expire(merged, ["identities"])
    return row


def links_of(session: Session, contact_id: int, include_undone: bool = True) -> list[ContactLink]:
    """The links that made this contact what it is (and, by default, those undone), newest first."""
    query = select(ContactLink).where(or_(ContactLink.kept_id == contact_id, ContactLink.merged_id == contact_id))
    if not include_undone:
        query = query.where(ContactLink.undone_at.is_(None))
    return list(session.scalars(query.order_by(ContactLink.linked_at.desc(), ContactLink.id.desc())))
