"""The settings of a training run, read by both entry points: `listener nlp train` (listener.nlp.cli) and
`python -m listener.nlp.train` (parse_args below). Defaults live here only."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from listener.nlp.model_io import ARTIFACTS_DIR


@dataclass(frozen=True)
class TrainConfig:
    data: list[Path] | None = None  # labelled TSVs; None: the shared train files (listener.nlp.train.datasets)
    data_dir: Path | None = None  # where the shared files are; None: listener.nlp.train.evaluate.default_eval_dir()
    dev: list[Path] | None = None  # dev TSVs; None: sb10k_dev + hold-outs, or 10 % of each --data file
    shares: dict[str, float] = field(default_factory=dict)  # file stem → share per epoch, over DEFAULT_TRAIN's
    epochs: float = 5.0
    lr: float = 6e-5  # transformer layers
    head_lr: float = 6e-4
    batch_size: int = 32
    max_length: int = 64  # tokens for the short-text sets (tweets, review sentences)
    long_length: int = 256  # tokens for every other file: the scorer's default max_length
    layers: int | None = None  # keep only the bottom N transformer layers; None: all 12
    qat: bool = False  # quantisation-aware training
    teacher: Path | None = None  # artefacts to start from and distil
    distil_weight: float = 0.5
    relevance_weight: float = 0.0  # auxiliary loss on the data's relevance column; 0 = off
    seed: int = 13
    time_budget: float = 0.0  # minutes; 0 = none
    threads: int = 2
    limit: int = 0  # only N training examples (smoke runs); 0 = all
    train_fraction: float = 1.0  # share of each file's training rows (a fixed, nested subset)
    bf16: bool = True  # bf16 autocast on CPUs that have it
    out: Path = ARTIFACTS_DIR
    cache_dir: Path | None = None  # None: listener.nlp.settings.default_cache_dir()
    calibrate_only: bool = False
    ranges_only: bool = False
    checkpoint_every: int = 200  # steps between checkpoints (listener.nlp.train.checkpoint); 0 = none
    checkpoint_dir: Path | None = None  # None: <cache>/train-checkpoints/<out's name>-<hash of out's path>
    resume: Path | None = None  # continue the run checkpointed there (its settings come from the checkpoint)
    stop_after_steps: int = 0  # end this sitting after N steps with a checkpoint (0 = run to the end)


DEFAULTS = TrainConfig()


def fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def absolute(text: str) -> Path:
    """A path as given, made absolute: a checkpoint then finds it again from any working directory."""
    return Path(text).absolute()


def share(text: str) -> tuple[str, float]:
    stem, _, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not FILE=N (e.g. sb10k_train=2)") from None
    if not stem or number < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not FILE=N with N ≥ 0")
    return stem.removesuffix(".tsv"), number


def parse_args(argv: list[str] | None, description: str | None = None) -> TrainConfig:
    """`python -m listener.nlp.train`'s options as a TrainConfig (options not given keep its defaults)."""
    ap = argparse.ArgumentParser(prog="python -m listener.nlp.train", description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 argument_default=argparse.SUPPRESS)
    d = DEFAULTS
    ap.add_argument("--data", nargs="*", type=Path,
                    help="labelled TSV files (id, sentiment, text[, aspects|reason]); default: the shared train files")
    ap.add_argument("--data-dir", type=absolute, metavar="DIR",
                    help="the labelled data (train, dev and test files, taxonomy.tsv); default: $LISTENER_EVAL_DIR, "
                    "else ../shared/eval from the working directory")
    ap.add_argument("--dev", nargs="*", type=Path,
                    help="dev TSV files; default sb10k_dev (+ hold-outs) or 10%% of --data")
    ap.add_argument("--share", dest="shares", type=share, action="append", metavar="FILE=N",
                    help="share per epoch of one file of the default mix (2 = every row twice, 0.5 = a fresh half "
                    "each epoch, 0 = left out), e.g. --share sb10k_train=2; repeatable")
    ap.add_argument("--epochs", type=float, help=f"default {d.epochs}")
    ap.add_argument("--lr", type=float, help=f"default {d.lr}")
    ap.add_argument("--head-lr", type=float, help=f"default {d.head_lr}")
    ap.add_argument("--batch-size", type=int, help=f"default {d.batch_size}")
    ap.add_argument("--max-length", type=int,
                    help=f"tokens for the short-text sets (sb10k, airline, uci, tweeteval); default {d.max_length}")
    ap.add_argument("--long-length", type=int,
                    help="tokens for every other file: GermEval documents, your own mentions (the scorer's default "
                    f"max_length: train as it scores); default {d.long_length}")
    ap.add_argument("--layers", type=int,
                    help="keep only the bottom N of e5-small's 12 transformer layers (8: ~1.5x faster scoring)")
    ap.add_argument("--qat", action="store_true",
                    help="quantisation-aware training: the model then runs entirely in int8 (faster)")
    ap.add_argument("--teacher", type=Path,
                    help="artefact directory of a (deeper) fine-tuned model: start from its bottom layers and "
                         "heads and distil its sentiment probabilities")
    ap.add_argument("--distil-weight", type=float, help=f"default {d.distil_weight}")
    ap.add_argument("--relevance-weight", type=float,
                    help="weight of an auxiliary loss on the data's relevance column (GermEval), 0 = off (default)")
    ap.add_argument("--seed", type=int, help=f"default {d.seed}")
    ap.add_argument("--time-budget", type=float,
                    help="minutes: end the run (LR decayed to 0) after this long even if epochs remain")
    ap.add_argument("--threads", type=int, help=f"default {d.threads}")
    ap.add_argument("--limit", type=int, help="use only N training examples (smoke runs)")
    ap.add_argument("--train-fraction", type=fraction,
                    help="train on this share of each file's training rows (a fixed, nested subset; hold-outs and "
                    "dev sets unchanged): a learning curve shows what more labels would bring")
    ap.add_argument("--no-bf16", dest="bf16", action="store_false")
    ap.add_argument("--out", type=Path, help=f"default {d.out}")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--calibrate-only", action="store_true",
                    help="only re-tune thresholds/logit offsets of the artefacts in --out on the dev sets")
    ap.add_argument("--ranges-only", action="store_true",
                    help="only record the activation ranges for static int8 (OpenVINO) of the artefacts in --out")
    ap.add_argument("--checkpoint-every", type=int,
                    help=f"steps between checkpoints, 0 = none (default {d.checkpoint_every})")
    ap.add_argument("--checkpoint-dir", type=Path,
                    help="where the checkpoint goes (default: under the cache directory, one per --out)")
    ap.add_argument("--resume", type=Path, metavar="DIR",
                    help="continue the run checkpointed in DIR exactly where it stopped; its settings come from "
                    "the checkpoint")
    ap.add_argument("--stop-after-steps", type=int,
                    help="end this sitting after N steps, leaving a checkpoint to --resume from")
    args = vars(ap.parse_args(argv))
    if "shares" in args:
        args["shares"] = dict(args["shares"])
    return TrainConfig(**args)
