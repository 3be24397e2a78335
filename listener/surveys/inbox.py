"""What the care inbox shows of surveys: a task's answer on its task page (and which survey its link asks)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from listener.config import Settings
from listener.store.models import TaskRow
from listener.surveys.answers import answer_of
from listener.surveys.links import survey_for
from listener.surveys.models import SurveyAnswer
from listener.surveys.settings import SCALES, SurveySettings


@dataclass
class TaskSurvey:
    survey: SurveySettings | None  # what a {survey_url} in a reply to this task asks now
    answer: SurveyAnswer | None

    @property
    def scale_max(self) -> int | None:
        return SCALES[self.answer.kind][1] if self.answer else None

    @property
    def verdict(self) -> str | None:
        """csat 4–5 satisfied, ces 5–7 easy, nps 9–10 promoter … in the words the report uses."""
        if self.answer is None:
            return None
        kind, score = self.answer.kind, self.answer.score
        if kind == "csat":
            return "satisfied" if score >= 4 else "neutral" if score == 3 else "dissatisfied"
        if kind == "ces":
            return "easy" if score >= 5 else "neither easy nor difficult" if score == 4 else "difficult"
        return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def task_survey(session: Session, settings: Settings, task: TaskRow) -> TaskSurvey | None:
    """None when the task has no answer and no survey fits it (the task page then shows nothing)."""
    survey, answer = survey_for(settings.survey, task), answer_of(session, task.id)
    return TaskSurvey(survey, answer) if survey or answer else None
