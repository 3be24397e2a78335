"""The customers' answers to survey links (table created by migration 0013_surveys).

The model shares the store's declarative base; the store itself knows nothing of it, so the early stages of the
flow stay free of surveys. An answer belongs to its task, and through the task's mention to the contact who
wrote it: privacy requests export and erase it with the mention (listener/surveys/privacy.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from listener.store.models import Base


class SurveyAnswer(Base):
    """One answer per task: given once, changeable for `[[survey]] change_within` after it was first given."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), unique=True)
    survey: Mapped[str] = mapped_column(String(50))  # the [[survey]] name the page asked
    kind: Mapped[str] = mapped_column(String(10))  # csat | ces | nps, as asked (the config may change later)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)  # the customer's words: untrusted, escaped wherever shown
    language: Mapped[str] = mapped_column(String(10))  # the page's language
    answered_at: Mapped[datetime]  # first given
    updated_at: Mapped[datetime]  # last changed (= answered_at until a change)
    changes: Mapped[int] = mapped_column(Integer, default=0)
