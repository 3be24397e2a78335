"""Contacts: the people behind mentions, across platforms (tables created by migration 0012_contacts).

A `Contact` groups `Identity` rows; an identity is one account on one platform (`platform` + `account`, unique),
and every mention by it is linked through `IdentityMention`; `MentionHandle` holds the handles a text names. Links
between contacts made by agents are kept in `ContactLink` (who, when, which identities moved), so each can be
undone. `TaskFollowUp` holds the mentions that joined an open task instead of opening another, and `TaskMerge` the
tasks an agent merged by hand.

These models share the store's declarative base; the store itself knows nothing of them (tables in
listener/store/models.py do not point here), so the early stages of the flow stay free of contacts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from listener.store.models import Base


class Contact(Base):
    """One person as far as the care team knows. A contact linked into another keeps its row (`merged_into_id`
    points at the one it joined), so a link can be undone and old references still lead somewhere."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    erased_at: Mapped[datetime | None]  # its identities are gone: a privacy erase, or retention took every mention

    identities: Mapped[list[Identity]] = relationship(back_populates="contact", order_by="Identity.id")


class Identity(Base):
    """One account on one platform. `platform` is the source kind, with the site's host for kinds that read one
    site each (`discourse:forum.example.de`); `account` is the platform's stable account id where it gives one,
    else the handle (`name:` + the name where names are not unique on the platform)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "account", name="uq_identities_platform_account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    platform: Mapped[str] = mapped_column(String(300))
    account: Mapped[str] = mapped_column(String(500))
    handle: Mapped[str | None] = mapped_column(String(500))  # as the platform shows it, the latest seen
    display_name: Mapped[str | None] = mapped_column(String(500))
    profile_url: Mapped[str | None] = mapped_column(String(1000), index=True)  # normalised (https, lower-case host)
    # Folded names (listener.text.words joined): what "the same name" suggestions compare.
    name_key: Mapped[str | None] = mapped_column(String(200), index=True)
    display_key: Mapped[str | None] = mapped_column(String(200), index=True)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    contact: Mapped[Contact] = relationship(back_populates="identities")

    @property
    def kind(self) -> str:
        """The platform kind without the site: `discourse` for `discourse:forum.example.de`."""
        return self.platform.split(":", 1)[0]

    @property
    def label(self) -> str:
        return self.handle or self.display_name or self.account


class IdentityMention(Base):
    """Which identity wrote a mention (written with the mention at ingest, in the same transaction)."""

    __tablename__ = "identity_mentions"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True,
                                            autoincrement=False)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"), index=True)


class MentionHandle(Base):
    """A handle a mention's text names (`@kundin77`, `u/kundin_77`, `kundin_77`), as its folded name key: the
    suggestions look both ways through it — handles this contact's posts name, posts that name this contact."""

    __tablename__ = "mention_handles"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True,
                                            autoincrement=False)
    name_key: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class ContactLink(Base):
    """An agent's decision that two contacts are one person: `merged_id`'s identities moved to `kept_id`.
    Undoing it (`undone_at`) moves exactly those identities back."""

    __tablename__ = "contact_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    identity_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(String(500))  # the suggestion confirmed, or the agent's words
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime]
    task_id: Mapped[int | None]  # the task page it was done on, if any
    undone_by: Mapped[str | None] = mapped_column(String(200))
    undone_at: Mapped[datetime | None]


class TaskFollowUp(Base):
    """A mention that joined an open task of its contact (or came along when a task was merged into it)."""

    __tablename__ = "task_followups"
    __table_args__ = (Index("ix_task_followups_task", "task_id", "joined_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    joined_at: Mapped[datetime]
    via: Mapped[str] = mapped_column(String(20))  # join | merge
    rule: Mapped[str | None] = mapped_column(String(200))  # the rule that would have opened a task
    priority: Mapped[str | None] = mapped_column(String(5))  # … and its priority
    merged_from_task_id: Mapped[int | None]  # via merge: the task it belonged to


class TaskMerge(Base):
    """An agent merged task `from_task_id` into `into_task_id`: the first closed as `merged`, its mentions followed."""

    __tablename__ = "task_merges"

    from_task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True,
                                              autoincrement=False)
    into_task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    merged_by: Mapped[str] = mapped_column(String(200))
    merged_at: Mapped[datetime]
