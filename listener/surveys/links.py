"""The link behind `{survey_url}`: `<[web] base_url>/survey/<token>`, where the token is the task id signed with the
care inbox's secret (HMAC through itsdangerous, as the alerts' acknowledge links, with a salt of its own) and the
time it was made. It names the task and nothing else: no customer, no text, no survey; the task's survey is looked
up when the page is opened (`survey_for`), and the link expires after that survey's `link_valid`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from itsdangerous import BadSignature

from listener.clock import Clock
from listener.config import Settings
from listener.secrets import get_secret
from listener.signed_links import AckLinks
from listener.store.models import TaskRow
from listener.surveys.settings import SurveySettings

SURVEY_SALT = "listener.survey-link"
PATH = "/survey/"


class InvalidSurveyLink(Exception):
    """Forged or damaged (400), or expired (410)."""

    def __init__(self, expired: bool):
        self.expired = expired
        super().__init__("the survey link has expired" if expired else "the survey link is not valid")


class SurveyLinks:
    def __init__(self, secret: str, clock: Clock):
        # valid is checked per survey (read → expired); the signer's own max_age is not used
        self.signer = AckLinks(secret, clock, timedelta.max, salt=SURVEY_SALT)
        self.clock = clock

    def token(self, task_id: int) -> str:
        return self.signer.token(task_id)

    def read(self, token: str) -> tuple[int, datetime]:
        """The task id and when the link was made; InvalidSurveyLink(expired=False) unless our secret signed it."""
        try:
            value, made = self.signer.serializer.loads(token, return_timestamp=True)
        except (BadSignature, ValueError, TypeError):
            raise InvalidSurveyLink(expired=False) from None
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidSurveyLink(expired=False)
        return value, made

    def check_age(self, made: datetime, survey: SurveySettings) -> None:
        if self.clock.now() - made > survey.link_valid:
            raise InvalidSurveyLink(expired=True)


def survey_for(surveys: Sequence[SurveySettings], task: TaskRow) -> SurveySettings | None:
    """The first [[survey]] whose rules and brands fit the task (empty lists fit every task)."""
    brands = set(task.mention.brand_names)
    for survey in surveys:
        if survey.rules and task.rule not in survey.rules:
            continue
        if survey.brands and not brands & set(survey.brands):
            continue
        return survey
    return None


def survey_link(settings: Settings, task: TaskRow, clock: Clock) -> str:
    """`{survey_url}` for this task: the signed link, or "" when no [[survey]] fits the task. Raises MissingSecret
    when the care inbox's secret is not in the environment."""
    if settings.web is None or not settings.web.base_url or survey_for(settings.survey, task) is None:
        return ""
    links = SurveyLinks(get_secret(settings.web.session_secret), clock)
    return f"{settings.web.base_url}{PATH}{links.token(task.id)}"
