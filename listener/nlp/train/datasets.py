"""Training data: labelled TSV files → tokenised examples, the epoch mix, hold-outs and dev sets, batches.

Data per epoch by default: germeval2017_train ×2, sb10k_train, half of airline_train (a different half each
epoch), uci_train, a fixed-size slice of semeval_train (a different one each epoch), mobasa_train, potts_train and
the train part of the short texts we wrote (×3); tuning/early stopping on sb10k_dev, mobasa_dev plus hold-out
slices cut from germeval2017_train (10 %), airline_train (5 %), uci_train (10 %), semeval_train (3 %) and
potts_train (10 %). Short rows (under 60 characters) of every default file are split 85/15: the 15 % and the
written texts' test part form the short-text test set (listener.nlp.train.short_texts), never trained on. With `--data`,
the given files, each with a 10 % hold-out unless `--dev` names dev files.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES, service_targets
from listener.nlp.convert import ensure_base_model
from listener.nlp.model_io import head_tail, prepare_text
from listener.nlp.settings import default_cache_dir
from listener.nlp.train.care_cases import CARE_FILE
from listener.nlp.train.care_cases import train_rows as care_train_rows
from listener.nlp.train.config import TrainConfig
from listener.nlp.train.evaluate import DataFileError, default_eval_dir, existing_eval_dir, find_taxonomy, read_tsv
from listener.nlp.train.short_texts import WRITTEN_FILE, in_short_test, in_slice

# file → share per epoch (2 = every row twice, 0.5 = a fresh random half each epoch). Airline tweets are the one
# large English set but a single narrow domain (63 % negative): at full weight they were 45 % of every epoch and
# pulled English predictions towards airline complaints; halved, every tweet is still seen every two epochs.
# SemEval's 47k general English tweets would be 60 % of an epoch and triple its length: each epoch takes a fixed
# slice of ROWS_PER_EPOCH tweets instead, drawn without replacement, so an epoch fits the machine and the slices
# cycle through the whole file.
ROWS_PER_EPOCH = {"semeval_train": 8000}
DEFAULT_TRAIN = {"germeval2017_train": 2, "sb10k_train": 1, "airline_train": 0.5, "uci_train": 1,
                 "semeval_train": 0, "mobasa_train": 1, "potts_train": 1, "short_texts": 3,  # 0: ROWS_PER_EPOCH
                 # German, 2026-12-07: Deutsche Bahn tweets (GermEval's own domain), forum posts, reviews (7:1
                 # positive, so half of them), and the written care cases' train part
                 "germeval2017_tweets_train": 1, "omp_train": 1, "reviews_de_train": 0.5, "care_cases": 3}
# Negative rows of these files carry no aspects, so they would teach the flag nothing; with a teacher they learn
# its flag and category probabilities instead (half of GermEval's negative tweets are no service experience, so
# "negative and relevant" would be a wrong rule: see the model card)
FLAG_FROM_TEACHER = ("germeval2017_tweets_train", "omp_train", "reviews_de_train")
# hold-outs for model selection and calibration; uci_train's gives English a dev set beyond airline tweets
HOLDOUT = {"germeval2017_train": 0.10, "airline_train": 0.05, "uci_train": 0.10, "semeval_train": 0.03,
           "potts_train": 0.10, "germeval2017_tweets_train": 0.10, "omp_train": 0.10, "reviews_de_train": 0.05}
DEFAULT_DEV = ("sb10k_dev", "mobasa_dev")
# Short-text sets (tweets, review sentences) are cut at --max-length; everything else (GermEval documents, your own
# mentions: forum posts and reviews) gets --long-length, the scorer's own limit. Length-grouped batches mean short
# texts in such files cost no more.
SHORT_SOURCES = ("sb10k", "airline", "uci", "tweeteval", "semeval", "mobasa", "potts", "short_texts",
                 "germeval2017_tweets", "reviews_de", "care_cases")


@dataclass
class Example:
    ids: list[int]
    sentiment: int
    flag: float  # nan = unknown
    cats: list[float] | None  # None = unknown
    source: str
    row_id: str = ""
    soft: list[float] | None = None  # the teacher's sentiment probabilities (distillation)
    text: str = ""
    relevant: float = float("nan")  # GermEval's relevance label (is it about the brand at all); nan = unknown


@dataclass
class TrainingMix:
    """Training examples by source file, each with its share per epoch (see DEFAULT_TRAIN)."""

    parts: list[tuple[list[Example], float]]
    _queues: dict[int, list[Example]] = field(default_factory=dict)  # part → rows not yet drawn this cycle

    def epoch(self, rng: random.Random) -> list[Example]:
        out: list[Example] = []
        for index, (examples, share) in enumerate(self.parts):
            whole, fraction = divmod(share, 1)
            out += examples * int(whole)
            if fraction:  # drawn without replacement across epochs: every row is used before any row repeats
                out += self._draw(index, examples, round(fraction * len(examples)), rng)
        return out

    def _draw(self, index: int, examples: list[Example], n: int, rng: random.Random) -> list[Example]:
        drawn: list[Example] = []
        while len(drawn) < n:
            queue = self._queues.get(index)
            if not queue:
                queue = self._queues[index] = rng.sample(examples, len(examples))
            take = min(n - len(drawn), len(queue))
            drawn += queue[:take]
            del queue[:take]
        return drawn

    def queue_state(self) -> dict[int, list[int]]:
        """The draw-without-replacement queues as row indices (for a checkpoint)."""
        positions = [{id(e): i for i, e in enumerate(examples)} for examples, _share in self.parts]
        return {part: [positions[part][id(e)] for e in queue] for part, queue in self._queues.items()}

    def restore_queues(self, state: dict[int, list[int]]) -> None:
        self._queues = {int(part): [self.parts[int(part)][0][i] for i in rows] for part, rows in state.items()}

    def __len__(self) -> int:  # examples per epoch
        return sum(round(share * len(examples)) for examples, share in self.parts)

    def examples(self) -> list[Example]:
        return [e for examples, _share in self.parts for e in examples]

    def label_counts(self) -> dict[int, float]:
        """Expected sentiment counts per epoch."""
        counts: dict[int, float] = {}
        for examples, share in self.parts:
            for e in examples:
                counts[e.sentiment] = counts.get(e.sentiment, 0.0) + share
        return counts


def known_targets(row: dict[str, str], taxonomy: dict[str, str]) -> tuple[float, list[float] | None]:
    """(flag, categories) a training row teaches; nan / None where the row does not tell. Neutral and positive
    rows teach flag 0 even in files without aspects: that is what keeps praise from raising a task."""
    targets = service_targets(row, taxonomy)
    if targets is None:
        return float("nan"), None
    flagged, categories = targets
    return float(flagged), None if categories is None else [float(c in categories) for c in CATEGORIES]


def load_examples(path: Path, tokenizer: Any, max_length: int, rows: list[dict[str, str]] | None = None,
                  eval_dir: Path | None = None) -> list[Example]:
    rows = read_tsv(path) if rows is None else rows
    taxonomy = find_taxonomy(path, eval_dir)
    out = []
    encodings = tokenizer.encode_batch([prepare_text(r["text"]) for r in rows])
    for row, enc in zip(rows, encodings, strict=True):
        flag, cats = known_targets(row, taxonomy)
        relevant = {"true": 1.0, "false": 0.0}.get((row.get("relevance") or "").strip().lower(), float("nan"))
        out.append(Example(head_tail(enc.ids, max_length), SENTIMENTS.index(row["sentiment"]), flag, cats,
                           path.stem, row.get("id") or row["text"], text=row["text"], relevant=relevant))
    return out


def length_grouped_batches(examples: list[Example], batch_size: int, rng: random.Random) -> list[list[Example]]:
    """Shuffle, then sort within windows of 50 batches by length: little padding, still random."""
    order = examples[:]
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for i in range(0, len(order), window):
        chunk = sorted(order[i : i + window], key=lambda e: len(e.ids))
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(batch: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(e.ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, e in enumerate(batch):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = 1
    flag = torch.tensor([e.flag for e in batch], dtype=torch.float)
    cats = torch.tensor([e.cats if e.cats is not None else [float("nan")] * len(CATEGORIES) for e in batch])
    soft = torch.tensor([e.soft if e.soft is not None else [float("nan")] * 3 for e in batch])
    return {"input_ids": ids, "attention_mask": mask, "sentiment": torch.tensor([e.sentiment for e in batch]),
            "flag": flag, "cats": cats, "soft": soft,
            "relevant": torch.tensor([e.relevant for e in batch], dtype=torch.float)}


def build_datasets(
    config: TrainConfig, tokenizer: Any
) -> tuple[dict[Path, float], TrainingMix, dict[str, list[Example]]]:
    """(files with shares, training mix, dev sets by name): the same split for training and calibration."""
    eval_dir = config.data_dir or default_eval_dir()

    def length_for(path: Path) -> int:
        return config.max_length if any(s in path.stem for s in SHORT_SOURCES) else config.long_length

    parts: list[tuple[list[Example], float]] = []
    dev: dict[str, list[Example]] = {}
    files: dict[Path, float]
    if config.data:
        files = {Path(p): 1 for p in config.data}
        holdout = {p.stem: 0.10 for p in files} if not config.dev else {}
    else:
        unknown = set(config.shares) - set(DEFAULT_TRAIN)
        if unknown:
            raise DataFileError(f"--share: no training file {', '.join(sorted(unknown))} in the default mix "
                                f"({', '.join(DEFAULT_TRAIN)})")
        shares = {**DEFAULT_TRAIN, **config.shares}
        existing_eval_dir(eval_dir)
        written = {"short_texts": WRITTEN_FILE, "care_cases": CARE_FILE}
        files = {written.get(stem, eval_dir / f"{stem}.tsv"): rep
                 for stem, rep in shares.items() if rep > 0 or stem in ROWS_PER_EPOCH}
        holdout = dict(HOLDOUT)
    for path, share in files.items():
        rows = care_train_rows() if path == CARE_FILE and not config.data else read_tsv(path)
        if not config.data:  # the short-text test set is never trained on (nor the care cases' test part)
            rows = [r for r in rows if not in_short_test(path.stem, r)]
        exs = load_examples(path, tokenizer, length_for(path), rows, eval_dir)
        frac = holdout.get(path.stem, 0.0)
        held = [e for e in exs if frac and in_slice(e.row_id, frac)]
        kept = [e for e in exs if not (frac and in_slice(e.row_id, frac))]
        if config.train_fraction < 1:  # a fixed subset (nested across fractions); the hold-outs stay whole
            kept = [e for e in kept if in_slice(f"subset:{e.row_id}", config.train_fraction)]
        if held:
            dev[f"{path.stem}[holdout]"] = held
        if path.stem in ROWS_PER_EPOCH and not config.data and kept and path.stem not in config.shares:
            share = files[path] = min(1.0, ROWS_PER_EPOCH[path.stem] / len(kept))
        parts.append((kept, share))
    if not any(examples for examples, _share in parts):  # else training would loop over empty epochs
        raise DataFileError(f"no training rows left in {', '.join(str(p) for p in files)} after the hold-out"
                            + (f" and --train-fraction {config.train_fraction:g}" if config.train_fraction < 1 else ""))
    if config.dev is not None:
        dev_files = config.dev
    else:
        dev_files = [] if config.data else [eval_dir / f"{s}.tsv" for s in DEFAULT_DEV]
    for path in dev_files:
        dev[Path(path).stem] = load_examples(Path(path), tokenizer, length_for(Path(path)), eval_dir=eval_dir)
    if config.limit:  # smoke runs: the first rows of each file, in proportion
        total = sum(len(examples) for examples, _share in parts)
        parts = [(examples[: max(1, config.limit * len(examples) // total)], share) for examples, share in parts]
        dev = {k: v[: max(50, config.limit // 10)] for k, v in dev.items()}
    return files, TrainingMix(parts), dev


def base_model(config: TrainConfig) -> tuple[Path, Any, int]:
    """Torch threads set; the converted base model's directory (converted first if needed), tokenizer, pad id."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(config.threads)
    base_dir = ensure_base_model(config.cache_dir or default_cache_dir())
    tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    return base_dir, tokenizer, int(json.loads((base_dir / "config.json").read_text())["pad_token_id"])
