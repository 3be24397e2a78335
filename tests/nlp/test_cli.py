"""`listener nlp score|eval` with the tiny model (fast, no embedded model needed)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

from listener.nlp.cli import nlp  # noqa: E402
from listener.nlp.settings import NlpSettings  # noqa: E402
from tests.tiny_model import build_tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def obj(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    path = build_tiny_model(tmp_path_factory.mktemp("tiny"), ["negative", "neutral", "positive"], bias=[6.0, 0.0, 0.0])
    return SimpleNamespace(nlp=NlpSettings(model=str(path), quantize=False, threads=1),
                           cache_dir=tmp_path_factory.mktemp("cache"))


def test_score_json(obj: SimpleNamespace) -> None:
    result = CliRunner().invoke(nlp, ["score", "--json", "Ich kündige, mein Anwalt meldet sich!", "ok"], obj=obj)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["text"] for d in data] == ["Ich kündige, mein Anwalt meldet sich!", "ok"]
    first = data[0]
    assert set(first) == {"text", "language", "sentiment", "probabilities", "categories", "negative_service",
                          "urgency", "reasons"}
    assert first["sentiment"] == "negative" and first["language"] == "de"
    assert first["urgency"] in ("P1", "P2") and any("cancel" in r for r in first["reasons"])


def test_score_text(obj: SimpleNamespace) -> None:
    result = CliRunner().invoke(nlp, ["score", "The app keeps crashing"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "sentiment  negative" in result.output and "urgency" in result.output


def test_score_reads_texts_from_stdin(obj: SimpleNamespace) -> None:
    result = CliRunner().invoke(nlp, ["score", "--json", "-"], input="Die App stürzt ab\n\nok\r\n", obj=obj)
    assert result.exit_code == 0, result.output
    assert [d["text"] for d in json.loads(result.output)] == ["Die App stürzt ab", "ok"]
    empty = CliRunner().invoke(nlp, ["score", "-"], input="\n", obj=obj)
    assert empty.exit_code == 1 and "no texts on stdin" in empty.output


def test_eval_json(obj: SimpleNamespace, tmp_path: Path) -> None:
    f = tmp_path / "mine.tsv"
    f.write_text("id\tsentiment\ttext\n1\tnegative\tbad\n2\tpositive\tgood\n", encoding="utf-8")
    result = CliRunner().invoke(nlp, ["eval", "--json", str(f)], obj=obj)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row == {"file": "mine.tsv", "n": 2, "accuracy": 0.5, "micro_f1": 0.5,
                   "macro_f1": pytest.approx(1 / 3, abs=1e-4), "macro_recall": 0.5, "flag": None}


def test_eval_of_a_broken_file_is_a_clear_error(obj: SimpleNamespace, tmp_path: Path) -> None:
    good = tmp_path / "good.tsv"
    good.write_text("id\tsentiment\ttext\n1\tnegative\tbad\n", encoding="utf-8")
    broken = tmp_path / "export.tsv"
    broken.write_bytes("id\tsentiment\ttext\n1\tnegative\tZ\xfcge\n".encode("cp1252"))
    result = CliRunner().invoke(nlp, ["eval", str(good), str(broken)], obj=obj)
    assert result.exit_code == 1 and "export.tsv: not UTF-8 text" in result.output
    assert "Traceback" not in result.output and "good.tsv" not in result.output  # checked before any scoring


def test_artifacts_option_names_a_model_directory(obj: SimpleNamespace, tmp_path: Path) -> None:
    missing = CliRunner().invoke(nlp, ["score", "--artifacts", str(tmp_path / "nope"), "x"], obj=obj)
    assert missing.exit_code == 2 and "is not a directory (or 'embedded')" in missing.output
    empty = tmp_path / "empty"
    empty.mkdir()
    f = tmp_path / "mine.tsv"
    f.write_text("id\tsentiment\ttext\n1\tnegative\tbad\n", encoding="utf-8")
    result = CliRunner().invoke(nlp, ["eval", "--artifacts", str(empty), str(f)], obj=obj)
    assert result.exit_code == 1 and "fine-tuned artefacts are missing from" in result.output  # not the tiny model


def test_without_obj_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LISTENER_CACHE_DIR", str(tmp_path))
    result = CliRunner().invoke(nlp, ["--help"])
    assert result.exit_code == 0 and "score" in result.output and "train" in result.output


def test_train_passes_the_later_stages_recipe_to_the_trainer(
    obj: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The model card's quantisation-aware stages must be expressible through `listener nlp train`; what is not
    given keeps the defaults `python -m listener.nlp.train` has too (one TrainConfig)."""
    from listener.nlp.train import finetune as training
    from listener.nlp.train.config import TrainConfig, parse_args

    seen: list[TrainConfig] = []
    monkeypatch.setattr(training, "run", lambda config: seen.append(config) or 0)
    teacher = tmp_path / "stage1"
    teacher.mkdir()
    result = CliRunner().invoke(nlp, ["train", "--teacher", str(teacher), "--qat", "--epochs", "1", "--lr", "1e-5",
                                      "--head-lr", "1e-4", "--seed", "14", "--relevance-weight", "0.5",
                                      "--out", str(tmp_path / "out")], obj=obj)
    assert result.exit_code == 0, result.output
    config = seen[0]
    assert config.teacher == teacher and config.qat and config.cache_dir == obj.cache_dir
    assert (config.epochs, config.lr, config.head_lr, config.seed, config.relevance_weight) == (1, 1e-5, 1e-4, 14, 0.5)
    assert config == parse_args(["--teacher", str(teacher), "--qat", "--epochs", "1", "--lr", "1e-5",
                                 "--head-lr", "1e-4", "--seed", "14", "--relevance-weight", "0.5",
                                 "--out", str(tmp_path / "out"), "--cache-dir", str(obj.cache_dir), "--threads", "1"])

    result = CliRunner().invoke(nlp, ["train"], obj=obj)
    assert result.exit_code == 0, result.output
    assert seen[1] == parse_args(["--cache-dir", str(obj.cache_dir), "--threads", "1"])  # obj's [nlp] threads
    assert seen[1].epochs == TrainConfig.epochs and seen[1].out == TrainConfig.out


def test_train_passes_the_learning_curve_share_and_refuses_one_out_of_range(
    obj: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`listener nlp train --train-fraction 0.5`, as the README suggests for asking whether more labels would pay."""
    from listener.nlp.train import finetune as training

    seen: list = []
    monkeypatch.setattr(training, "run", lambda config: seen.append(config) or 0)
    result = CliRunner().invoke(nlp, ["train", "--train-fraction", "0.5", "--out", str(tmp_path / "half")], obj=obj)
    assert result.exit_code == 0, result.output
    assert seen[0].train_fraction == 0.5
    for wrong in ("0", "1.5"):
        result = CliRunner().invoke(nlp, ["train", "--train-fraction", wrong], obj=obj)
        assert result.exit_code == 2 and "--train-fraction" in result.output
    assert len(seen) == 1


def test_eval_reports_the_short_text_test_part(obj: SimpleNamespace, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`--short` adds the short-text test part: sentiment accuracy and false flags, separately. The tiny model
    calls everything negative (and so a negative service experience), so every praise counts as flagged."""
    from listener.nlp.train.short_texts import ALWAYS_TEST, test_rows

    monkeypatch.setenv("LISTENER_EVAL_DIR", str(tmp_path))  # no training files here: only the written lines
    written = test_rows(tmp_path)["written"]
    assert ALWAYS_TEST <= {r["text"] for r in written} and 50 <= len(written) < 120
    f = tmp_path / "mine.tsv"
    f.write_text("id\tsentiment\ttext\n1\tnegative\tbad\n", encoding="utf-8")
    result = CliRunner().invoke(nlp, ["eval", "--json", "--short", str(f)], obj=obj)
    assert result.exit_code == 0, result.output
    _mine, short = json.loads(result.output)
    praise = [r for r in written if r["sentiment"] == "positive"]
    clean = [r for r in written if r["negative_service"] == "0"]
    assert short["file"] == "short_texts[test]" and list(short["parts"]) == ["written"]
    assert short["n"] == len(written)
    assert short["accuracy"] == round(sum(r["sentiment"] == "negative" for r in written) / len(written), 4)
    assert (short["praise"], short["praise_flagged"]) == (len(praise), len(praise))
    assert (short["not_service"], short["false_flags"]) == (len(clean), len(clean))
    assert "Acme ist toll" in short["flagged_praise_texts"]
    text = CliRunner().invoke(nlp, ["eval", "--short", str(f)], obj=obj)
    assert f"praise flagged {len(praise)}/{len(praise)}" in text.output


def test_eval_reports_the_care_cases_test_part(obj: SimpleNamespace, tmp_path: Path) -> None:
    """`--care` adds the care cases' test part: flag recall on complaints, false flags on the rest. The tiny model
    flags everything, so recall is 1 and every non-complaint (every solved problem too) is a false flag."""
    from listener.nlp.train.care_cases import test_rows

    rows = test_rows()
    complaints = [r for r in rows if r["kind"] == "complaint"]
    solved = [r for r in rows if r["kind"] == "solved"]
    f = tmp_path / "mine.tsv"
    f.write_text("id\tsentiment\ttext\n1\tnegative\tbad\n", encoding="utf-8")
    result = CliRunner().invoke(nlp, ["eval", "--json", "--care", "--no-short", str(f)], obj=obj)
    assert result.exit_code == 0, result.output
    _mine, care = json.loads(result.output)
    assert care["file"] == "care_cases[test]" and care["n"] == len(rows)
    assert (care["complaints"], care["complaints_flagged"], care["flag_recall"]) == (len(complaints),) * 2 + (1.0,)
    assert (care["not_complaints"], care["false_flags"]) == (len(rows) - len(complaints),) * 2
    assert (care["solved"], care["solved_flagged"]) == (len(solved), len(solved))
    assert set(care["languages"]) == {"de", "en"}
    text = CliRunner().invoke(nlp, ["eval", "--care", "--no-short", str(f)], obj=obj)
    assert f"flag recall 1.000 ({len(complaints)}/{len(complaints)})" in text.output
