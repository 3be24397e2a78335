"""Contacts that may be the same person as this one — for an agent to confirm, never merged on their own.

Three signs, each named in the suggestion:
  * the same profile URL (after normalising: https, host case, www., trailing slash);
  * the same name once folded (`kundin_77`, `Kundin77`, `Kündin 77`; handles and display names alike, at least four
    letters or digits);
  * one of this contact's mentions names the other's handle (`@kundin77`, `u/kundin_77`, or a handle-like word
    such as `kundin_77`), or one of the other's mentions names this contact's (the handles a text names are
    indexed at ingest: `mention_handles`).
A pair whose link an agent undid is not suggested again. Every lookup goes through an index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from listener.contacts.lookup import ContactCard, card, live_contact, mention_ids_of
from listener.contacts.models import Contact, ContactLink, Identity, IdentityMention, MentionHandle

CANDIDATES = 50  # identities considered per sign (a common name must not read half the table)


@dataclass
class Suggestion:
    contact: ContactCard
    reasons: list[str] = field(default_factory=list)


def _undone_pairs(session: Session, contact_id: int) -> set[int]:
    rows = session.execute(select(ContactLink.kept_id, ContactLink.merged_id).where(
        ContactLink.undone_at.is_not(None),
        or_(ContactLink.kept_id == contact_id, ContactLink.merged_id == contact_id)))
    return {other for pair in rows for other in pair if other != contact_id}


def suggestions(session: Session, contact_id: int, limit: int = 10) -> list[Suggestion]:
    """Other contacts that may be this person, with the reasons, strongest first."""
    contact = live_contact(session, contact_id)
    if contact is None or not contact.identities:
        return []
    mine = contact.identities
    found: dict[int, list[str]] = {}

    def note(identity: Identity, reason: str) -> None:
        reasons = found.setdefault(identity.contact_id, [])
        if reason not in reasons:
            reasons.append(reason)

    others = Identity.contact_id != contact.id
    profiles = {i.profile_url for i in mine if i.profile_url}
    if profiles:
        for identity in session.scalars(select(Identity).where(others, Identity.profile_url.in_(profiles))
                                        .limit(CANDIDATES)):
            note(identity, f"same profile {identity.profile_url}")
    names = {key for i in mine for key in (i.name_key, i.display_key) if key}
    if names:
        for identity in session.scalars(select(Identity).where(
                others, or_(Identity.name_key.in_(names), Identity.display_key.in_(names)))
                .order_by(Identity.last_seen_at.desc()).limit(CANDIDATES)):
            mine_named = next(i for i in mine if {i.name_key, i.display_key} & {identity.name_key,
                                                                                identity.display_key})
            note(identity, f"same name: {mine_named.kind} “{mine_named.label}”, {identity.kind} “{identity.label}”")
    # This contact's posts naming a handle of someone else …
    mine_mentions = mention_ids_of(contact.id)
    named = dict(session.execute(select(MentionHandle.name_key, func.max(MentionHandle.mention_id))
                                 .where(MentionHandle.mention_id.in_(mine_mentions))
                                 .group_by(MentionHandle.name_key).limit(CANDIDATES)).all())
    if named:
        for identity in session.scalars(select(Identity).where(
                others, or_(Identity.name_key.in_(named), Identity.display_key.in_(named)))
                .order_by(Identity.last_seen_at.desc()).limit(CANDIDATES)):
            hit = identity.name_key if identity.name_key in named else identity.display_key
            note(identity, f"mention #{named[str(hit)]} names {identity.kind} “{identity.label}”")
    # … and someone else's posts naming one of this contact's handles.
    if names:
        for mention_id, key, identity in session.execute(
                select(MentionHandle.mention_id, MentionHandle.name_key, Identity)
                .join(IdentityMention, IdentityMention.mention_id == MentionHandle.mention_id)
                .join(Identity, Identity.id == IdentityMention.identity_id)
                .where(others, MentionHandle.name_key.in_(names))
                .order_by(MentionHandle.mention_id.desc()).limit(CANDIDATES)).all():
            mine_named = next(i for i in mine if key in (i.name_key, i.display_key))
            note(identity, f"mention #{mention_id} by {identity.kind} “{identity.label}” names "
                           f"{mine_named.kind} “{mine_named.label}”")
    for other in _undone_pairs(session, contact.id):
        found.pop(other, None)
    ranked = sorted(found.items(), key=lambda item: (-len(item[1]), -item[0]))[:limit]
    cards = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_([k for k, _ in ranked])))}
    return [Suggestion(card(cards[contact_id]), reasons) for contact_id, reasons in ranked]
