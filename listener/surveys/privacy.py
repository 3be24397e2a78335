"""Survey answers in privacy requests (listener/ops/privacy.py): an answer belongs to the task's contact, so an
export lists it with the task, and an erase clears its comment (the customer's own words). The score, kind and
times stay: tied to an anonymised mention they say nothing about a person, and the past weeks' CSAT, CES and NPS
keep counting them, as the anonymised mentions keep counting in the volume."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from listener.surveys.answers import answer_of


def answer_record(session: Session, task_id: int) -> dict[str, Any] | None:
    answer = answer_of(session, task_id)
    if answer is None:
        return None
    return {"survey": answer.survey, "kind": answer.kind, "score": answer.score, "comment": answer.comment,
            "language": answer.language, "answered_at": answer.answered_at.isoformat(),
            "updated_at": answer.updated_at.isoformat(), "changes": answer.changes}


def erase_comment(session: Session, task_id: int) -> int:
    """Clear the comment of the task's answer; 1 when there was one to clear."""
    answer = answer_of(session, task_id)
    if answer is None or answer.comment is None:
        return 0
    answer.comment = None
    return 1
