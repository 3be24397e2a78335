"""Calibration of fine-tuned artefacts on the dev sets (never test data): decision thresholds for the flag and
categories, per-language log-probability offsets, and the activation ranges of OpenVINO's static int8 graph.
Also the dev-set predictions and selection score that training uses to keep its best epoch."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES, CategoryRule
from listener.nlp.model import E5Classifier, load_inference_model, quantization_aware
from listener.nlp.model_io import META_FILE
from listener.nlp.train.config import TrainConfig
from listener.nlp.train.datasets import (
    Example,
    TrainingMix,
    base_model,
    build_datasets,
    collate,
    length_grouped_batches,
)
from listener.nlp.train.evaluate import flag_metrics, prf, sentiment_metrics


def autocast(enabled: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


def predict(model: E5Classifier, examples: list[Example], pad_id: int, bf16: bool, batch_size: int = 64):
    """(sentiment probs, category probs, flag probs) as numpy arrays in the order of `examples`."""
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].ids))
    sent = np.zeros((len(examples), 3), np.float32)
    cats = np.zeros((len(examples), len(CATEGORIES)), np.float32)
    flag = np.zeros(len(examples), np.float32)
    with torch.inference_mode(), autocast(bf16):
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


def flag_labelled(examples: list[Example]) -> bool:
    """Does every row of this dev set say whether it is a negative service experience (aspect/reason files; not
    tweet sets where only the neutral and positive rows tell)?"""
    return all(not math.isnan(e.flag) for e in examples)


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
        if flag_labelled(exs):
            g = [(bool(e.flag), tuple(c for c, v in zip(CATEGORIES, e.cats or [], strict=False) if v)) for e in exs]
            p = [(bool(f >= 0.5), tuple(c for c, v in zip(CATEGORIES, cs, strict=True) if v >= 0.5))
                 for f, cs in zip(flag, cats, strict=True)]
            report[name]["flag_f1@0.5"] = round(flag_metrics(g, p)["f1"], 4)
            parts.append(report[name]["flag_f1@0.5"])
    return float(np.mean(parts)), report, raw


def tune_thresholds(raw: dict) -> dict[str, float]:
    """Flag and category thresholds maximising mean flag F1 over the dev sets that have flags."""
    flagged = [(exs, cats, flag) for exs, _, cats, flag in raw.values() if flag_labelled(exs)]
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


CATEGORY_GRID = [round(float(t), 2) for t in np.arange(0.2, 0.91, 0.05)]
MIN_CATEGORY_ROWS = 15  # fewer dev rows with a category than this: it keeps the default threshold
CUE_POLICIES = ("off", "confirm", "add")
CAPS = (1, 2, 3, 0)


def tune_category_rule(raw: dict, default: float = 0.35) -> dict[str, Any]:
    """The category rule (listener.nlp.categories.CategoryRule) for meta.json's thresholds: each category's
    threshold maximises its F1 on the dev rows that are negative service experiences (where an agent sees
    categories), over all flag-labelled dev sets (the default where it never reaches F1 > 0); then the cue policy
    and the cap maximise the mean of the category micro-F1 (the frequent categories) and macro-F1 (the rare ones
    count as much), averaged over those dev sets so the small ones count as much as the large. On micro-F1 alone
    the rare categories (billing, staff, digital) were never named on the test files."""
    sets = [[(e, p) for e, p in zip(exs, cats, strict=True) if e.flag == 1 and e.cats is not None]
            for exs, _sent, cats, _flag in raw.values() if flag_labelled(exs)]
    sets = [rows for rows in sets if rows]
    if not sets:
        return {}
    pooled = [row for rows in sets for row in rows]
    thresholds: dict[str, float] = {}
    for j, c in enumerate(CATEGORIES):
        gold = np.array([e.cats[j] for e, _p in pooled]) > 0.5
        prob = np.array([p[j] for _e, p in pooled])
        if gold.sum() < MIN_CATEGORY_ROWS:
            thresholds[c] = default
            continue
        f1, best_t = max((_f1(gold, prob >= t), t) for t in CATEGORY_GRID)  # ties: the stricter
        thresholds[c] = best_t if f1 > 0 else default
    best: tuple[float, str, int] = (-1.0, "add", 0)
    for cues in CUE_POLICIES:
        for most in CAPS:
            rule = CategoryRule(thresholds, cues, most)
            score = float(np.mean([_category_score(rule, rows) for rows in sets]))
            if score > best[0] + 1e-9:
                best = (score, cues, most)
    return {"category_by_name": thresholds, "category_cues": best[1], "max_categories": best[2],
            "category_dev_f1": round(best[0], 4)}


def _f1(gold: np.ndarray, pred: np.ndarray) -> float:
    tp = int((gold & pred).sum())
    return prf(tp, int(pred.sum()) - tp, int(gold.sum()) - tp)["f1"]


def _category_score(rule: CategoryRule, rows: list[tuple[Example, np.ndarray]]) -> float:
    """Mean of the category micro-F1 and macro-F1 of the rule's choices on flagged rows, as `listener nlp eval`
    counts them."""
    gold = [(True, tuple(c for c, v in zip(CATEGORIES, e.cats or [], strict=True) if v > 0.5)) for e, _p in rows]
    chosen = [(True, rule.choose(e.text, [float(x) for x in p])) for e, p in rows]
    m = flag_metrics(gold, chosen)
    return (m["category_micro_f1"] + m["category_macro_f1"]) / 2


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
        if any(flag_labelled(exs) for exs, *_r in subset.values()):
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


def calibrate(config: TrainConfig) -> int:
    """Re-tune thresholds and logit offsets of existing artefacts on the dev sets (no test data), and record
    the activation ranges for static int8 on training texts (only those with --ranges-only)."""
    base_dir, tokenizer, pad_id = base_model(config)
    _files, train_set, dev = build_datasets(config, tokenizer)
    model, meta = load_inference_model(base_dir, config.out)
    record_activation_ranges(model, train_set, pad_id, config.out)
    if config.ranges_only:
        print(f"recorded activation ranges for static int8 in {config.out}", flush=True)
        return 0
    if meta.get("quantization_aware"):
        # tune on what is shipped: the int8 graph, whose outputs FakeQuantLinear reproduces (int8 shifts the
        # class probabilities enough that offsets tuned on fp32 overshoot)
        quantization_aware(model.encoder)
    score, report, raw = dev_report(model, dev, pad_id, bf16=False, batch_size=CALIBRATION_BATCH)
    langs = detect_languages(raw)
    meta["thresholds"] = tune_thresholds(raw)
    meta["thresholds"]["flag_by_language"] = tune_flag_thresholds_by_language(raw, langs)
    meta["thresholds"].update(tune_category_rule(raw, meta["thresholds"]["category"]))
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
    (config.out / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(f"calibrated {config.out} (activation ranges recorded): thresholds {meta['thresholds']}, "
          f"logit bias {meta['logit_bias']}, "
          f"dev score {score:.4f} -> {meta['calibration']['dev_score_with_bias']:.4f}", flush=True)
    return 0
