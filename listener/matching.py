"""Which brands a mention is about.

Brand terms match case-insensitively as whole words, with German spellings folded together
(ä/ae, ö/oe, ü/ue, ß/ss), so "Acme Bank", "ACME-Bank" and "acme bank" all match the term "Acme Bank".
Mentions that match no brand are dropped before storage.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from listener.domain import Mention

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})


class BrandSettings(BaseModel):
    """`[[brand]]`: a brand (or, with `competitor = true`, a competitor) and how to recognise it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    terms: list[str] = Field(default_factory=list)
    competitor: bool = False

    @field_validator("terms")
    @classmethod
    def _terms_not_blank(cls, terms: list[str]) -> list[str]:
        if any(not normalise(t) for t in terms):
            raise ValueError("terms must not be blank")
        return terms


def normalise(text: str) -> str:
    """Lower-case, fold umlauts and ß, treat hyphens and punctuation as word breaks."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({normalise(t) for t in terms}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?!\w)")


class BrandMatcher:
    def __init__(self, brands: Iterable[BrandSettings]):
        self.brands = list(brands)
        self._patterns = [(b.name, _term_pattern(b.terms)) for b in self.brands]
        self._names = {b.name for b in self.brands}

    def brands_for(self, mention: Mention) -> list[str]:
        tied = mention.extra.get("brand")
        if tied:  # review sources and brand-tied feeds: every item is about that brand
            return [tied] if tied in self._names else []
        haystack = normalise(mention.full_text)
        return [name for name, pattern in self._patterns if pattern is not None and pattern.search(haystack)]
