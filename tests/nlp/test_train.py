"""Training pieces: quantisation-aware Linear against real ONNX Runtime int8, per-language offsets, and a
small end-to-end run (train → artefacts → int8 ONNX → scores)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from listener.store.engine import Store  # noqa: E402


def test_fake_quant_linear_matches_onnxruntime_int8(tmp_path: Path) -> None:
    """FakeQuantLinear must see what the deployed graph computes: ORT's dynamic int8 MatMul, per-channel weights."""
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from listener.nlp.model import FakeQuantLinear

    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 32)
    with torch.no_grad():
        linear.weight[3] *= 20  # one loud output row: per-channel scales must keep the others precise
    x = torch.randn(2, 10, 64)
    x[0, 0, 5] = 40.0  # an outlier activation, as in the encoder's feed-forward layers
    torch.onnx.export(linear, (x,), str(tmp_path / "l.onnx"), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "b", 1: "t"}}, opset_version=17, dynamo=False)
    quantize_dynamic(str(tmp_path / "l.onnx"), str(tmp_path / "q.onnx"), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul"], per_channel=True)
    int8 = ort.InferenceSession(str(tmp_path / "q.onnx"), providers=["CPUExecutionProvider"])
    y_ort = int8.run(None, {"x": x.numpy()})[0]

    fake = torch.nn.Linear(64, 32)
    fake.load_state_dict(linear.state_dict())
    fake.__class__ = FakeQuantLinear
    with torch.no_grad():
        y_fake = fake(x).numpy()
        y_fp32 = linear(x).numpy()
    quant_error = np.abs(y_fp32 - y_ort).max()
    assert quant_error > 1e-3  # the outlier makes int8 visibly different from fp32 …
    assert np.abs(y_fake - y_ort).max() < quant_error / 50  # … and the simulation reproduces that difference


def test_fake_quant_linear_passes_gradients_straight_through() -> None:
    from listener.nlp.model import FakeQuantLinear, quantization_aware

    torch.manual_seed(1)
    linear = torch.nn.Linear(8, 4)
    linear.__class__ = FakeQuantLinear
    x = torch.randn(3, 8, requires_grad=True)
    linear(x).sum().backward()
    assert x.grad is not None and torch.count_nonzero(x.grad) > 0
    # d(sum)/dW is the (int8-rounded) input summed over rows: within a few quantisation steps of the real one
    assert linear.weight.grad is not None
    assert torch.allclose(linear.weight.grad, x.detach().sum(0).expand(4, 8), atol=0.1)

    encoder = torch.nn.Module()
    encoder.encoder = torch.nn.Module()
    encoder.encoder.layer = torch.nn.ModuleList([torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())])
    quantization_aware(encoder)
    assert type(encoder.encoder.layer[0][0]) is FakeQuantLinear
    quantization_aware(encoder, enabled=False)
    assert type(encoder.encoder.layer[0][0]) is torch.nn.Linear


def _example(text: str, sentiment: int):
    from listener.nlp.train.datasets import Example

    return Example(ids=[0, 1], sentiment=sentiment, flag=float("nan"), cats=None, source="t", text=text)


def test_logit_offsets_are_tuned_per_language() -> None:
    """German dev rows whose model over-predicts `positive` get a negative offset; English rows that are
    already right keep zero, instead of inheriting the German correction."""
    from listener.nlp.train.calibrate import tune_logit_bias_by_language

    german = "Die Bahn war heute wieder einmal pünktlich, und das Personal im Zug war freundlich."
    english = "The flight was on time today and the crew on board were friendly."
    exs_de = [_example(german, 1) for _ in range(150)] + [_example(german, 2) for _ in range(50)]
    sent_de = np.array([[0.1, 0.4, 0.5]] * 150 + [[0.05, 0.15, 0.8]] * 50, np.float32)  # neutral read as positive
    exs_en = [_example(english, 1) for _ in range(100)] + [_example(english, 2) for _ in range(100)]
    sent_en = np.array([[0.1, 0.6, 0.3]] * 100 + [[0.1, 0.3, 0.6]] * 100, np.float32)  # right as it is
    raw = {"de_dev": (exs_de, sent_de, np.zeros((200, 6)), np.zeros(200)),
           "en_dev": (exs_en, sent_en, np.zeros((200, 6)), np.zeros(200))}
    bias = tune_logit_bias_by_language(raw)
    assert set(bias) == {"*", "de", "en"}
    assert bias["de"][2] < 0 and math.log(0.5) + bias["de"][2] < math.log(0.4) + bias["de"][1]
    assert bias["en"] == [0.0, 0.0, 0.0]


@pytest.mark.slow
def test_small_training_run_end_to_end(e5_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       caplog: pytest.LogCaptureFixture) -> None:
    """A 2-layer, 48-example run writes artefacts that load, export to int8 ONNX and score."""
    pytest.importorskip("onnxruntime")
    from listener.nlp import ort, ov
    from listener.nlp.embedded import EmbeddedScorer
    from listener.nlp.model import load_inference_model
    from listener.nlp.model_io import DELTA_FILE, HEADS_FILE, artifacts_hash
    from listener.nlp.scoring import ModelUnavailable
    from listener.nlp.settings import NlpSettings
    from listener.nlp.train.finetune import main

    data = tmp_path / "mine.tsv"
    rows = ["id\trelevance\tsentiment\ttext"]
    for i in range(24):
        rows.append(f"n{i}\ttrue\tnegative\tDer Kundenservice hat mich nach Bestellung {i} komplett ignoriert.")
        rows.append(f"p{i}\tfalse\tpositive\tGreat support, order {i} arrived early and the staff was lovely.")
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "art"
    assert main(["--data", str(data), "--epochs", "1", "--layers", "2", "--qat", "--batch-size", "8",
                 "--relevance-weight", "0.5",
                 "--out", str(out), "--cache-dir", str(e5_cache), "--threads", "2"]) == 0

    meta = json.loads((out / "meta.json").read_text())
    assert meta["layers"] == 2 and meta["quantization_aware"] is True
    assert meta["train"]["relevance_weight"] == 0.5
    assert set(meta["logit_bias"]) >= {"*"} and len(meta["history"]) == 1
    model, _ = load_inference_model(e5_cache / "e5-small", out)
    assert len(model.encoder.encoder.layer) == 2

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "e5-small").symlink_to(e5_cache / "e5-small")
    texts = ["Der Service ist eine Frechheit.", "Lovely staff, thank you!"]
    scorer = EmbeddedScorer(NlpSettings(threads=2, batch_size=4, runtime="onnxruntime"), cache, artifacts_dir=out)
    assert scorer.backend == "onnxruntime-int8"
    assert ort.onnx_path(cache, artifacts_hash(out, (DELTA_FILE, HEADS_FILE))).is_file()
    scores = scorer.score(texts)
    assert [s.language for s in scores] == ["de", "en"]
    for s in scores:
        assert math.isclose(sum(s.probabilities.values()), 1.0, abs_tol=1e-4)

    # the calibration also recorded activation ranges, so OpenVINO's static int8 graph is the default runtime
    ranges = json.loads((out / ov.RANGES_FILE).read_text())
    assert 0 < ranges["texts"] < 48 and len(ranges["ranges"]) == 2 * 6  # training rows only; six Linears a layer
    if not ov.available():
        pytest.skip("openvino is not installed")
    static = EmbeddedScorer(NlpSettings(threads=2, batch_size=4), cache, artifacts_dir=out)
    assert static.backend == "openvino-int8-static" and static.model_version.endswith(":int8-static")
    # the two int8 graphs agree on the probabilities; not on the label, which a 48-example, one-epoch model leaves
    # near a tie (seen flipping between OpenVINO/ONNX Runtime releases with probabilities 0.05 apart)
    for dynamic_score, static_score in zip(scores, static.score(texts), strict=True):
        for label, p in static_score.probabilities.items():
            assert p == pytest.approx(dynamic_score.probabilities[label], abs=0.1), (static_score, dynamic_score)
    # an OpenVINO that cannot compile (old CPU, broken install) leaves the "auto" runtime on ONNX Runtime
    def openvino_fails(*_args: object) -> None:
        raise RuntimeError("no plugin for CPU")

    monkeypatch.setattr(ov, "OvModel", openvino_fails)
    with caplog.at_level("WARNING"):
        fallback = EmbeddedScorer(NlpSettings(threads=2, batch_size=4), cache, artifacts_dir=out)
    assert fallback.backend == "onnxruntime-int8" and "no plugin for CPU" in caplog.text
    with pytest.raises(ModelUnavailable, match="OpenVINO could not load"):
        EmbeddedScorer(NlpSettings(threads=2, runtime="openvino"), cache, artifacts_dir=out)
    monkeypatch.undo()

    # fixed ranges: a text scores the same alone as in a batch with longer neighbours (bf16 rounding aside)
    neighbours = [texts[0], "Die Bestellung kam nach drei Wochen, beschädigt, und niemand antwortet auf Mails.",
                  texts[1], "ok"]
    alone = [static.score([text])[0] for text in texts]
    batched = static.score(neighbours)
    for one, together in zip(alone, (batched[0], batched[2]), strict=True):
        for label, p in one.probabilities.items():
            assert p == pytest.approx(together.probabilities[label], abs=0.01)


def test_flag_thresholds_are_tuned_per_language() -> None:
    from listener.nlp.train.calibrate import tune_flag_thresholds_by_language
    from listener.nlp.train.datasets import Example

    def rows(text: str, flagged_p: float, clean_p: float) -> tuple:
        exs = [Example(ids=[0], sentiment=0, flag=float(i < 100), cats=[0.0] * 6, source="t", text=text)
               for i in range(200)]
        flag = np.array([flagged_p] * 100 + [clean_p] * 100, np.float32)
        return exs, np.zeros((200, 3)), np.zeros((200, 6)), flag

    raw = {"de": rows("Der Zug hatte wieder eine Stunde Verspätung und niemand hat uns informiert.", 0.3, 0.1),
           "en": rows("My bag was lost again and nobody at the desk would even talk to me.", 0.9, 0.6)}
    thresholds = tune_flag_thresholds_by_language(raw)
    assert 0.1 < thresholds["de"] <= 0.3 and 0.6 < thresholds["en"] <= 0.9


def test_training_mix_repeats_whole_shares_and_resamples_fractions_each_epoch() -> None:
    """Share 2 = every row twice per epoch; share 0.5 = a different random half each epoch, and each pair of
    epochs uses every row once."""
    import random

    from listener.nlp.train.datasets import TrainingMix

    twice = [_example(f"g{i}", 1) for i in range(10)]
    halved = [_example(f"a{i}", 0) for i in range(40)]
    mix = TrainingMix([(twice, 2), (halved, 0.5)])
    assert len(mix) == 40 and len(mix.examples()) == 50
    assert mix.label_counts() == {1: 20, 0: 20}
    rng = random.Random(0)
    epochs = [mix.epoch(rng) for _ in range(4)]
    for epoch in epochs:
        assert len(epoch) == 40
        assert all(epoch.count(e) == 2 for e in twice)
        assert len({id(e) for e in epoch if e in halved}) == 20  # a half, without repeats
    halves = [frozenset(id(e) for e in epoch if e in halved) for epoch in epochs]
    assert len(set(halves)) > 1  # resampled, not one fixed half
    assert halves[0] | halves[1] == halves[2] | halves[3] == {id(e) for e in halved}


def test_relevance_column_is_read_where_present(tmp_path: Path) -> None:
    """GermEval's relevance labels feed the auxiliary loss; rows without one (other files, empty cells) are unknown."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    from listener.nlp.train.datasets import load_examples

    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    with_column = tmp_path / "ge.tsv"
    with_column.write_text("id\trelevance\tsentiment\ttext\n"
                           "a\ttrue\tnegative\tZug fällt aus\nb\tfalse\tneutral\tBahnhof Zoo\nc\t\tneutral\tx\n")
    without = tmp_path / "tweets.tsv"
    without.write_text("id\tsentiment\ttext\nd\tpositive\tlovely\n")
    relevant = [e.relevant for e in load_examples(with_column, tokenizer, 16)]
    assert relevant[:2] == [1.0, 0.0] and math.isnan(relevant[2])
    assert math.isnan(load_examples(without, tokenizer, 16)[0].relevant)


def test_train_fraction_keeps_a_nested_subset_and_whole_dev_sets(tmp_path: Path) -> None:
    """--train-fraction (learning curves): each share's rows contain the smaller share's; hold-outs don't change."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    from listener.nlp.train.config import TrainConfig
    from listener.nlp.train.datasets import build_datasets
    from listener.nlp.train.evaluate import DataFileError
    from listener.nlp.train.finetune import main

    tokenizer = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    data = tmp_path / "mine.tsv"
    data.write_text("id\tsentiment\ttext\n" + "".join(f"r{i}\tneutral\tpost {i}\n" for i in range(2000)))
    config = TrainConfig(data=[data], max_length=16, long_length=16)
    splits = {}
    for fraction in (0.25, 0.5, 1.0):
        _files, mix, dev = build_datasets(replace(config, train_fraction=fraction), tokenizer)
        splits[fraction] = ({e.row_id for e in mix.examples()}, {e.row_id for e in dev["mine[holdout]"]})
    (quarter, dev_q), (half, dev_h), (whole, dev_w) = splits[0.25], splits[0.5], splits[1.0]
    assert dev_q == dev_h == dev_w and not dev_w & whole and len(dev_w) + len(whole) == 2000
    assert quarter < half < whole
    assert abs(len(quarter) / len(whole) - 0.25) < 0.04 and abs(len(half) / len(whole) - 0.5) < 0.04
    tiny = tmp_path / "tiny.tsv"
    tiny.write_text("id\tsentiment\ttext\nr1\tneutral\tpost\n")
    with pytest.raises(DataFileError, match="no training rows left .* --train-fraction 0.01"):
        build_datasets(replace(config, data=[tiny], train_fraction=0.01), tokenizer)
    for wrong in ("0", "1.5"):
        with pytest.raises(SystemExit):
            main(["--train-fraction", wrong])


def _write_made_up_mentions(path: Path, relevance: bool = False) -> list[str]:
    """48 made-up mentions, 16 of each sentiment, as a training file (with a relevance column when asked: the
    neutral ones are off topic); returns its lines."""
    rows = ["id\trelevance\tsentiment\ttext" if relevance else "id\tsentiment\ttext"]
    for i in range(16):
        for key, relevant, sentiment, text in (
                ("n", "true", "negative", f"Die Hotline hat mich bei Bestellung {i} dreimal aus der Leitung geworfen."),
                ("u", "false", "neutral", f"Order {i} was shipped on Monday."),
                ("p", "true", "positive", f"Great support, order {i} arrived early.")):
            rows.append("\t".join([f"{key}{i}", *([relevant] if relevance else []), sentiment, text]))
    path.write_text("\n".join(rows) + "\n")
    return rows


def _tiny_runs(e5_cache: Path, tmp_path: Path, seeds: tuple[int, ...], layers: int = 1) -> list[Path]:
    """One-epoch runs of the bottom `layers` layers on 48 made-up mentions, one artefact directory per seed."""
    from listener.nlp.train.finetune import main

    data = tmp_path / "mine.tsv"
    _write_made_up_mentions(data)
    outs = []
    for n, seed in enumerate(seeds):
        out = tmp_path / f"run{n}-seed{seed}-layers{layers}"
        assert main(["--data", str(data), "--epochs", "1", "--layers", str(layers), "--batch-size", "8",
                     "--seed", str(seed), "--out", str(out), "--cache-dir", str(e5_cache), "--threads", "2"]) == 0
        outs.append(out)
    return outs


def test_same_seed_same_artefacts(e5_cache: Path, tmp_path: Path) -> None:
    """`listener nlp train` reproduces its artefacts: two runs with the same data and seed write the same weights."""
    from listener.nlp.model_io import DELTA_FILE, HEADS_FILE

    first, again, other = _tiny_runs(e5_cache, tmp_path, (13, 13, 14))
    weights = [[(d / f).read_bytes() for f in (DELTA_FILE, HEADS_FILE)] for d in (first, again, other)]
    assert weights[1] == weights[0]
    assert weights[2] != weights[0]


def test_care_team_labels_adapt_the_shipped_model(e5_cache: Path, tmp_path: Path, store: Store) -> None:
    """Labels stored by `listener mentions label`, exported, train a model that starts from the shipped one
    (`--teacher embedded`) and learns the flag and categories from them."""
    from types import SimpleNamespace

    from click.testing import CliRunner
    from tokenizers import Tokenizer

    from listener.labels import export_labels, label_mention
    from listener.nlp.cli import nlp
    from listener.nlp.model_io import ARTIFACTS_DIR, artifacts_hash
    from listener.nlp.settings import NlpSettings
    from listener.nlp.train.datasets import load_examples
    from tests.test_labels import NOW, add_mentions

    texts = {"negative": "Die Hotline hat mich bei Vertrag {} dreimal aus der Leitung geworfen.",
             "neutral": "Order {} was shipped on Monday.", "positive": "Great support, order {} arrived early."}
    labelled = [(sentiment, text.format(i)) for i in range(16) for sentiment, text in texts.items()]
    ids = add_mentions(store, *((None, text, "Acme") for _sentiment, text in labelled))
    with store.write() as session:
        for mention_id, (sentiment, _text) in zip(ids, labelled, strict=True):
            label_mention(session, mention_id, sentiment, ["support"] if sentiment == "negative" else [], None, NOW)
    export = tmp_path / "labels.tsv"
    with store.read() as session, export.open("w", encoding="utf-8") as fh:
        assert export_labels(session, fh) == 48

    examples = load_examples(export, Tokenizer.from_file(str(e5_cache / "e5-small" / "tokenizer.json")), 64)
    assert sorted(e.flag for e in examples) == [0.0] * 32 + [1.0] * 16  # every row has a flag target
    assert all(e.cats == [e.flag, 0, 0, 0, 0, 0] for e in examples)  # support only

    out = tmp_path / "mine"
    obj = SimpleNamespace(nlp=NlpSettings(threads=2), cache_dir=e5_cache)
    result = CliRunner().invoke(nlp, ["train", "--data", str(export), "--teacher", "embedded", "--layers", "1",
                                      "--qat", "--epochs", "1", "--out", str(out)], obj=obj)
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["train"]["teacher"] == str(ARTIFACTS_DIR) and meta["layers"] == 1
    assert meta["train"]["files"] == {"labels.tsv": 1}

    # the comparison a team runs before switching: the same labelled file, scored by the adapted model
    adapted = CliRunner().invoke(nlp, ["eval", "--artifacts", str(out), str(export)], obj=obj)
    assert adapted.exit_code == 0, adapted.output
    assert f"model: embedded:e5-small+{artifacts_hash(out)}:int8" in adapted.output
    assert "flag         P " in adapted.output  # the exported aspects give flag metrics


def test_a_stopped_run_resumes_exactly(e5_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run stopped at an epoch's end and again mid-epoch, then resumed from its checkpoint, reaches the last
    step with the same weights and optimiser moments as the same run without a stop (quantisation-aware, with
    the relevance head and dropout in play), and writes the same artefacts and per-epoch dev scores."""
    from listener.nlp.model_io import DELTA_FILE, HEADS_FILE
    from listener.nlp.train.checkpoint import STATE_FILE
    from listener.nlp.train.finetune import STOPPED, main

    data, dev = tmp_path / "mine.tsv", tmp_path / "dev.tsv"
    rows = _write_made_up_mentions(data, relevance=True)
    dev.write_text("\n".join(rows[:1] + ["d" + r for r in rows[1:13]]) + "\n")
    common = ["--data", str(data), "--dev", str(dev), "--epochs", "2", "--layers", "1", "--batch-size", "8", "--qat",
              "--relevance-weight", "0.5", "--cache-dir", str(e5_cache), "--threads", "2"]  # 6 steps an epoch

    def dev_lines() -> list[str]:  # "epoch N step M: dev score …" after each epoch
        return [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]

    # both runs stop at the last step (before the last dev report), so their final training states can be compared
    whole, whole_ckpt = tmp_path / "whole", tmp_path / "whole-ckpt"
    assert main([*common, "--out", str(whole), "--checkpoint-dir", str(whole_ckpt), "--checkpoint-every", "0",
                 "--stop-after-steps", "12"]) == STOPPED
    sittings, ckpt = tmp_path / "sittings", tmp_path / "ckpt"
    assert main([*common, "--out", str(sittings), "--checkpoint-dir", str(ckpt), "--stop-after-steps", "6"]) == STOPPED
    assert not (sittings / DELTA_FILE).exists()  # stopped before the first epoch's dev report
    assert main(["--resume", str(ckpt), "--stop-after-steps", "9"]) == STOPPED
    assert main(["--resume", str(ckpt), "--stop-after-steps", "12"]) == STOPPED
    capsys.readouterr()

    states = [torch.load(d / STATE_FILE, weights_only=False) for d in (whole_ckpt, ckpt)]
    assert states[0]["progress"]["step"] == states[1]["progress"]["step"] == 12
    assert states[0]["model"].keys() == states[1]["model"].keys()
    for name, tensor in states[0]["model"].items():
        assert torch.equal(tensor, states[1]["model"][name]), name
    for moments, again in zip(states[0]["optimizer"]["state"].values(), states[1]["optimizer"]["state"].values(),
                              strict=True):
        assert all(torch.equal(moments[k], again[k]) for k in moments)
    assert torch.equal(states[0]["torch_rng"], states[1]["torch_rng"])

    assert main(["--resume", str(whole_ckpt)]) == 0
    uninterrupted = dev_lines()
    assert main(["--resume", str(ckpt)]) == 0
    assert dev_lines() == uninterrupted and len(uninterrupted) == 1  # epoch 2's report
    assert not ckpt.exists()  # a finished run leaves no checkpoint behind
    for name in (DELTA_FILE, HEADS_FILE):
        assert (sittings / name).read_bytes() == (whole / name).read_bytes(), name


def test_resuming_refuses_changed_data_and_missing_checkpoints(e5_cache: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from listener.nlp.train.finetune import STOPPED, main

    data = tmp_path / "mine.tsv"
    data.write_text("id\tsentiment\ttext\n" + "".join(f"r{i}\tneutral\tpost number {i}\n" for i in range(40)))
    ckpt = tmp_path / "ckpt"
    assert main(["--data", str(data), "--epochs", "1", "--layers", "1", "--batch-size", "8", "--out",
                 str(tmp_path / "out"), "--checkpoint-dir", str(ckpt), "--stop-after-steps", "1",
                 "--cache-dir", str(e5_cache)]) == STOPPED
    with data.open("a") as fh:
        fh.write("r99\tpositive\tone more row\n")
    assert main(["--resume", str(ckpt)]) == 2
    assert "the training data changed since this checkpoint" in capsys.readouterr().err
    assert main(["--resume", str(tmp_path / "nothing")]) == 2
    assert "no training checkpoint here" in capsys.readouterr().err


def test_training_mix_queues_survive_a_checkpoint() -> None:
    """The draw-without-replacement queues, saved as row indices and restored into a fresh mix, give the same
    next epochs as the mix that never stopped."""
    import random

    from listener.nlp.train.datasets import TrainingMix

    def mix() -> TrainingMix:
        return TrainingMix([([_example(f"g{i}", 1) for i in range(10)], 1),
                            ([_example(f"a{i}", 0) for i in range(40)], 0.3)])

    going, rng = mix(), random.Random(5)
    going.epoch(rng)
    saved, rng_state = going.queue_state(), rng.getstate()
    assert saved and all(len(q) < 40 for q in saved.values())
    expected = [[e.text for e in going.epoch(rng)] for _ in range(3)]
    fresh, rng2 = mix(), random.Random()
    fresh.restore_queues(json.loads(json.dumps(saved)))  # as a checkpoint stores them
    rng2.setstate(rng_state)
    assert [[e.text for e in fresh.epoch(rng2)] for _ in range(3)] == expected


def test_shares_of_the_default_mix_can_be_set_per_file() -> None:
    from listener.nlp.train.config import parse_args
    from listener.nlp.train.datasets import build_datasets
    from listener.nlp.train.evaluate import DataFileError

    config = parse_args(["--share", "sb10k_train=2", "--share", "short_texts.tsv=0"])
    assert config.shares == {"sb10k_train": 2.0, "short_texts": 0.0}
    for wrong in ("sb10k_train", "sb10k_train=-1", "=2"):
        with pytest.raises(SystemExit):
            parse_args(["--share", wrong])
    with pytest.raises(DataFileError, match="no training file nope_train in the default mix"):
        build_datasets(parse_args(["--share", "nope_train=1"]), tokenizer=None)
