"""Metrics and the negative-service flag on small hand-made TSVs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from listener.nlp.categories import airline_targets, flagged_categories, germeval_targets, load_taxonomy
from listener.nlp.evaluate import DataFileError, evaluate_file, flag_metrics, read_tsv, sentiment_metrics
from listener.nlp.scoring import Score

TAXONOMY = "dataset\tlabel\tcategory\ngermeval2017\tZugfahrt\tdelivery\ngermeval2017\tAllgemein\tnone\n" \
           "germeval2017\tTicketkauf\tbilling\nairline\tLate Flight\tdelivery\nairline\tCan't Tell\tnone\n"


class FixedScorer:
    """Returns pre-set predictions keyed by text."""

    model_version = "fixed"

    def __init__(self, preds: dict[str, tuple[str, bool, tuple[str, ...]]]):
        self.preds = preds

    def score(self, texts, hints=None):
        out = []
        for t in texts:
            sentiment, flag, cats = self.preds[t]
            probs = {s: (1.0 if s == sentiment else 0.0) for s in ("negative", "neutral", "positive")}
            out.append(Score(sentiment, probs, "fixed", categories=cats, negative_service=flag))
        return out


def test_sentiment_metrics_by_hand() -> None:
    gold = ["negative", "negative", "neutral", "positive"]
    pred = ["negative", "neutral", "neutral", "negative"]
    m = sentiment_metrics(gold, pred)
    assert m["n"] == 4 and m["accuracy"] == pytest.approx(0.5) and m["micro_f1"] == m["accuracy"]
    # negative: P 1/2 R 1/2 F1 .5; neutral: P 1/2 R 1 F1 2/3; positive: 0
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert m["macro_recall"] == pytest.approx((0.5 + 1 + 0) / 3)


def test_macro_over_gold_classes_only() -> None:
    m = sentiment_metrics(["negative", "positive"], ["negative", "positive"])
    assert m["macro_f1"] == 1.0 and m["macro_recall"] == 1.0  # no neutral in a binary file


def test_flag_targets(tmp_path: Path) -> None:
    (tmp_path / "taxonomy.tsv").write_text(TAXONOMY, encoding="utf-8")
    tax = load_taxonomy(tmp_path / "taxonomy.tsv")
    assert germeval_targets("Zugfahrt#Pünktlichkeit:negative Allgemein#Haupt:negative", tax) == (True, ("delivery",))
    assert germeval_targets("Allgemein#Haupt:negative", tax) == (False, ())  # `none` category
    assert germeval_targets("Ticketkauf#Haupt:positive", tax) == (False, ())
    assert airline_targets("negative", "Late Flight", tax) == (True, ("delivery",))
    assert airline_targets("negative", "Can't Tell", tax) == (False, ())
    assert airline_targets("neutral", "", tax) == (False, ())


def test_flag_metrics_and_categories() -> None:
    gold = [(True, ("delivery",)), (True, ("billing",)), (False, ()), (False, ())]
    pred = [(True, ("delivery",)), (False, ()), (True, ("support",)), (False, ())]
    m = flag_metrics(gold, pred)
    assert (m["precision"], m["recall"], m["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert {c: v["f1"] for c, v in m["categories"].items()} == {"delivery": 1.0, "billing": 0.0}
    # pooled: 1 right (delivery), 1 wrong (support on a clean document), 1 missed (billing)
    assert m["category_micro_f1"] == pytest.approx(0.5) and m["category_macro_f1"] == pytest.approx(0.5)
    assert m["categories"]["delivery"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    # support on a clean document is no category error (the flag already counts it), but billing is missed
    assert m["categories"]["billing"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["categories_per_flag"] == 1.0


def test_evaluate_file_germeval_style(tmp_path: Path) -> None:
    (tmp_path / "taxonomy.tsv").write_text(TAXONOMY, encoding="utf-8")
    f = tmp_path / "mini_test.tsv"
    f.write_text(
        "id\trelevance\tsentiment\taspects\ttext\n"
        "1\ttrue\tnegative\tZugfahrt#Pünktlichkeit:negative\tZug zu spät\n"
        "2\ttrue\tneutral\tAllgemein#Haupt:neutral\tBahn fährt\n"
        "3\tfalse\tneutral\t\tWetter\n", encoding="utf-8")
    scorer = FixedScorer({"Zug zu spät": ("negative", True, ("delivery",)), "Bahn fährt": ("negative", False, ()),
                          "Wetter": ("neutral", True, ("support",))})
    r = evaluate_file(scorer, f)
    assert r["file"] == "mini_test.tsv" and r["n"] == 3
    assert r["accuracy"] == pytest.approx(2 / 3)
    assert r["flag"]["precision"] == pytest.approx(0.5) and r["flag"]["recall"] == 1.0
    json.dumps(r)  # serialisable


def test_plain_file_has_no_flag_and_bad_label_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "plain.tsv"
    f.write_text("id\tsentiment\ttext\n1\tpositive\tgood\n", encoding="utf-8")
    r = evaluate_file(FixedScorer({"good": ("positive", False, ())}), f)
    assert r["flag"] is None and r["accuracy"] == 1.0
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tsentiment\ttext\n1\tmeh\tgood\n", encoding="utf-8")
    with pytest.raises(ValueError, match="meh"):
        read_tsv(bad)


@pytest.mark.parametrize(("content", "message"), [
    ("id\tsentiment\ttext\n1\tnegative\tZ\xfcge f\xe4llt aus\n".encode("latin-1"), "not UTF-8 text .byte 0xfc"),
    (b"id\tsentiment\ttext\n", "no rows below a header line"),
    (b"", "no rows below a header line"),
    (b"id,sentiment,text\n1,negative,bad\n", "needs the columns id, sentiment, text"),
])
def test_unusable_files_are_named_with_the_reason(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "mine.tsv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message):
        read_tsv(path)


def test_flagged_categories_join_the_head_and_the_cue_phrases() -> None:
    # support delivery billing digital product staff
    head = [0.10, 0.80, 0.05, 0.05, 0.05, 0.20]
    text = "Paket seit Wochen weg und die Hotline legt einfach auf"
    assert flagged_categories(text, head, 0.35) == ("support", "delivery")  # cue "hotline" adds what the head missed
    assert flagged_categories("Die App stürzt ab", head, 0.35) == ("delivery", "digital")
    assert flagged_categories("Schlimm.", [0.1, 0.2, 0.3, 0.0, 0.0, 0.0], 0.35) == ("billing",)  # likeliest
