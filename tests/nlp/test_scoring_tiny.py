"""HuggingFaceScorer with a tiny model built from a config: label mapping, batching, errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from listener.nlp.huggingface import HuggingFaceScorer, sentiment_for_label  # noqa: E402
from listener.nlp.scoring import ModelUnavailable, length_sorted_batches  # noqa: E402
from listener.nlp.settings import NlpSettings  # noqa: E402
from tests.tiny_model import build_tiny_model  # noqa: E402


def scorer(path: Path, **kw) -> HuggingFaceScorer:
    return HuggingFaceScorer(NlpSettings(model=str(path), quantize=False, threads=1, **kw))


def test_label_n_mapping_and_forced_negative(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path / "m", ["LABEL_0", "LABEL_1", "LABEL_2"], bias=[5.0, 0.0, 0.0])
    s = scorer(path, labels={"LABEL_0": "negative", "LABEL_1": "neutral", "LABEL_2": "positive"})
    texts = ["the train was late", "great", "der zug ist sehr spät und der kundenservice schlecht " * 5]
    scores = s.score(texts)
    assert [x.sentiment for x in scores] == ["negative"] * 3
    for x in scores:
        assert math.isclose(sum(x.probabilities.values()), 1.0, abs_tol=1e-5)
        assert x.probabilities["negative"] > 0.98
        assert x.model_version.startswith("hf:")


def test_named_and_star_labels_fold(tmp_path: Path) -> None:
    stars = build_tiny_model(tmp_path / "stars", ["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
                             bias=[0.0, 0.0, 0.0, 3.0, 3.0])
    x = scorer(stars).score(["good"])[0]
    assert x.sentiment == "positive"
    assert x.probabilities["positive"] > 0.9  # 4 and 5 stars fold into positive
    named = build_tiny_model(tmp_path / "named", ["NEG", "NEU", "POS"], bias=[0.0, 4.0, 0.0])
    assert scorer(named).score(["a"])[0].sentiment == "neutral"


def test_unmapped_label_is_a_clear_error(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path / "m", ["LABEL_0", "LABEL_1"])
    with pytest.raises(ModelUnavailable, match="LABEL_0"):
        scorer(path)


def test_missing_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable):
        scorer(tmp_path / "nothing-here")


def test_label_helpers() -> None:
    assert sentiment_for_label("Negative", {}) == "negative"
    assert sentiment_for_label("3 stars", {}) == "neutral"
    batches = length_sorted_batches(["aaaa", "a", "aaa", "aa", "aaaaa"], 2)
    assert batches == [[1, 3], [2, 0], [4]]


def test_order_preserved_across_batches(tmp_path: Path) -> None:
    path = build_tiny_model(tmp_path / "m", ["negative", "neutral", "positive"])
    s = scorer(path, batch_size=2)
    texts = ["bad " * n for n in (5, 1, 9, 3, 7)]
    one_by_one = [s.score([t])[0].probabilities for t in texts]
    batched = [x.probabilities for x in s.score(texts)]
    for a, b in zip(one_by_one, batched, strict=True):
        assert all(math.isclose(a[k], b[k], abs_tol=1e-4) for k in a)
