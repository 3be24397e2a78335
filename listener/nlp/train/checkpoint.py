"""Checkpoints of a training run, so a run does not need one uninterrupted sitting.

Every `--checkpoint-every` steps (and when the run is stopped: SIGINT, SIGTERM, `--stop-after-steps`) the run
writes one checkpoint directory, replacing the previous one atomically:
- `config.json`: the run's TrainConfig, so `--resume DIR` needs no other option;
- `state.pt`: the trainable weights (the frozen 250k-row word embeddings are not saved: they come from the base
  model), the optimiser's moments, the step, the epoch and the position in it, best score and history, and the
  random state from which the current epoch's batches were drawn (python's generator and the training mix's
  draw-without-replacement queues) plus torch's generator at the checkpoint (dropout).

From these a resumed run rebuilds the same epoch's batches, skips the ones already trained on and continues with
the same dropout masks: the result is the one an uninterrupted run writes (tests/nlp/test_train.py checks the
artefacts byte for byte). One exception: a `--time-budget` counts wall-clock time, which no checkpoint can replay.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from listener.nlp.train.config import TrainConfig
from listener.nlp.train.evaluate import DataFileError

CONFIG_FILE = "config.json"
STATE_FILE = "state.pt"
FORMAT = 1


@dataclass
class Progress:
    """Where a run is: what a checkpoint must carry besides the weights."""

    step: int = 0
    epoch: int = 0  # the epoch under way (1-based), 0 before the first
    batch: int = 0  # batches of that epoch already trained on
    best: float = -1.0
    history: list[dict[str, Any]] = field(default_factory=list)
    minutes: float = 0.0  # training time before this sitting
    epoch_rng: Any = None  # python Random state the epoch's batches were drawn from
    epoch_queues: dict[int, list[int]] | None = None  # the mix's queues at that moment (row indices)


def config_to_json(config: TrainConfig) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(v) for k, v in asdict(config).items()}


def config_from_json(data: dict[str, Any]) -> TrainConfig:
    paths = {"data", "data_dir", "dev", "teacher", "out", "cache_dir", "checkpoint_dir", "resume"}
    known = {f.name for f in fields(TrainConfig)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            continue
        if key in paths and value is not None:
            value = [Path(v) for v in value] if isinstance(value, list) else Path(value)
        values[key] = value
    return TrainConfig(**values)


def fingerprint(parts: list[tuple[list[Any], float]]) -> list[list[Any]]:
    """Rows and share of each part of the training mix, and its first and last row id: a resumed run refuses
    data that changed since the checkpoint (its batches would not be the same)."""
    return [[len(rows), share, rows[0].row_id if rows else "", rows[-1].row_id if rows else ""]
            for rows, share in parts]


def save(directory: Path, config: TrainConfig, progress: Progress, model: torch.nn.Module,
         extra_modules: Mapping[str, torch.nn.Module], optimizer: torch.optim.Optimizer,
         data_fingerprint: list[list[Any]]) -> None:
    """Write the checkpoint to a fresh directory beside `directory`, then swap it in: a crash while writing
    leaves the previous checkpoint whole."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(directory.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    weights = {k: v for k, v in model.state_dict().items() if "word_embeddings" not in k}
    state = {
        "format": FORMAT, "progress": asdict(progress), "model": weights,
        "extra": {name: module.state_dict() for name, module in extra_modules.items()},
        "optimizer": optimizer.state_dict(), "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(), "python_rng": random.getstate(), "data": data_fingerprint,
    }
    torch.save(state, staging / STATE_FILE)
    (staging / CONFIG_FILE).write_text(json.dumps(config_to_json(config), indent=2) + "\n")
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    staging.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def read_config(directory: Path) -> TrainConfig:
    """The settings of the run checkpointed in `directory`, with `resume` pointing there."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file() or not (Path(directory) / STATE_FILE).is_file():
        raise DataFileError(f"{directory}: no training checkpoint here (needs {CONFIG_FILE} and {STATE_FILE}, "
                            "written every --checkpoint-every steps)")
    config = config_from_json(json.loads(path.read_text()))
    return TrainConfig(**{**asdict(config), "resume": Path(directory), "stop_after_steps": 0})


def load(directory: Path, model: torch.nn.Module, extra_modules: Mapping[str, torch.nn.Module],
         optimizer: torch.optim.Optimizer, data_fingerprint: list[list[Any]]) -> Progress:
    """Restore weights, optimiser and the random state at the checkpoint; the run's Progress."""
    state = torch.load(Path(directory) / STATE_FILE, weights_only=False)
    if state.get("format") != FORMAT:
        raise DataFileError(f"{directory}: checkpoint format {state.get('format')!r}, this version reads {FORMAT}")
    if state["data"] != data_fingerprint:
        raise DataFileError(f"{directory}: the training data changed since this checkpoint (rows per file "
                            f"{[p[0] for p in state['data']]}, now {[p[0] for p in data_fingerprint]}); a resumed "
                            "run must see the same rows to continue exactly")
    missing = model.load_state_dict(state["model"], strict=False).missing_keys
    if any("word_embeddings" not in k for k in missing):
        raise DataFileError(f"{directory}: checkpoint lacks {missing}")
    for name, module in extra_modules.items():
        module.load_state_dict(state["extra"][name])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    np.random.set_state(state["numpy_rng"])
    random.setstate(state["python_rng"])
    progress = Progress(**state["progress"])
    return progress
