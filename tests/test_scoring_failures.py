"""A mention the model cannot score is set aside; it never holds back the mentions behind it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from listener.app import App
from listener.config import load_settings
from listener.demo.servers import FeedServer, SmtpSink, WebhookReceiver
from listener.nlp.scoring import Score, Scorer
from listener.pipeline import MAX_SCORE_ATTEMPTS, ScoringError, retry_failed_scores
from listener.store.models import MentionRow, ScoreRow
from tests.flow import write_config
from tests.tiny_model import build_tiny_model


class FailsOn:
    """The real (tiny) scorer, except that it raises on texts containing `marker` — or on everything."""

    def __init__(self, scorer: Scorer, marker: str | None):
        self.scorer = scorer
        self.marker = marker

    def score(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[Score]:
        for text in texts:
            if self.marker is None or self.marker in text:
                raise RuntimeError("tokenizer exploded")
        return self.scorer.score(texts, hints)


@pytest.fixture
def app(tmp_path: Path, feed_server: FeedServer, smtp_sink: SmtpSink, webhook: WebhookReceiver) -> App:
    model = build_tiny_model(tmp_path / "model", labels=["negative", "neutral", "positive"], bias=[4.0, 0.0, 0.0])
    app = App(load_settings(write_config(tmp_path, feed_server, smtp_sink.port, webhook, model)))
    app.migrate()
    app.poll()
    yield app
    app.close()


def attempts(app: App) -> dict[str, tuple[int, str | None, bool]]:
    with app.store.read() as session:
        rows = session.scalars(select(MentionRow).outerjoin(ScoreRow))
        return {r.title or r.text[:40]: (r.score_attempts, r.score_error, r.score is not None) for r in rows}


def test_poison_mention_is_skipped_retried_then_parked(app: App) -> None:
    real = app.scorer
    app._scorer = FailsOn(real, marker="sperrt")  # one of the ten stored posts

    report = app.score()
    assert (report.scored, report.failed) == (9, 1)  # the other nine are scored in the same run
    poison = {k: v for k, v in attempts(app).items() if not v[2]}
    assert len(poison) == 1
    ((count, error, _),) = poison.values()
    assert count == 1 and error == "RuntimeError: tokenizer exploded"

    for attempt in range(2, MAX_SCORE_ATTEMPTS + 1):  # retried on later runs …
        assert (app.score().failed, next(v[0] for v in attempts(app).values() if not v[2])) == (1, attempt)
    assert app.score().failed == 0  # … then parked: no more attempts

    app._scorer = real  # the model is fixed
    assert app.score().scored == 0  # parked stays parked until asked
    assert retry_failed_scores(app.store) == 1
    assert app.score().scored == 1
    assert all(scored for _, _, scored in attempts(app).values())


def test_broken_model_charges_no_mention(app: App) -> None:
    app._scorer = FailsOn(app.scorer, marker=None)
    with pytest.raises(ScoringError, match="fails on every text"):
        app.score()
    assert all(v == (0, None, False) for v in attempts(app).values())  # nothing parked: the model was at fault
