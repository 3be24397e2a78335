"""The scorer named by `[nlp] model`: "embedded" (the bundled multilingual model, listener.nlp.embedded) or a
Hugging Face model directory / hub id (listener.nlp.huggingface). Both load their heavy libraries only when chosen."""

from __future__ import annotations

from pathlib import Path

from listener.nlp.scoring import ModelUnavailable, Scorer
from listener.nlp.settings import NlpSettings


def load_scorer(settings: NlpSettings, cache_dir: Path) -> Scorer:
    """The scorer named by `[nlp] model`."""
    if settings.model == "embedded":
        try:
            from listener.nlp import embedded
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelUnavailable(f"the embedded model is not available in this install: {exc}") from exc
        return embedded.load_embedded_scorer(settings, cache_dir)
    from listener.nlp.huggingface import HuggingFaceScorer

    return HuggingFaceScorer(settings)
