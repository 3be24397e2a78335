"""Any Hugging Face sequence-classification model as a scorer (`[nlp] model` = a local directory or a hub id).

Its labels are mapped to negative / neutral / positive: `LABEL_n` via `[nlp] labels`, 1–5 star models and the
usual names automatically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from listener.domain import SENTIMENTS
from listener.nlp.scoring import ModelUnavailable, Score, length_sorted_batches, pick_sentiment
from listener.nlp.settings import NlpSettings

if TYPE_CHECKING:
    import torch

_NAMED = {
    "negative": "negative", "neg": "negative", "neutral": "neutral", "neu": "neutral",
    "positive": "positive", "pos": "positive", "bad": "negative", "good": "positive",
}


def sentiment_for_label(label: str, mapping: dict[str, str]) -> str:
    """Map one of a model's labels to negative/neutral/positive.

    Explicit mapping first, then common names, then star ratings ("1 star" … "5 stars").
    """
    if label in mapping:
        return mapping[label]
    low = label.strip().lower()
    if low in mapping:
        return mapping[low]
    if low in _NAMED:
        return _NAMED[low]
    stars = re.fullmatch(r"([1-5])\s*stars?", low)
    if stars:
        n = int(stars.group(1))
        return "negative" if n <= 2 else "neutral" if n == 3 else "positive"
    raise ModelUnavailable(
        f"model label {label!r} has no sentiment: map it under [nlp] labels, "
        f'e.g. labels = {{ "{label}" = "negative" }}'
    )


def validate_label_mapping(mapping: dict[str, str]) -> None:
    bad = {k: v for k, v in mapping.items() if v not in SENTIMENTS}
    if bad:
        raise ValueError(f"[nlp] labels must map to one of {', '.join(SENTIMENTS)}; got {bad}")


def fold_probabilities(probs: Sequence[float], sentiments: Sequence[str]) -> dict[str, float]:
    """Sum a model's per-label probabilities into the three sentiments."""
    folded = dict.fromkeys(SENTIMENTS, 0.0)
    for p, s in zip(probs, sentiments, strict=True):
        folded[s] += float(p)
    return folded



class HuggingFaceScorer:
    """Any `AutoModelForSequenceClassification` model: a local directory or a hub id."""

    def __init__(self, settings: NlpSettings):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        validate_label_mapping(settings.labels)
        if settings.threads:
            torch.set_num_threads(settings.threads)
        source = settings.model
        # Hub ids look like "org/name"; anything else with a path shape must be an existing directory.
        if source.startswith((".", "/", "~")) or source.count("/") > 1:
            if not Path(source).expanduser().is_dir():
                raise ModelUnavailable(f"cannot load model {source!r}: no such model directory")
            source = str(Path(source).expanduser())
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForSequenceClassification.from_pretrained(source)
        except (OSError, ValueError) as exc:  # no hub access, not a model, malformed id
            raise ModelUnavailable(
                f"cannot load model {source!r}: {exc}. Give a local model directory, "
                "a Hugging Face model id reachable from this machine, or model = \"embedded\"."
            ) from exc
        model.eval()
        if settings.quantize:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model
        id2label = model.config.id2label
        self.sentiments = [sentiment_for_label(id2label[i], settings.labels) for i in range(len(id2label))]
        self.batch_size = settings.batch_size
        self.max_length = min(settings.max_length, getattr(self.tokenizer, "model_max_length", 512) or 512)
        name = Path(source).name if Path(source).exists() else source
        self.model_version = f"hf:{name}" + (":int8" if settings.quantize else "")
        self.languages = tuple(settings.languages)
        self.screen_languages = settings.screen_languages

    def _forward(self, texts: list[str]) -> torch.Tensor:
        import torch

        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
        with torch.inference_mode():
            logits = self.model(**enc).logits
        return torch.softmax(logits.float(), dim=-1)

    def score(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[Score]:
        from listener.nlp.categories import cue_categories
        from listener.nlp.language import get_detector, is_supported

        languages = get_detector(self.languages, self.screen_languages).detect_many(texts, hints)
        results: list[Score | None] = [None] * len(texts)
        for batch in length_sorted_batches(texts, self.batch_size):
            probs = self._forward([texts[i] for i in batch])
            for row, i in zip(probs.tolist(), batch, strict=True):
                folded = fold_probabilities(row, self.sentiments)
                sentiment = pick_sentiment(folded)
                language = languages[i]
                # A generic model has no service head: on the labelled sets, "negative" alone is a better flag
                # (F1 0.72 GermEval / 0.93 Airline with gold sentiment) than negative + a cue phrase (0.51 / 0.72),
                # so cues only name the categories here.
                negative = sentiment == "negative"
                categories = cue_categories(texts[i]) if negative else ()
                results[i] = Score(
                    sentiment=sentiment, probabilities=folded, model_version=self.model_version,
                    language=language, language_supported=is_supported(language),
                    categories=categories, negative_service=negative,
                )
        return [r for r in results if r is not None]
