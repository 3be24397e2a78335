"""The written care cases: labels follow their kind, the test part is large enough and never trained on, and the
train part was written apart from it (no five-word run shared with a test text)."""

from __future__ import annotations

import re
from collections import Counter

from listener.nlp.train.care_cases import CARE_FILE, test_rows, train_rows
from listener.nlp.train.evaluate import read_tsv

LABELS = {"complaint": ("negative", "1"), "solved": ("positive", "0"), "praise": ("positive", "0"),
          "neutral": ("neutral", "0")}
# the retraining issue's examples: always test rows
ISSUE_EXAMPLES = ("Seit drei Wochen warte ich auf meine neue Karte von Acme",
                  "Handy weg, Karte in zehn Minuten gesperrt")


def _runs(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_labels_follow_the_kind_and_ids_and_texts_are_unique() -> None:
    rows = read_tsv(CARE_FILE)
    assert len({r["id"] for r in rows}) == len(rows) and len({r["text"] for r in rows}) == len(rows)
    for r in rows:
        assert (r["sentiment"], r["negative_service"]) == LABELS[r["kind"]], r["id"]
        assert r["part"] in ("train", "test") and r["lang"] in ("de", "en")


def test_the_test_part_has_120_complaints_and_120_others_and_the_issue_examples() -> None:
    rows = test_rows()
    kinds = Counter(r["kind"] for r in rows)
    assert kinds["complaint"] >= 120 and len(rows) - kinds["complaint"] >= 120 and kinds["solved"] >= 40
    assert {r["lang"] for r in rows} == {"de", "en"}
    texts = " | ".join(r["text"] for r in rows)
    assert all(example in texts for example in ISSUE_EXAMPLES)


def test_train_and_test_parts_are_written_apart() -> None:
    test_runs = set().union(*(_runs(r["text"]) for r in test_rows()))
    shared = [r["text"] for r in train_rows() if _runs(r["text"]) & test_runs]
    assert shared == []
    assert not {r["text"] for r in train_rows()} & {r["text"] for r in test_rows()}
