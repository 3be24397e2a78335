"""Urgency rules: German and English escalation cues, rating, reach, recency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from listener.domain import Mention
from listener.nlp.scoring import Score
from listener.nlp.triage import find_cues, triage

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def mention(text: str, **kw) -> Mention:
    kw.setdefault("published_at", NOW - timedelta(hours=2))
    return Mention(source_kind="test", source_name="t", external_id="1", text=text, fetched_at=NOW, **kw)


def score(sentiment: str = "negative", p: float = 0.95, flag: bool = False, cats: tuple[str, ...] = ()) -> Score:
    rest = (1 - p) / 2
    probs = {s: (p if s == sentiment else rest) for s in ("negative", "neutral", "positive")}
    return Score(sentiment, probs, "test", categories=cats, negative_service=flag)


@pytest.mark.parametrize("text,kind", [
    ("Ich werde meinen Vertrag kündigen!", "cancel"),
    ("Habe gestern gekündigt.", "cancel"),
    ("I'm going to cancel my subscription today", "cancel"),
    ("Mein Anwalt wird sich melden", "legal"),
    ("Ich gehe zur Verbraucherzentrale.", "legal"),
    ("My lawyer will contact you", "legal"),
    ("Nie wieder bestelle ich hier", "never-again"),
    ("never again, worst airline", "never-again"),
    ("I filed a chargeback with my bank", "chargeback"),
    ("Ich mache eine Rückbuchung über die Bank", "chargeback"),
])
def test_cues_found_in_both_languages(text: str, kind: str) -> None:
    assert kind in {c.kind for c, _ in find_cues(text)}


def test_no_cue_in_harmless_text() -> None:
    assert find_cues("My flight was cancelled but the crew was lovely") == []
    assert find_cues("Der Zug war pünktlich, danke!") == []


def test_positive_is_none() -> None:
    assert triage(mention("Tolles Produkt, danke!"), score("positive"), NOW).urgency == "none"


def test_plain_negative_is_p3_with_reason() -> None:
    t = triage(mention("meh, not great", published_at=NOW - timedelta(days=3)), score(p=0.7), NOW)
    assert t.urgency == "P3"
    assert t.reasons == ("negative sentiment (70% confident)",)


def test_service_issue_recent_confident_is_p2() -> None:
    t = triage(mention("Paket seit zwei Wochen nicht da"), score(flag=True, cats=("delivery",)), NOW)
    assert t.urgency == "P2"
    assert "negative service experience: delivery" in t.reasons
    assert any(r.startswith("recent: posted 2 h ago") for r in t.reasons)


def test_escalation_makes_p1_german_and_english() -> None:
    de = triage(mention("Seit Wochen kein Rückruf von der Hotline, ich kündige!"),
                score(flag=True, cats=("support",)), NOW)
    en = triage(mention("Support ignored me for weeks. I'm going to cancel my account."),
                score(flag=True, cats=("support",)), NOW)
    assert de.urgency == en.urgency == "P1"
    assert any("wants to cancel" in r and "kündig" in r for r in de.reasons)
    assert any("wants to cancel" in r for r in en.reasons)


def test_legal_threat_is_at_least_p2_even_when_old_and_unsure() -> None:
    t = triage(mention("Das geht jetzt an meinen Anwalt.", published_at=NOW - timedelta(days=30)), score(p=0.5), NOW)
    assert t.urgency == "P2"
    assert any("legal" in r for r in t.reasons) and any(r.startswith("old:") for r in t.reasons)


def test_hard_cue_counts_even_if_model_says_neutral() -> None:
    t = triage(mention("Ich habe eine Rückbuchung veranlasst."), score("neutral", 0.6), NOW)
    assert t.urgency in ("P2", "P3") and any("payment" in r for r in t.reasons)


def test_rating_and_reach_raise_urgency() -> None:
    low = triage(mention("Schlecht.", rating=1.0, reach={"followers": 250_000}), score("neutral", 0.6), NOW)
    assert low.urgency in ("P1", "P2")
    assert "1-star review" in low.reasons and any("wide reach" in r for r in low.reasons)
    assert triage(mention("ok", rating=4.0), score("positive"), NOW).urgency == "none"


def test_unevaluated_language_is_named_in_the_reasons() -> None:
    french = Score("negative", {"negative": 0.9, "neutral": 0.05, "positive": 0.05}, "test", language="fr",
                   language_supported=False)
    t = triage(mention("Le service client ne répond jamais"), french, NOW)
    assert t.urgency != "none"
    assert t.reasons[-1] == "language fr: the model was not evaluated on it, check the text yourself"
    assert not any("language" in r for r in triage(mention("never again"), score(), NOW).reasons)
