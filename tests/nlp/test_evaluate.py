"""Metrics and the negative-service flag on small hand-made TSVs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from listener.nlp.categories import CATEGORIES, CategoryRule, airline_targets, germeval_targets, load_taxonomy
from listener.nlp.scoring import Score
from listener.nlp.train.evaluate import DataFileError, evaluate_file, flag_metrics, read_tsv, sentiment_metrics

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
    def flagged_categories(text: str, head: list[float], threshold: float) -> tuple[str, ...]:
        return CategoryRule({c: threshold for c in CATEGORIES}, "add").choose(text, head)

    # support delivery billing digital product staff
    head = [0.10, 0.80, 0.05, 0.05, 0.05, 0.20]
    text = "Paket seit Wochen weg und die Hotline legt einfach auf"
    assert flagged_categories(text, head, 0.35) == ("support", "delivery")  # cue "hotline" adds what the head missed
    assert flagged_categories("Die App stürzt ab", head, 0.35) == ("delivery", "digital")
    assert flagged_categories("Schlimm.", [0.1, 0.2, 0.3, 0.0, 0.0, 0.0], 0.35) == ("billing",)  # likeliest


def test_the_category_rule_uses_thresholds_per_category_confirms_cues_and_caps() -> None:
    # support delivery billing digital product staff
    head = [0.30, 0.50, 0.06, 0.40, 0.05, 0.20]
    thresholds = {"support": 0.5, "delivery": 0.45, "billing": 0.3, "digital": 0.35, "product": 0.4, "staff": 0.6}
    text = "Überweisung hängt, die App zeigt nichts an und die Hotline legt auf"  # cues: support, digital
    assert CategoryRule(thresholds, "add").choose(text, head) == ("support", "delivery", "digital")
    # "confirm": the hotline cue counts because the head gives support 0.30 ≥ half of 0.5
    assert CategoryRule(thresholds, "confirm").choose(text, head) == ("support", "delivery", "digital")
    assert CategoryRule({**thresholds, "support": 0.7}, "confirm").choose(text, head) == ("delivery", "digital")
    assert CategoryRule(thresholds, "off").choose(text, head) == ("delivery", "digital")
    # a cap keeps the surest: digital 0.40/0.35 = 1.14 before delivery 0.50/0.45 = 1.11
    assert CategoryRule(thresholds, "off", most=1).choose(text, head) == ("digital",)
    assert CategoryRule(thresholds, "off").choose("Schlimm.", [0.1, 0.2, 0.25, 0.0, 0.0, 0.0]) == ("billing",)
    # artefacts from before per-category tuning: one threshold, cues add, no cap
    old = CategoryRule.from_meta({"flag": 0.5, "category": 0.35})
    assert old == CategoryRule({c: 0.35 for c in CATEGORIES}, "add", 0)
    new = CategoryRule.from_meta({"category": 0.35, "category_by_name": thresholds, "category_cues": "confirm",
                                  "max_categories": 2})
    assert new.thresholds == thresholds and (new.cues, new.most) == ("confirm", 2)


def test_category_rule_is_tuned_on_the_flagged_dev_rows() -> None:
    """A head that gives `digital` too freely gets a higher digital threshold, and a cue phrase that names the
    wrong category on these rows is switched off or made to need the head's agreement."""
    np = pytest.importorskip("numpy")
    pytest.importorskip("torch")
    from listener.nlp.train.calibrate import tune_category_rule
    from listener.nlp.train.datasets import Example

    exs, probs = [], []
    for i in range(60):
        digital = i % 3 == 0
        # every text names the hotline (a support cue), though only delivery and digital are its topics
        exs.append(Example(ids=[0], sentiment=0, flag=1.0, cats=[0, 1, 0, float(digital), 0, 0], source="d",
                           text="Die Hotline sagt, das Paket kommt nie"))
        probs.append([0.1, 0.8, 0.05, 0.6 if digital else 0.45, 0.05, 0.05])
    for _ in range(40):  # clean rows do not tune categories
        exs.append(Example(ids=[0], sentiment=1, flag=0.0, cats=[0.0] * 6, source="d", text="Alles gut"))
        probs.append([0.9] * 6)
    raw = {"dev": (exs, np.zeros((100, 3)), np.array(probs, np.float32), np.zeros(100))}
    rule = tune_category_rule(raw)
    assert 0.45 < rule["category_by_name"]["digital"] <= 0.6
    assert rule["category_by_name"]["support"] == 0.35  # no support rows: the default
    assert rule["category_cues"] in ("off", "confirm")
    assert rule["category_dev_f1"] == 1.0
