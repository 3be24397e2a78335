"""Evaluation and training find their labelled data in a directory given on the command line (`--data-dir`),
else $LISTENER_EVAL_DIR, else ../shared/eval from the working directory; never from where the package is
installed. A missing directory is an error that names it."""

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

AIRLINE_TEST = "id\tsentiment\ttext\treason\n1\tnegative\tlate again\tLate Flight\n2\tpositive\tlovely crew\t\n"
TAXONOMY = "dataset\tlabel\tcategory\nairline\tLate Flight\tdelivery\n"


@pytest.fixture(scope="module")
def obj(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    path = build_tiny_model(tmp_path_factory.mktemp("tiny"), ["negative", "neutral", "positive"], bias=[6.0, 0.0, 0.0])
    return SimpleNamespace(nlp=NlpSettings(model=str(path), quantize=False, threads=1),
                           cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no ../shared/eval beside it and no LISTENER_EVAL_DIR."""
    cwd = tmp_path / "somewhere" / "else"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("LISTENER_EVAL_DIR", raising=False)
    return cwd


def labelled_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "airline_test.tsv").write_text(AIRLINE_TEST, encoding="utf-8")
    (path / "taxonomy.tsv").write_text(TAXONOMY, encoding="utf-8")
    return path


def test_eval_reads_test_files_and_taxonomy_from_data_dir(obj: SimpleNamespace, tmp_path: Path,
                                                          elsewhere: Path) -> None:
    data = labelled_dir(tmp_path / "labelled")
    result = CliRunner().invoke(nlp, ["eval", "--json", "--no-short", "--no-care", "--data-dir", str(data)], obj=obj)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["file"], row["n"], row["accuracy"]) == ("airline_test.tsv", 2, 0.5)
    # the flag figures need the taxonomy, found in DIR: the tiny model flags both rows, one of them rightly
    assert (row["flag"]["precision"], row["flag"]["recall"]) == (0.5, 1.0)


def test_eval_defaults_to_shared_eval_beside_the_working_directory(obj: SimpleNamespace, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    labelled_dir(tmp_path / "shared" / "eval")
    checkout = tmp_path / "listener"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    monkeypatch.delenv("LISTENER_EVAL_DIR", raising=False)
    result = CliRunner().invoke(nlp, ["eval", "--json", "--no-short", "--no-care"], obj=obj)
    assert result.exit_code == 0, result.output
    assert [r["file"] for r in json.loads(result.output)] == ["airline_test.tsv"]


def test_eval_without_its_data_directory_names_it(obj: SimpleNamespace, elsewhere: Path) -> None:
    result = CliRunner().invoke(nlp, ["eval"], obj=obj)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"no evaluation data directory {elsewhere.parent / 'shared' / 'eval'}" in result.output
    assert "--data-dir" in result.output
    given = CliRunner().invoke(nlp, ["eval", "--data-dir", str(elsewhere / "nope")], obj=obj)
    assert given.exit_code == 2 and "nope" in given.output and "does not exist" in given.output


def test_train_without_its_data_directory_names_it_before_loading_a_model(
    obj: SimpleNamespace, elsewhere: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from listener.nlp.train import finetune

    seen: list = []
    monkeypatch.setattr(finetune, "run", lambda config: seen.append(config) or 0)
    result = CliRunner().invoke(nlp, ["train"], obj=obj)
    assert result.exit_code == 1 and "no evaluation data directory" in result.output and not seen
    data = labelled_dir(tmp_path / "labelled")
    result = CliRunner().invoke(nlp, ["train", "--data-dir", str(data)], obj=obj)
    assert result.exit_code == 0, result.output
    assert seen[0].data_dir == data


def test_training_data_dir_is_kept_absolute_and_checked(elsewhere: Path) -> None:
    """`python -m listener.nlp.train --data-dir DIR`: made absolute, so a checkpoint finds it from anywhere."""
    from listener.nlp.train.checkpoint import config_from_json, config_to_json
    from listener.nlp.train.config import parse_args
    from listener.nlp.train.datasets import build_datasets
    from listener.nlp.train.evaluate import DataFileError

    config = parse_args(["--data-dir", "relative/eval"])
    assert config.data_dir == elsewhere / "relative" / "eval"
    assert config_from_json(json.loads(json.dumps(config_to_json(config)))) == config
    with pytest.raises(DataFileError, match=f"no evaluation data directory {elsewhere / 'relative' / 'eval'}"):
        build_datasets(config, tokenizer=None)
    with pytest.raises(DataFileError, match="no evaluation data directory .*shared/eval"):
        build_datasets(parse_args([]), tokenizer=None)
