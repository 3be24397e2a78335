"""The platform's language hint reaches the scorer: a short post lingua cannot place takes it, and without one
it is scored as unknown (no language-specific calibration)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("lingua")

from listener.domain import Mention  # noqa: E402
from listener.nlp.huggingface import HuggingFaceScorer  # noqa: E402
from listener.nlp.settings import NlpSettings  # noqa: E402
from listener.pipeline import _score_isolating_failures  # noqa: E402
from tests.tiny_model import build_tiny_model  # noqa: E402


def _mention(text: str, hint: str | None) -> Mention:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    return Mention(source_kind="mastodon", source_name="m", external_id=text + str(hint), text=text,
                   fetched_at=now, lang_hint=hint)


def test_scoring_a_batch_passes_each_mentions_hint(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "m", ["negative", "neutral", "positive"], bias=[0.0, 0.0, 3.0])
    scorer = HuggingFaceScorer(NlpSettings(model=str(model), quantize=False, threads=1))
    mentions = [_mention("Acme ist toll", "de"), _mention("Acme ist toll", None), _mention("Acme ist toll", "fr"),
                _mention("Hotline seit Stunden nicht erreichbar", "en")]
    scores, errors = _score_isolating_failures(scorer, mentions)
    assert not errors
    assert [s.language for s in scores if s] == ["de", None, None, "de"]  # a sure detection outranks the hint
    assert all(s.language_supported for s in scores if s)
