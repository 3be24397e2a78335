"""lab/average.py: weight averages of fine-tuned artefacts (the model card's "model soups")."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.nlp.test_train import _tiny_runs  # noqa: E402


def test_average_is_the_mean_of_the_weights(e5_cache: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    from lab.average import average_artifacts, main
    from listener.nlp.model import load_model
    from listener.nlp.model_io import HEADS_FILE, read_meta

    a, b = _tiny_runs(e5_cache, tmp_path, (13, 14))
    out = average_artifacts(e5_cache / "e5-small", [a, b], tmp_path / "avg")
    heads = [load_file(str(d / HEADS_FILE)) for d in (a, b, out)]
    for key in heads[0]:
        assert torch.allclose(heads[2][key], (heads[0][key] + heads[1][key]) / 2)
    # encoder weights: the mean, up to the int8 rounding of the stored deltas, which is far below the runs' spread
    models = [load_model(e5_cache / "e5-small", d)[0].state_dict() for d in (a, b, out)]
    layer_keys = [k for k in models[0] if k.startswith("encoder.encoder.layer.")]
    spread = max((models[0][k] - models[1][k]).abs().max().item() for k in layer_keys)
    error = max((models[2][k] - (models[0][k] + models[1][k]) / 2).abs().max().item() for k in layer_keys)
    assert error < 0.05 * spread, (error, spread)
    assert read_meta(out)["average"] == [str(a), str(b)]

    (deeper,) = _tiny_runs(e5_cache, tmp_path, (13,), layers=2)
    with pytest.raises(ValueError, match="different numbers of layers"):
        average_artifacts(e5_cache / "e5-small", [a, deeper], tmp_path / "bad")
    with pytest.raises(SystemExit):
        main([str(a), "--out", str(tmp_path / "one")])
