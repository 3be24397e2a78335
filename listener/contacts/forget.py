"""What a privacy erase (listener/ops/privacy.py) does to contacts: erased mentions leave their identities, and an
identity left without mentions — its handle, display name, profile URL and account id — is deleted. A contact
left without identities is marked erased (its row holds nothing personal: an id and dates). The reasons agents gave
for links of the contacts concerned (they may quote a handle) are cleared; who linked what and when stays."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import CompoundSelect, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from listener.contacts.models import Contact, ContactLink, Identity, IdentityMention, MentionHandle, TaskFollowUp
from listener.store.models import TaskRow


def tasks_touching(mention_ids: Sequence[int]) -> CompoundSelect[int]:
    """The ids of the tasks whose own mention or a follow-up is among `mention_ids` (a subquery)."""
    return select(TaskRow.id).where(TaskRow.mention_id.in_(mention_ids)).union(
        select(TaskFollowUp.task_id).where(TaskFollowUp.mention_id.in_(mention_ids)))


def forget_mentions(session: Session, mention_ids: Sequence[int], now: datetime,
                    clear_link_reasons: bool = True) -> int:
    """Unlink erased (or expiring) mentions from their identities; delete the identities left without mentions.
    Returns how many identities were deleted."""
    if not mention_ids:
        return 0
    identity_ids = list(session.scalars(select(IdentityMention.identity_id).distinct()
                                        .where(IdentityMention.mention_id.in_(mention_ids))))
    if clear_link_reasons:
        _clear_link_reasons(session, set(session.scalars(select(Identity.contact_id)
                                                         .where(Identity.id.in_(identity_ids)))))
    session.execute(delete(IdentityMention).where(IdentityMention.mention_id.in_(mention_ids)))
    session.execute(delete(MentionHandle).where(MentionHandle.mention_id.in_(mention_ids)))
    empty = list(session.scalars(select(Identity).where(
        Identity.id.in_(identity_ids), ~exists().where(IdentityMention.identity_id == Identity.id))))
    contact_ids = {identity.contact_id for identity in empty}
    for identity in empty:
        session.delete(identity)
    session.flush()
    for contact in session.scalars(select(Contact).where(Contact.id.in_(contact_ids))):
        if not session.scalar(select(exists().where(Identity.contact_id == contact.id))):
            contact.erased_at = now
    return len(empty)


def _clear_link_reasons(session: Session, contact_ids: set[int]) -> None:
    if contact_ids:
        session.execute(update(ContactLink).where(or_(ContactLink.kept_id.in_(contact_ids),
                                                      ContactLink.merged_id.in_(contact_ids))).values(reason=None))


def erase_contact(session: Session, contact_id: int, now: datetime) -> int:
    """After its mentions were erased: delete whatever identities the contact still has (ones whose mentions
    retention already removed), mark it erased, clear its links' reasons. Returns the identities deleted."""
    identities = list(session.scalars(select(Identity).where(Identity.contact_id == contact_id)))
    linked = set(session.scalars(select(Contact.id).where(Contact.merged_into_id == contact_id))) | {contact_id}
    _clear_link_reasons(session, linked)
    for identity in identities:
        session.delete(identity)
    session.flush()
    session.get_one(Contact, contact_id).erased_at = now
    return len(identities)
