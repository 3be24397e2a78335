"""Prometheus: survey answers counted from the database at scrape time (by survey, kind and score), and the
survey page's refusals counted in the process (by reason). Counts only: never a comment, a link or a task."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from listener.store.engine import Store
from listener.surveys.models import SurveyAnswer

log = logging.getLogger(__name__)
REFUSALS = Counter("listener_survey_refusals", "Survey page requests refused by reason (invalid: forged or damaged "
                   "link, expired, gone, limited: rate limit, origin: cross-site post, closed: change window over)",
                   ["reason"])


def record_refusal(reason: str) -> None:
    REFUSALS.labels(reason).inc()


class SurveyCollector(Collector):
    def __init__(self, store: Store):
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.store.read() as session:
                scores = session.execute(
                    select(SurveyAnswer.survey, SurveyAnswer.kind, SurveyAnswer.score, func.count())
                    .group_by(SurveyAnswer.survey, SurveyAnswer.kind, SurveyAnswer.score)).all()
                comments = session.execute(
                    select(SurveyAnswer.survey, func.count()).where(SurveyAnswer.comment.is_not(None))
                    .group_by(SurveyAnswer.survey)).all()
        except Exception as exc:  # noqa: BLE001 - listener_database_up says the database is down; answer anyway
            log.warning("event=metrics_surveys_unavailable error=%s", type(exc).__name__)
            return
        answers = GaugeMetricFamily("listener_survey_answers", "Survey answers stored, by survey, kind and score",
                                    labels=["survey", "kind", "score"])
        for survey, kind, score, n in scores:
            answers.add_metric([survey, kind, str(score)], n)
        yield answers
        with_comment = GaugeMetricFamily("listener_survey_comments", "Survey answers with a comment, by survey",
                                         labels=["survey"])
        for survey, n in comments:
            with_comment.add_metric([survey], n)
        yield with_comment
