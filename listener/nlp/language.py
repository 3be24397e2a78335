"""Language identification with lingua (bundled models, no network).

German and English are preloaded. `[nlp] languages` lists the languages the detector chooses between
(ISO 639-1 codes); add e.g. "fr", "es" so that French or Spanish mentions are recognised as such and
marked `language_supported = False` instead of being forced into German or English. The sentiment model
was trained and evaluated on German and English only (SUPPORTED).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

SUPPORTED = frozenset({"de", "en"})
_MIN_CHARS = 3  # below this (after stripping) nobody can tell


class LanguageDetector:
    def __init__(self, languages: Iterable[str] = ("de", "en")):
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        codes = sorted({c.strip().lower() for c in languages if c.strip()} | SUPPORTED)
        langs = []
        for code in codes:
            try:
                langs.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
            except (ValueError, AttributeError) as exc:
                raise ValueError(f"[nlp] languages: {code!r} is not an ISO 639-1 code lingua knows") from exc
        self.codes = tuple(codes)
        self._detector = LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of `text`, or None when it is too short or has no letters."""
        if len(text.strip()) < _MIN_CHARS or not any(ch.isalpha() for ch in text):
            return None
        lang = self._detector.detect_language_of(text)
        return lang.iso_code_639_1.name.lower() if lang is not None else None

    def detect_many(self, texts: Sequence[str]) -> list[str | None]:
        return [self.detect(t) for t in texts]


@lru_cache(maxsize=4)
def get_detector(languages: tuple[str, ...] = ("de", "en")) -> LanguageDetector:
    """One shared detector per language set (the models take ~0.4 s and ~100 MB to load)."""
    return LanguageDetector(languages)


def detect_language(text: str, languages: Sequence[str] = ("de", "en")) -> str | None:
    return get_detector(tuple(languages)).detect(text)


def is_supported(language: str | None) -> bool:
    """True for German, English and undetermined (None: too short to tell) texts."""
    return language is None or language in SUPPORTED
