"""Recording a customer's answer: once per task, changeable for `[[survey]] change_within` after it was first
given. The comment is the customer's own text: kept as written (control characters removed, at most
COMMENT_LIMIT characters) and escaped wherever it is shown."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from listener.surveys.models import SurveyAnswer
from listener.surveys.settings import SurveySettings

COMMENT_LIMIT = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # PostgreSQL refuses NUL in text; the rest is noise


class AnswerError(ValueError):
    """An answer that is not taken: `reason` is invalid (400) or closed (409, the change window has passed)."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(message)


def answer_of(session: Session, task_id: int) -> SurveyAnswer | None:
    return session.scalar(select(SurveyAnswer).where(SurveyAnswer.task_id == task_id))


def changeable_until(answer: SurveyAnswer, survey: SurveySettings) -> datetime:
    return answer.answered_at + survey.change_within


def clean_comment(text: str | None) -> str | None:
    text = _CONTROL.sub("", (text or "").replace("\r\n", "\n")).strip()
    if len(text) > COMMENT_LIMIT:
        raise AnswerError("invalid", f"the comment is longer than {COMMENT_LIMIT} characters")
    return text or None


def parse_score(value: object, survey: SurveySettings) -> int:
    text = str(value or "").strip()
    if not text.isdigit() or int(text) not in survey.scale:
        raise AnswerError("invalid", f"choose a score from {survey.scale.start} to {survey.scale.stop - 1}")
    return int(text)


def record_answer(session: Session, task_id: int, survey: SurveySettings, score: int, comment: str | None,
                  language: str, now: datetime) -> SurveyAnswer:
    """Store the task's answer, or change it while the change window is open (AnswerError "closed" after)."""
    if score not in survey.scale:
        raise AnswerError("invalid", f"choose a score from {survey.scale.start} to {survey.scale.stop - 1}")
    comment = clean_comment(comment) if survey.comment else None
    answer = answer_of(session, task_id)
    if answer is None:
        answer = SurveyAnswer(task_id=task_id, survey=survey.name, kind=survey.kind, score=score, comment=comment,
                              language=language, answered_at=now, updated_at=now, changes=0)
        session.add(answer)
        session.flush()  # a second first answer racing this one fails here (unique task_id): the caller retries
        return answer
    if now >= changeable_until(answer, survey):
        raise AnswerError("closed", "this answer can no longer be changed")
    answer.survey, answer.kind, answer.score, answer.comment = survey.name, survey.kind, score, comment
    answer.language, answer.updated_at, answer.changes = language, now, answer.changes + 1
    return answer
