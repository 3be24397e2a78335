"""Language identification with lingua (bundled models, no network).

Two detectors, both loaded once per process:
- the *languages* (`[nlp] languages`, German and English by default), preloaded in lingua's high-accuracy mode,
  decide between the languages the scorer knows;
- a *screen* over 35 other common languages (SCREEN) in lingua's low-accuracy mode catches mentions in none of
  them. Its trigram models take about 30 MB for all 35, where high-accuracy models take about 30 MB per language.
  Without it a French or Dutch complaint is forced into German or English and scored as if the model had been
  evaluated on it. It names another language only when it is at least SCREEN_CONFIDENCE sure, so German and
  English tweets that mix in other words stay German or English.

Mentions in a language other than German or English (SUPPORTED: what the sentiment model was trained and
evaluated on) are marked `language_supported = False`. Add a language to `[nlp] languages` to have it told
apart with high accuracy; `[nlp] screen_languages = false` turns the screen off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

SUPPORTED = frozenset({"de", "en"})
# the screen: European languages and the largest others that brand mentions in Germany, Austria, Switzerland,
# the UK and the US come in
SCREEN = ("ar", "bg", "cs", "da", "el", "es", "et", "fa", "fi", "fr", "he", "hi", "hr", "hu", "id", "it", "ja",
          "ko", "lt", "lv", "nb", "nl", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "tr", "uk", "vi", "zh")
# Chosen on the 1,813 dev rows of the German and English files (sb10k_dev and the train hold-outs): a cut of 0.9
# sends 11 of them to another language (5 of those are in fact Dutch or Indonesian tweets), 0.7 sends 23, 0.5 35.
SCREEN_CONFIDENCE = 0.9
_MIN_CHARS = 3  # below this (after stripping) nobody can tell
# handles, links and retweet markers say nothing about the language (the screen reads the text without them)
_NOISE = re.compile(r"(https?://|www\.)\S+|@\w+|\bRT\b")


def _languages(codes: Iterable[str]) -> list:
    from lingua import IsoCode639_1, Language

    out = []
    for code in codes:
        try:
            out.append(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)))
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"[nlp] languages: {code!r} is not an ISO 639-1 code lingua knows") from exc
    return out


class LanguageDetector:
    def __init__(self, languages: Iterable[str] = ("de", "en"), screen: bool = True):
        from lingua import LanguageDetectorBuilder

        codes = sorted({c.strip().lower() for c in languages if c.strip()} | SUPPORTED)
        self.codes = tuple(codes)
        self._detector = LanguageDetectorBuilder.from_languages(*_languages(codes)) \
            .with_preloaded_language_models().build()
        self._screen = None
        if screen:
            self._screen = LanguageDetectorBuilder.from_languages(*_languages(sorted(set(SCREEN) | set(codes)))) \
                .with_low_accuracy_mode().with_preloaded_language_models().build()

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of `text`, or None when it is too short or has no letters."""
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[str | None]:
        """`detect` for many texts; lingua spreads them over all cores (the scorer's model is idle meanwhile)."""
        out: list[str | None] = [None] * len(texts)
        todo = [i for i, t in enumerate(texts) if _readable(t)]
        for i, lang in zip(todo, self._detector.detect_languages_in_parallel_of([texts[i] for i in todo]),
                           strict=True):
            out[i] = lang.iso_code_639_1.name.lower() if lang is not None else None
        if self._screen is not None:
            # the screen reads the text without handles and links, whose letters (`@TigerBeYoung`, `t.co/…`)
            # it would otherwise take for Swedish or Polish
            words = {i: " ".join(_NOISE.sub(" ", texts[i]).replace("#", "").split()) for i in todo}
            screened = [i for i in todo if _readable(words[i])]
            ranked = self._screen.compute_language_confidence_values_in_parallel([words[i] for i in screened])
            for i, values in zip(screened, ranked, strict=True):
                if values and values[0].value >= SCREEN_CONFIDENCE:
                    code = values[0].language.iso_code_639_1.name.lower()
                    if code not in self.codes:
                        out[i] = code
        return out


def _readable(text: str) -> bool:
    return len(text.strip()) >= _MIN_CHARS and any(ch.isalpha() for ch in text)


@lru_cache(maxsize=4)
def get_detector(languages: tuple[str, ...] = ("de", "en"), screen: bool = True) -> LanguageDetector:
    """One shared detector per configuration (the models take ~0.7 s and ~100 MB to load)."""
    return LanguageDetector(languages, screen)


def detect_language(text: str, languages: Sequence[str] = ("de", "en")) -> str | None:
    return get_detector(tuple(languages)).detect(text)


def is_supported(language: str | None) -> bool:
    """True for German, English and undetermined (None: too short to tell) texts."""
    return language is None or language in SUPPORTED
