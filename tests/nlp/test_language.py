from __future__ import annotations

import pytest

pytest.importorskip("lingua")

from listener.nlp.language import LanguageDetector, detect_language, is_supported  # noqa: E402


def test_german_and_english() -> None:
    assert detect_language("Der Zug hatte schon wieder eine Stunde Verspätung.") == "de"
    assert detect_language("The support team never answered my email.") == "en"


def test_too_short_or_no_letters_is_none() -> None:
    assert detect_language("ok") is None
    assert detect_language("123 456 !!!") is None
    assert is_supported(None)


def test_other_languages_when_configured() -> None:
    detector = LanguageDetector(["de", "en", "fr"])
    lang = detector.detect("Le train est encore en retard, c'est inadmissible.")
    assert lang == "fr" and not is_supported(lang)
    assert detector.detect("Das ist eine Katastrophe") == "de"


def test_unknown_code_rejected() -> None:
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector(["de", "xx"])
