"""Privacy requests: what is stored about a person (GDPR Art. 15) and erasing it (Art. 17).

A request selects mentions by author (optionally on one source), by URL, or by contact (every identity of a
contact across platforms: listener/contacts). `export` returns everything stored about them as plain data.
`erase` removes the personal data and keeps the counts:
  * the mention row stays, anonymised — text, title, author, URL, thread/parent ids and reach blanked, the
    external id and content hash replaced by digests — so it still counts in every past week's volume,
    sentiment and brand figures (brands, score probabilities, categories and dates stay);
  * near-duplicate copies of an erased mention (the same text, reposted) are erased with it;
  * its label and near-duplicate keys are deleted; the reasons of its score and task (which quote the text)
    and the task's note are cleared, as is the free text of its activity log (who did what and when stays),
    the task's status and times stay (response-time statistics);
  * survey answers of its tasks lose their comment; score and times stay (listener/surveys/privacy.py);
  * outbox rows not yet delivered are deleted (there is nothing left to announce); delivered ones keep only
    channel, status and times — alert texts are rendered at send time and never stored;
  * identities left without mentions are deleted (listener/contacts/forget.py); by contact, all of its identities;
  * a `privacy_audit` row records the action, when, by whom, the counts and a SHA-256 digest of the selector —
    never the name, URL or text.
On SQLite the erase runs with `secure_delete` and truncates the write-ahead log afterwards, so the old text does
not linger in free pages of the file. On PostgreSQL the old row versions stay in the table files until VACUUM
reclaims them (autovacuum does, or run `VACUUM` yourself).

With `[privacy] pseudonymise_authors = true`, author names are replaced by a keyed hash (HMAC-SHA256 with the
secret named by `author_key_secret`) before they are stored; requests hash the given name the same way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, event, select, update
from sqlalchemy.orm import Session

from listener.contacts.forget import erase_contact, forget_mentions, tasks_touching
from listener.contacts.ingest import PSEUDONYMISE
from listener.contacts.lookup import card, live_contact, mention_ids_of
from listener.contacts.models import ContactLink, TaskFollowUp
from listener.dedup import erased_external_id
from listener.domain import PSEUDONYM_PREFIX, AlertStatus
from listener.ops.settings import PrivacySettings
from listener.secrets import get_secret
from listener.store.engine import Store
from listener.store.models import (
    AlertRow,
    HandoffRow,
    MentionLabel,
    MentionRow,
    NearDupKey,
    PrivacyAudit,
    ReplyRow,
    SourceRow,
    TaskEvent,
    TaskRow,
)
from listener.surveys.privacy import answer_record, erase_comment

UNSENT = (AlertStatus.PENDING, AlertStatus.SENDING, AlertStatus.PARKED)


class PrivacyError(ValueError):
    pass


def pseudonym(name: str, key: bytes) -> str:
    return PSEUDONYM_PREFIX + hmac.new(key, name.encode("utf-8"), hashlib.sha256).hexdigest()[:40]


def author_key(settings: PrivacySettings) -> bytes | None:
    """The HMAC key when authors are pseudonymised (MissingSecret names the secret when it is not there)."""
    return get_secret(settings.author_key_secret).encode("utf-8") if settings.pseudonymise_authors else None


def install_pseudonymiser(store: Store, key: bytes) -> None:
    """Replace the author of every mention this store writes by its pseudonym, before it reaches the database."""

    def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
        for obj in session.new:
            if isinstance(obj, MentionRow) and obj.author and not obj.author.startswith(PSEUDONYM_PREFIX):
                obj.author = pseudonym(obj.author, key)

    event.listen(store._writer, "before_flush", _before_flush)  # the sessions that write
    # Identities (listener/contacts/ingest.py) hash account and handle the same way before looking them up.
    store._writer.configure(info={PSEUDONYMISE: lambda name: pseudonym(name, key)})


@dataclass(frozen=True)
class Selector:
    author: str | None = None
    url: str | None = None
    source: str | None = None  # a configured source name
    contact: int | None = None  # a contact id (listener/contacts): its mentions on every platform

    def __post_init__(self) -> None:
        if sum(bool(x) for x in (self.author, self.url, self.contact)) != 1:
            raise PrivacyError("give exactly one of --author NAME, --url URL or --contact ID")
        if self.contact and self.source:
            raise PrivacyError("--contact covers every platform of the contact; --source does not apply")

    @property
    def kind(self) -> str:
        return "author" if self.author else "url" if self.url else "contact"

    @property
    def digest(self) -> str:
        value = self.author or self.url or str(self.contact)
        return hashlib.sha256(f"{self.kind}:{value}:{self.source or ''}".encode()).hexdigest()

    def resolved(self, session: Session) -> Selector:
        """With `contact`: the contact it names, or the one it was linked into (PrivacyError when there is none)."""
        if not self.contact:
            return self
        contact = live_contact(session, self.contact)
        if contact is None:
            raise PrivacyError(f"no contact #{self.contact}")
        return replace(self, contact=contact.id)

    def query(self, key: bytes | None) -> Select[MentionRow]:
        query = select(MentionRow).order_by(MentionRow.id)
        if self.contact:
            return query.where(MentionRow.id.in_(mention_ids_of(self.contact)))
        if self.author:
            names = {self.author} | ({pseudonym(self.author, key)} if key else set())
            query = query.where(MentionRow.author.in_(names))
        else:
            query = query.where(MentionRow.url == self.url)
        if self.source:
            query = query.join(SourceRow, SourceRow.id == MentionRow.source_id).where(SourceRow.name == self.source)
        return query


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _mention_record(session: Session, row: MentionRow) -> dict[str, Any]:
    score, label = row.score, row.label
    task = session.scalar(select(TaskRow).where(TaskRow.mention_id == row.id))
    follow_up_of = session.scalar(select(TaskFollowUp.task_id).where(TaskFollowUp.mention_id == row.id))
    alerts = session.scalars(select(AlertRow).where(AlertRow.mention_id == row.id).order_by(AlertRow.id))
    return {
        "id": row.id, "source": row.source.name, "source_kind": row.source_kind, "external_id": row.external_id,
        "url": row.url, "author": row.author, "title": row.title, "text": row.text,
        "published_at": _iso(row.published_at), "fetched_at": _iso(row.fetched_at), "rating": row.rating,
        "reach": row.reach, "thread_id": row.thread_id, "parent_id": row.parent_id, "reply_ref": row.reply_ref,
        "brands": row.brand_names, "near_duplicate_of": row.canonical_id, "follow_up_of_task": follow_up_of,
        "score": None if score is None else {
            "model_version": score.model_version, "language": score.language, "sentiment": score.sentiment,
            "probabilities": score.probabilities, "categories": score.categories, "urgency": score.urgency,
            "reasons": score.reasons, "scored_at": _iso(score.scored_at)},
        "label": None if label is None else {
            "sentiment": label.sentiment, "service_categories": label.service_categories,
            "labelled_by": label.labelled_by, "labelled_at": _iso(label.labelled_at)},
        "task": None if task is None else {
            "id": task.id, "status": task.status, "priority": task.priority, "reasons": task.reasons,
            "note": task.note, "created_at": _iso(task.created_at), "closed_at": _iso(task.closed_at),
            "survey_answer": answer_record(session, task.id)},
        "alerts": [{"channel": a.channel, "status": a.status, "created_at": _iso(a.created_at),
                    "sent_at": _iso(a.sent_at)} for a in alerts],
        "replies": [{"text": r.text, "status": r.status, "url": r.url, "author": r.author,
                     "posted_at": _iso(r.posted_at)} for r in session.scalars(
            select(ReplyRow).where(ReplyRow.mention_id == row.id).order_by(ReplyRow.id))],
    }


def _audit(session: Session, action: str, selector: Selector, by: str, now: datetime, counts: dict[str, int]) -> None:
    session.add(PrivacyAudit(at=now, action=action, by=by, selector=selector.kind, selector_digest=selector.digest,
                             source=selector.source, counts=counts))


# What other parts hold about the selected mentions and tasks, for the export (e.g. tickets in a helpdesk, which
# an erase here cannot reach): name -> function(session, mention ids, task ids) -> JSON-able data.
ExportSection = Callable[[Session, list[int], list[int]], Any]
export_sections: dict[str, ExportSection] = {}


def export_section(name: str) -> Callable[[ExportSection], ExportSection]:
    """Register a section of `listener privacy export` (usable as a decorator)."""
    def register(section: ExportSection) -> ExportSection:
        export_sections[name] = section
        return section
    return register


@export_section("helpdesk")  # (tests/contacts/test_privacy.py borrows "helpdesk_tickets")
def helpdesk_tickets(session: Session, mention_ids: list[int], task_ids: list[int]) -> list[dict[str, Any]]:
    """The helpdesk tickets of the exported tasks (listener/delivery/helpdesk): an erase here cannot reach them,
    so the operator erases them in the helpdesk too (docs/privacy.md)."""
    rows = session.scalars(select(HandoffRow).where(HandoffRow.task_id.in_(task_ids)).order_by(HandoffRow.id))
    return [{"task": r.task_id, "channel": r.channel, "ticket_id": r.ticket_id, "ticket_url": r.ticket_url,
             "our_key": r.external_id, "requester_id": r.requester_ref, "state": r.state} for r in rows]


def _contact_record(session: Session, contact_id: int) -> dict[str, Any]:
    contact = live_contact(session, contact_id)
    assert contact is not None
    links = session.scalars(select(ContactLink).where(
        (ContactLink.kept_id == contact.id) | (ContactLink.merged_id == contact.id)).order_by(ContactLink.id))
    return {"id": contact.id, "created_at": _iso(contact.created_at),
            "identities": [{"platform": i.platform, "account": i.account, "handle": i.handle,
                            "display_name": i.display_name, "profile_url": i.profile_url,
                            "first_seen_at": _iso(i.first_seen_at), "last_seen_at": _iso(i.last_seen_at)}
                           for i in card(contact).identities],
            "links": [{"linked_by": link.linked_by, "linked_at": _iso(link.linked_at), "reason": link.reason,
                       "undone_by": link.undone_by, "undone_at": _iso(link.undone_at)} for link in links]}


def export(store: Store, selector: Selector, key: bytes | None, by: str, now: datetime) -> dict[str, Any]:
    """Everything stored about the selected mentions (Art. 15); the request itself is audited."""
    with store.write() as session:
        selector = selector.resolved(session)
        mentions = [_mention_record(session, row) for row in session.scalars(selector.query(key))]
        _audit(session, "export", selector, by, now, {"mentions": len(mentions)})
        mention_ids = [m["id"] for m in mentions]
        task_ids = sorted({m["task"]["id"] for m in mentions if m["task"]}
                          | {m["follow_up_of_task"] for m in mentions if m["follow_up_of_task"]})
        sections = {name: section(session, mention_ids, task_ids) for name, section in export_sections.items()}
        contact = _contact_record(session, selector.contact) if selector.contact else None
    request: dict[str, Any] = {"author": selector.author} if selector.author else \
        {"url": selector.url} if selector.url else {"contact": selector.contact}
    if selector.source:
        request["source"] = selector.source
    data = {"request": request, "exported_at": now.isoformat(), "mentions": mentions}
    if contact is not None:
        data["contact"] = contact
    return data | sections


def _anonymise(row: MentionRow) -> None:
    row.external_id = erased_external_id(row.source_id, row.external_id)  # the source will not import it again
    row.content_hash = hashlib.sha256(f"erased:{row.id}".encode()).hexdigest()
    row.text, row.title, row.author, row.url = "", None, None, None
    row.reply_ref = {}  # e.g. the author's handle a reply would @mention
    row.reach, row.thread_id, row.parent_id, row.score_error = {}, None, None, None
    if row.score is not None:
        row.score.reasons = []


def erase(store: Store, selector: Selector, key: bytes | None, by: str, now: datetime) -> dict[str, int]:
    """Erase the personal data of the selected mentions and their copies (Art. 17); returns what was done."""
    counts = {"mentions": 0, "copies": 0, "labels": 0, "near_dup_keys": 0, "tasks": 0, "alerts_deleted": 0,
              "identities": 0}
    with store.write() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        if sqlite:  # deleted and overwritten cells are zeroed in the file, not just marked free
            session.connection().exec_driver_sql("PRAGMA secure_delete=ON")
        selector = selector.resolved(session)
        rows = list(session.scalars(selector.query(key)))
        ids = [r.id for r in rows]
        copies = list(session.scalars(select(MentionRow).where(MentionRow.canonical_id.in_(ids),
                                                               MentionRow.id.not_in(ids))))
        all_ids = ids + [c.id for c in copies]
        counts["mentions"], counts["copies"] = len(rows), len(copies)
        for row in rows + copies:
            _anonymise(row)
        session.flush()
        # Tasks of the mentions, and tasks they joined as follow-ups (whose notes may quote them).
        for task in session.scalars(select(TaskRow).where(TaskRow.id.in_(tasks_touching(all_ids)))):
            task.reasons, task.note = [], None
            counts["tasks"] += 1
            counts["survey_comments"] = counts.get("survey_comments", 0) + erase_comment(session, task.id)
            # The activity log keeps who did what and when; its free text (notes, replies) may quote the author.
            session.execute(update(TaskEvent).where(TaskEvent.task_id == task.id).values(detail=None))
        counts["labels"] = int(session.execute(  # type: ignore[attr-defined]
            delete(MentionLabel).where(MentionLabel.mention_id.in_(all_ids))).rowcount)
        counts["near_dup_keys"] = int(session.execute(  # type: ignore[attr-defined]
            delete(NearDupKey).where(NearDupKey.mention_id.in_(all_ids))).rowcount)
        counts["alerts_deleted"] = int(session.execute(  # type: ignore[attr-defined]
            delete(AlertRow).where(AlertRow.mention_id.in_(all_ids), AlertRow.status.in_(UNSENT))).rowcount)
        for alert in session.scalars(select(AlertRow).where(AlertRow.mention_id.in_(all_ids))):
            alert.last_error = None
        counts["identities"] = forget_mentions(session, all_ids, now)
        if selector.contact:
            counts["identities"] += erase_contact(session, selector.contact, now)
        # Our replies may quote or greet the author: unsent ones go, posted ones keep only where they are.
        counts["replies_deleted"] = int(session.execute(  # type: ignore[attr-defined]
            delete(ReplyRow).where(ReplyRow.mention_id.in_(all_ids), ReplyRow.status != "posted")).rowcount)
        session.execute(update(ReplyRow).where(ReplyRow.mention_id.in_(all_ids))
                        .values(text="", review_note=None, last_error=None))
        _audit(session, "erase", selector, by, now, counts)
    if sqlite:
        with store.engine.connect() as conn:  # old page images in the write-ahead log go too
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return counts
