"""The mention store: SQLAlchemy 2 typed models. Schema changes go through Alembic (store/migrations)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from listener.clock import utc
from listener.domain import AlertStatus, Mention, TaskStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns timezone-aware UTC (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else utc(value)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}


class SourceRow(Base):
    """A configured source instance and its cursor (advanced in the same transaction as its mentions)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime | None]

    health: Mapped[SourceHealth | None] = relationship(back_populates="source", uselist=False)


class SourceHealth(Base):
    __tablename__ = "source_health"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_new_mentions: Mapped[int] = mapped_column(default=0)
    # Targets of the source (pages, countries, hashtags …) failing as of the last poll, while the others polled:
    # {target: {"error": …, "since": ISO time, "failures": polls in a row}}; cleared when the target polls fine.
    failing_targets: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")

    source: Mapped[SourceRow] = relationship(back_populates="health")


class MentionRow(Base):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id", name="uq_mentions_source_external"),
        Index("ix_mentions_published_at", "published_at"),
        Index("ix_mentions_content_hash", "content_hash"),
        Index("ix_mentions_fetched_at", "fetched_at"),
        Index("ix_mentions_author", "author"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    source_kind: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    rating: Mapped[float | None] = mapped_column(Float)
    reach: Mapped[dict[str, Any]] = mapped_column(default=dict)
    thread_id: Mapped[str | None] = mapped_column(String(1000))
    parent_id: Mapped[str | None] = mapped_column(String(1000))
    lang_hint: Mapped[str | None] = mapped_column(String(20))
    content_hash: Mapped[str] = mapped_column(String(64))
    # Near-duplicates (cross-posts, syndicated copies) point at the first copy seen.
    canonical_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))
    # Scoring runs that failed on this mention's text (listener/pipeline.py: score_pending) and the last error.
    score_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    score_error: Mapped[str | None] = mapped_column(Text)
    # What the platform's write API needs beyond the ids above to answer this post (listener/replies), e.g.
    # a Discourse post_number or a Bluesky cid and thread root: str → str, filled by the source.
    reply_ref: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")

    source: Mapped[SourceRow] = relationship()
    brands: Mapped[list[MentionBrand]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    score: Mapped[ScoreRow | None] = relationship(back_populates="mention", uselist=False, lazy="selectin")
    label: Mapped[MentionLabel | None] = relationship(back_populates="mention", uselist=False, lazy="selectin",
                                                      cascade="all, delete-orphan", passive_deletes=True)

    @property
    def brand_names(self) -> list[str]:
        return sorted(b.brand for b in self.brands)

    def as_mention(self) -> Mention:
        """The stored mention as the flow's plain data (listener/domain.py), e.g. for scoring it."""
        return Mention(
            source_kind=self.source_kind, source_name=self.source.name, external_id=self.external_id,
            text=self.text, fetched_at=self.fetched_at, url=self.url, author=self.author, title=self.title,
            published_at=self.published_at, rating=self.rating, reach=dict(self.reach or {}),
            thread_id=self.thread_id, parent_id=self.parent_id, lang_hint=self.lang_hint,
        )


class NearDupKey(Base):
    """LSH band keys of a canonical mention's MinHash (listener/dedup.py): near-duplicate lookup by index."""

    __tablename__ = "near_dup_keys"
    __table_args__ = {"sqlite_with_rowid": False}

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False, index=True
    )


class MentionBrand(Base):
    __tablename__ = "mention_brands"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True)
    brand: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class ScoreRow(Base):
    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), unique=True)
    model_version: Mapped[str] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(20))
    language_supported: Mapped[bool] = mapped_column(Boolean, default=True)
    sentiment: Mapped[str] = mapped_column(String(20))
    p_negative: Mapped[float]
    p_neutral: Mapped[float]
    p_positive: Mapped[float]
    categories: Mapped[list[str]] = mapped_column(default=list)
    negative_service: Mapped[bool] = mapped_column(Boolean, default=False)
    urgency: Mapped[str] = mapped_column(String(10), default="none")
    reasons: Mapped[list[str]] = mapped_column(default=list)
    scored_at: Mapped[datetime]

    mention: Mapped[MentionRow] = relationship(back_populates="score")

    @property
    def probabilities(self) -> dict[str, float]:
        return {"negative": self.p_negative, "neutral": self.p_neutral, "positive": self.p_positive}


class MentionLabel(Base):
    """The care team's verdict on a mention (listener/labels.py): what the model should have said. Kept apart
    from the model's score, so labelled mentions measure and retrain the model."""

    __tablename__ = "mention_labels"

    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(20))
    # Service categories of a negative service experience; empty when the mention is not one.
    service_categories: Mapped[list[str]] = mapped_column(default=list)
    labelled_by: Mapped[str | None] = mapped_column(String(200))
    labelled_at: Mapped[datetime]

    mention: Mapped[MentionRow] = relationship(back_populates="label")

    @property
    def negative_service(self) -> bool:
        return bool(self.service_categories)


class TaskRow(Base):
    """A follow-up task for the care team: open → acknowledged → responded → resolved (or dismissed)."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), unique=True)
    rule: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=TaskStatus.OPEN)
    priority: Mapped[str] = mapped_column(String(5))
    reasons: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(200))
    silenced_by: Mapped[int | None]  # the silence that muted its alerts (listener/acting/silences.py)

    mention: Mapped[MentionRow] = relationship()


class AlertRow(Base):
    """The outbox: one row per (task, channel), per (task, escalation step, channel) or per (group flush, channel).
    Delivered at most once when it succeeds; never dropped."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"))  # None for a grouped message
    spike_id: Mapped[int | None] = mapped_column(ForeignKey("spikes.id"))  # set for spike alerts
    channel: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="task", server_default="task")  # | escalation | group | spike
    step: Mapped[str | None] = mapped_column(String(40))  # escalation step ("1", "2", "outside-hours")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("alert_groups.id"))
    group_seq: Mapped[int | None]  # which flush of the group this message carries
    status: Mapped[str] = mapped_column(String(20), default=AlertStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    # Which process holds the claim (host/boot/pid/start time: listener/delivery/claims.py), so a start can
    # release the claims of a killed process at once instead of after claimed_until.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)

    task: Mapped[TaskRow | None] = relationship()
    mention: Mapped[MentionRow | None] = relationship()
    spike: Mapped[SpikeRow | None] = relationship()


class AlertGroupRow(Base):
    """Alertmanager-style grouping: tasks of one rule with the same `group.by` values share one message per
    flush (first after `wait`, then at most every `interval`)."""

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("rule", "group_key", name="uq_alert_groups_rule_key"),
                      Index("ix_alert_groups_next_flush", "next_flush_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(200))
    group_key: Mapped[str] = mapped_column(String(1000))  # e.g. "brand=Acme|category=digital"
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    next_flush_at: Mapped[datetime | None]  # set while members wait to be announced
    last_flush_at: Mapped[datetime | None]
    flushes: Mapped[int] = mapped_column(default=0)


class AlertGroupMember(Base):
    __tablename__ = "alert_group_members"
    __table_args__ = (Index("ix_alert_group_members_group_seq", "group_id", "flush_seq"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime]
    flush_seq: Mapped[int | None]  # None until announced

    task: Mapped[TaskRow] = relationship()


class SilenceRow(Base):
    """`listener silence add`: mutes alerts whose task matches every given matcher, between starts and ends."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    rule: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class MentionDailyCount(Base):
    """Mentions removed by retention, counted per day, brand and sentiment (listener/ops/retention.py), so long-range
    volume and sentiment trends outlive the mentions themselves. Holds no text, author or link."""

    __tablename__ = "mention_daily_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    brand: Mapped[str] = mapped_column(String(200), primary_key=True)
    sentiment: Mapped[str] = mapped_column(String(20), primary_key=True)  # "unscored" when never scored
    mentions: Mapped[int] = mapped_column(default=0)
    negative_service: Mapped[int] = mapped_column(default=0)


class PrivacyAudit(Base):
    """What a privacy request (listener/ops/privacy.py) did, when, by whom — never the data it erased: the
    selector is kept only as a SHA-256 digest, so the record proves a request without repeating it."""

    __tablename__ = "privacy_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(20))  # erase | export
    by: Mapped[str] = mapped_column(String(200))
    selector: Mapped[str] = mapped_column(String(20))  # author | url
    selector_digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DigestSendRow(Base):
    """One scheduled digest per period (listener/digest/schedule.py): claimed before sending, marked after, so a
    restart neither sends a week twice nor skips it. The Message-ID derives from `period_key`."""

    __tablename__ = "digest_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_key: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # sending | sent | skipped (nothing to report) | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]  # a claim older than this was left by a crash and is taken over
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(300))
    last_error: Mapped[str | None] = mapped_column(Text)


# ----------------------------------------------------------------------------- care inbox (listener/web)
class UserRow(Base):
    """A care-inbox user. `password_hash` is an Argon2 hash (None: header sign-in only); never logged or shown."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # agent | lead | viewer
    password_hash: Mapped[str | None] = mapped_column(String(500))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(10))  # UI language override (de|en); None: the browser's
    created_at: Mapped[datetime]


class TaskEvent(Base):
    """The activity log of a task: who did what, when (web and CLI alike)."""

    __tablename__ = "task_events"
    __table_args__ = (Index("ix_task_events_task", "task_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(30))  # ack | respond | resolve | dismiss | assign | note | label
    detail: Mapped[str | None] = mapped_column(Text)


class ReplyTemplate(Base):
    """A reply the care team can copy: per service category (or "" for any) and language, with placeholders."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50), default="")
    language: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


# The task page (listener/web/taskview.py) looks up a mention's copies (its author's other mentions use
# ix_mentions_author).
Index("ix_mentions_canonical", MentionRow.canonical_id)
class SpikeRow(Base):
    """A spike that fired (listener/acting/spikes): a brand's volume or negative share far above its usual."""

    __tablename__ = "spikes"
    __table_args__ = (Index("ix_spikes_brand_kind_window", "brand", "kind", "window_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    watch: Mapped[str] = mapped_column(String(200))  # the [[spike]] name
    brand: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # volume | negative
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    observed: Mapped[int]  # mentions (volume) or negative mentions (negative) in the window
    expected: Mapped[float]
    ratio: Mapped[float]
    p_value: Mapped[float]
    history_weeks: Mapped[int]
    mentions: Mapped[int]  # all mentions of the brand in the window
    share: Mapped[float | None] = mapped_column(Float)  # negative share in the window and usually
    baseline_share: Mapped[float | None] = mapped_column(Float)
    themes: Mapped[list[str]] = mapped_column(default=list)
    top_mention_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]


class SpikeArmRow(Base):
    """Cooldown and re-arm state of one watch, brand and kind; `history_from` is when listening to it began."""

    __tablename__ = "spike_arms"

    watch: Mapped[str] = mapped_column(String(200), primary_key=True)
    brand: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    armed: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fired_at: Mapped[datetime | None]
    history_from: Mapped[datetime | None]  # the first mention of the brand listener fetched


# Spike counts select mentions by published time, or fetch time when unknown.
Index("ix_mentions_seen_at", func.coalesce(MentionRow.published_at, MentionRow.fetched_at))


class ReplyRow(Base):
    """A reply from the care inbox, posted to the platform where the mention was written (listener/replies).

    draft → (pending_approval →) queued → sending → posted; or failed (the platform's error, editable and
    resendable), outcome_unknown (a crash or lost answer where the platform offers no way to check: a person
    looks), returned (a lead sent it back with a note). The reply outbox claims rows like the alert outbox."""

    __tablename__ = "replies"
    __table_args__ = (Index("ix_replies_status_next", "status", "next_attempt_at"),
                      Index("ix_replies_task", "task_id"),
                      Index("ix_replies_platform", "source_kind", "platform_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    source_name: Mapped[str] = mapped_column(String(200))  # the [[source]] whose platform account answers
    source_kind: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    # Sent to the platform (Idempotency-Key where it has one); a new one for each edited resend.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    # An attempt may have reached the platform without us learning the outcome (crash, lost answer): look for
    # our own reply before posting again.
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_id: Mapped[str | None] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))  # the agent who wrote it
    approver: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)  # a lead's note when sending it back
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]

    task: Mapped[TaskRow] = relationship()
    mention: Mapped[MentionRow] = relationship()


# ----------------------------------------------------------------- helpdesk hand-off (listener/delivery/helpdesk)
class HandoffRow(Base):
    """A task handed to a helpdesk channel: its one ticket there, and what the helpdesk last said about it.

    Written (state "opening", claimed) before the ticket is created, so after a crash the next attempt looks for
    our own ticket by its external id instead of opening a second one."""

    __tablename__ = "helpdesk_handoffs"
    __table_args__ = (UniqueConstraint("task_id", "channel", name="uq_helpdesk_handoffs_task_channel"),
                      Index("ix_helpdesk_handoffs_channel_state", "channel", "state"),
                      Index("ix_helpdesk_handoffs_channel_ticket", "channel", "ticket_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str] = mapped_column(String(200))  # our key on the helpdesk, e.g. "listener-task-12"
    ticket_id: Mapped[str | None] = mapped_column(String(100))  # None while the ticket is being opened
    ticket_url: Mapped[str | None] = mapped_column(Text)
    requester_ref: Mapped[str | None] = mapped_column(String(200))  # the helpdesk's id of the requester
    state: Mapped[str] = mapped_column(String(20))  # opening | open | closed | gone
    helpdesk_status: Mapped[str | None] = mapped_column(String(50))  # the helpdesk's own word, as last read
    responded_at: Mapped[datetime | None]  # an agent's first public answer there
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    checked_at: Mapped[datetime | None]  # last read back (poll or webhook)
    claimed_until: Mapped[datetime | None]  # a deliverer is opening the ticket until then …
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # … this process (listener/ops/claims.py)
    last_error: Mapped[str | None] = mapped_column(Text)

    task: Mapped[TaskRow] = relationship()


class HandoffPostRow(Base):
    """A comment listener adds to a hand-off's ticket, by the outbox key it carries: "pending" is written before
    the helpdesk is called, "posted" after, so a retry after a crash looks for the earlier post first."""

    __tablename__ = "helpdesk_posts"

    handoff_id: Mapped[int] = mapped_column(ForeignKey("helpdesk_handoffs.id", ondelete="CASCADE"),
                                            primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))  # pending | posted
    remote_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]


class WebhookDeliveryRow(Base):
    """A helpdesk webhook delivery already handled (its delivery id): a replay of it is refused."""

    __tablename__ = "helpdesk_webhook_deliveries"
    __table_args__ = (Index("ix_helpdesk_webhook_deliveries_received", "received_at"),)

    channel: Mapped[str] = mapped_column(String(200), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]
