"""Language identification with lingua (bundled models, no network).

Two detectors, both loaded once per process:
- the *languages* (`[nlp] languages`, German and English by default), preloaded in lingua's high-accuracy mode,
  decide between the languages the scorer knows;
- a *screen* over 35 other common languages (SCREEN) in lingua's low-accuracy mode catches mentions in none of
  them. Its trigram models take about 30 MB for all 35, where high-accuracy models take about 30 MB per language.
  Without it a French or Dutch complaint is forced into German or English and scored as if the model had been
  evaluated on it. It names another language only when it is at least SCREEN_CONFIDENCE sure, so German and
  English tweets that mix in other words stay German or English.

Short and colloquial posts ("Acme ist toll", "meh") are where lingua is least sure. When its confidence among the
configured languages (against the runner-up) is below PRIMARY_CONFIDENCE, the mention's own language hint (what
the platform declares) decides if it names one of those languages; otherwise the language is unknown (None), and
the scorer uses no language-specific calibration for it. The screen's low-accuracy verdict on another language
is confirmed by a high-accuracy detector over that language and the configured ones (loaded when first needed),
since trigrams alone took "Toller Service von Acme heute" for French.

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
# Chosen on 3,600 rows of the German and English train/dev files (600 per file): at 0.8 lingua decides 87 % of the
# texts under 60 characters, 99.6 % of them rightly (it is right on 97.4 % of all short texts when forced); 0.9
# decides 73 %, 0.7 decides 96 % at 98.7 %. Longer texts: 98.8 % decided at 99.7 %.
PRIMARY_CONFIDENCE = 0.8
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

    def detect(self, text: str, hint: str | None = None) -> str | None:
        """ISO 639-1 code of `text`, or None when it is too short, has no letters, or lingua is unsure and the
        hint names none of the configured languages."""
        return self.detect_many([text], [hint])[0]

    def detect_many(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[str | None]:
        """`detect` for many texts (with their language hints, if any); lingua spreads them over all cores (the
        scorer's model is idle meanwhile)."""
        out: list[str | None] = [None] * len(texts)
        # handles and links say nothing about the language: their letters (`@TigerBeYoung`, `t.co/…`) read as
        # Swedish or Polish
        words = {i: " ".join(_NOISE.sub(" ", t).replace("#", "").split()) for i, t in enumerate(texts)}
        todo = [i for i in range(len(texts)) if _readable(words[i])]
        ranked = self._detector.compute_language_confidence_values_in_parallel([words[i] for i in todo])
        for i, values in zip(todo, ranked, strict=True):
            if values and _pairwise(values) >= PRIMARY_CONFIDENCE:
                out[i] = _code(values[0].language)
        for i in range(len(texts)):
            if out[i] is None and hints is not None:
                hint = normalise_hint(hints[i])
                out[i] = hint if hint in self.codes else None
        if self._screen is not None:
            ranked = self._screen.compute_language_confidence_values_in_parallel([words[i] for i in todo])
            for i, values in zip(todo, ranked, strict=True):
                if values and values[0].value >= SCREEN_CONFIDENCE:
                    code = _code(values[0].language)
                    if code not in self.codes and self._confirms(code, words[i]):
                        out[i] = code
        return out

    def _confirms(self, code: str, text: str) -> bool:
        """Does a high-accuracy detector over the configured languages and `code` also put `code` first?"""
        confirmer = _confirmer(self.codes, code)
        return confirmer.detect_language_of(text) == _languages([code])[0]


def normalise_hint(hint: str | None) -> str | None:
    """A platform's language tag (`de`, `de-DE`, `en_US`, `EN`) as an ISO 639-1 code; None for none or `und`."""
    code = (hint or "").strip().lower().replace("_", "-").split("-")[0]
    return code if len(code) == 2 else None


def _pairwise(values) -> float:
    """The top language's confidence against the runner-up alone: with German and English configured it is
    lingua's own confidence; each further configured language would otherwise lower every text's confidence."""
    if len(values) < 2:
        return 1.0
    top, second = values[0].value, values[1].value
    return top / (top + second) if top + second else 0.0


def _code(language) -> str:
    return language.iso_code_639_1.name.lower()


@lru_cache(maxsize=8)
def _confirmer(codes: tuple[str, ...], candidate: str):
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(*_languages(sorted({*codes, candidate}))).build()


def _readable(text: str) -> bool:
    return len(text.strip()) >= _MIN_CHARS and any(ch.isalpha() for ch in text)


@lru_cache(maxsize=4)
def get_detector(languages: tuple[str, ...] = ("de", "en"), screen: bool = True) -> LanguageDetector:
    """One shared detector per configuration (the models take ~0.7 s and ~100 MB to load)."""
    return LanguageDetector(languages, screen)


def detect_language(text: str, languages: Sequence[str] = ("de", "en"), hint: str | None = None) -> str | None:
    return get_detector(tuple(languages)).detect(text, hint)


def is_supported(language: str | None) -> bool:
    """True for German, English and undetermined (None: too short to tell) texts."""
    return language is None or language in SUPPORTED
