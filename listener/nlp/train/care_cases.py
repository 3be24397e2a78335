"""Care cases: posts that report a service failure in neutral words, and posts about the same services that are
neutral or praise (praise that tells of a problem solved among them) — the cases a German care team lost before.

`data/care_cases.tsv` (written for listener; columns id, lang, part, kind, sentiment, negative_service, text) has a
train part and a test part written as different situations; the test part is never trained on. `kind` is one of
complaint, solved, praise, neutral. `listener nlp eval` reports the test part: flag recall on the complaints and
false flags on the rest (solved problems apart). No torch here: the eval command reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from listener.nlp.train.evaluate import read_tsv, sentiment_metrics

CARE_FILE = Path(__file__).with_name("data") / "care_cases.tsv"


def _part(name: str) -> list[dict[str, str]]:
    return [row for row in read_tsv(CARE_FILE) if row["part"] == name]


def train_rows() -> list[dict[str, str]]:
    return _part("train")


def test_rows() -> list[dict[str, str]]:
    return _part("test")


def evaluate_care(scorer: Any) -> dict[str, Any]:
    """Flag recall on the test part's complaints, false flags on its other rows, per language and in all."""
    rows = test_rows()
    scores = scorer.score([r["text"] for r in rows])
    scored = list(zip(rows, scores, strict=True))
    result: dict[str, Any] = {"file": "care_cases[test]", **care_figures(scored), "languages": {}}
    for lang in sorted({r["lang"] for r in rows}):
        result["languages"][lang] = care_figures([(r, s) for r, s in scored if r["lang"] == lang])
    return result


def care_figures(scored: list[tuple[dict[str, str], Any]]) -> dict[str, Any]:
    complaints = [s for r, s in scored if r["kind"] == "complaint"]
    others = [(r, s) for r, s in scored if r["kind"] != "complaint"]
    solved = [s for r, s in others if r["kind"] == "solved"]
    m = sentiment_metrics([r["sentiment"] for r, _ in scored], [s.sentiment for _, s in scored])
    caught = sum(bool(s.negative_service) for s in complaints)
    false_flags = sum(bool(s.negative_service) for _, s in others)
    return {"n": len(scored), "complaints": len(complaints), "complaints_flagged": caught,
            "flag_recall": caught / len(complaints) if complaints else None,
            "not_complaints": len(others), "false_flags": false_flags,
            "false_flag_rate": false_flags / len(others) if others else None,
            "solved": len(solved), "solved_flagged": sum(bool(s.negative_service) for s in solved),
            "sentiment_accuracy": m["accuracy"],
            "missed_texts": [r["text"] for r, s in scored if r["kind"] == "complaint" and not s.negative_service][:10],
            "false_flag_texts": [r["text"] for r, s in others if s.negative_service][:10]}
