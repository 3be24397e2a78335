"""The scorer interface: what every scorer returns (`Score`) and how it fails (`ModelUnavailable`).

The scorers themselves: listener.nlp.embedded (the bundled model) and listener.nlp.huggingface (any Hugging Face
sequence-classification model); listener.nlp.loader picks the one the config names.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from dataclasses import dataclass, field
from typing import Protocol

from listener.domain import SENTIMENTS


class ModelUnavailable(RuntimeError):
    """The configured model cannot be loaded; the message says why and what to do."""


@dataclass(frozen=True)
class Score:
    sentiment: str  # negative | neutral | positive
    probabilities: dict[str, float]  # over SENTIMENTS, sums to 1
    model_version: str
    language: str | None = None
    language_supported: bool = True  # False: a language the model was not evaluated on
    categories: tuple[str, ...] = ()  # service categories: support, delivery, billing, digital, product, staff
    negative_service: bool = False
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.sentiment]


class Scorer(Protocol):
    model_version: str

    def score(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[Score]:
        """One Score per text; `hints`: each text's language as its platform declares it (or None), which
        decides where language detection is unsure."""
        ...


def pick_sentiment(probabilities: dict[str, float]) -> str:
    return max(SENTIMENTS, key=lambda s: probabilities[s])


def length_sorted_batches(texts: Sequence[Sized], batch_size: int) -> list[list[int]]:
    """Indices of `texts` (strings or token id lists) in batches of similar length, so padding wastes little
    compute."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
