"""Evaluation on labelled TSV files in the ../shared/eval format.

Columns: `id`, `sentiment` (negative|neutral|positive), `text`, and optionally `aspects` (GermEval) or
`reason` (Airline), from which the negative-service flag is derived (see listener.nlp.categories).
Metrics per file: n, accuracy, micro-F1 (= accuracy for single-label classes), macro-F1 and macro-recall
over the classes present in the gold labels, and flag precision/recall/F1 plus per-category F1.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from listener.domain import SENTIMENTS
from listener.nlp.categories import CATEGORIES, load_taxonomy, row_targets

# What ../shared/eval/README.md says each test file is measured by, with its anchors and the retraining issue's
# (#18) targets. mobasa_dev is a dev file (it chose the epoch and tuned thresholds): reported for its flag.
ANCHORS: dict[str, dict[str, Any]] = {
    "germeval2017_test": {"metric": "micro_f1", "target": 0.78, "anchor": "best published 0.851; majority 0.655",
                          "flag_target": 0.68},
    "sb10k_test": {"metric": "macro_f1", "target": 0.75, "anchor": "best SVM 0.752 (acc); majority 0.622 acc"},
    "airline_test": {"metric": "accuracy", "target": 0.85, "anchor": "RoBERTa 0.869; majority 0.63",
                     "flag_target": 0.85},
    "tweeteval_test": {"metric": "macro_recall", "target": 0.70,
                       "anchor": "TimeLMs 0.737, RoBERTa-base 0.713; majority 0.33"},
    "mobasa_dev": {"metric": "accuracy", "target": None, "anchor": "dev file: tuned on", "flag_target": 0.80},
}


def default_eval_dir() -> Path:
    """$LISTENER_EVAL_DIR, else ../shared/eval from the working directory (a checkout's root). Not found from this
    file's location: an installed package has no repository around it."""
    return Path(os.environ.get("LISTENER_EVAL_DIR") or Path.cwd().parent / "shared" / "eval")


class DataFileError(ValueError):
    """A labelled TSV that cannot be used as it is; the message says where and why."""


def existing_eval_dir(eval_dir: Path | None = None) -> Path:
    """`eval_dir` (None: the default) when it is a directory, else a DataFileError naming it."""
    eval_dir = eval_dir or default_eval_dir()
    if not eval_dir.is_dir():
        raise DataFileError(f"no evaluation data directory {eval_dir}: give one with --data-dir DIR (or set "
                            "LISTENER_EVAL_DIR); the default is ../shared/eval from the working directory")
    return eval_dir


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a labelled TSV (header id, sentiment, text[, aspects|reason|relevance]; UTF-8, no quoting)."""
    csv.field_size_limit(sys.maxsize)
    try:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                            "save it as UTF-8") from None
    except OSError as exc:
        raise DataFileError(f"{path}: {exc.strerror or exc}") from None
    if not rows:
        raise DataFileError(f"{path}: no rows below a header line (id, sentiment, text; tab-separated)")
    if not {"sentiment", "text"} <= set(rows[0]):
        raise DataFileError(f"{path}: needs the columns id, sentiment, text (tab-separated, header row)")
    for n, row in enumerate(rows, start=2):
        if row["sentiment"] not in SENTIMENTS:
            raise DataFileError(f"{path}:{n}: sentiment {row['sentiment']!r} is not one of {', '.join(SENTIMENTS)}")
        row["text"] = row["text"] or ""
    return rows


def find_taxonomy(path: Path, eval_dir: Path | None = None) -> dict[str, str]:
    for candidate in (Path(path).parent / "taxonomy.tsv", (eval_dir or default_eval_dir()) / "taxonomy.tsv"):
        if candidate.is_file():
            return load_taxonomy(candidate)
    return {}


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def sentiment_metrics(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """accuracy, micro_f1, macro_f1, macro_recall over the classes present in `gold`."""
    n = len(gold)
    correct = sum(g == p for g, p in zip(gold, pred, strict=True))
    classes = [c for c in SENTIMENTS if c in set(gold)]
    f1s, recalls = [], []
    for c in classes:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        m = prf(tp, fp, fn)
        f1s.append(m["f1"])
        recalls.append(m["recall"])
    acc = correct / n if n else 0.0
    return {"n": n, "accuracy": acc, "micro_f1": acc,
            "macro_f1": sum(f1s) / len(f1s) if f1s else 0.0,
            "macro_recall": sum(recalls) / len(recalls) if recalls else 0.0}


Flagged = tuple[bool, tuple[str, ...]]  # (negative service experience, its categories)


def _confusion(gold: Sequence[bool], pred: Sequence[bool]) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of one binary decision."""
    tp = fp = fn = 0
    for g, p in zip(gold, pred, strict=True):
        tp += g and p
        fp += p and not g
        fn += g and not p
    return tp, fp, fn


def flag_metrics(gold: Sequence[Flagged], pred: Sequence[Flagged]) -> dict[str, Any]:
    """Flag precision/recall/F1; per category precision, recall, F1 and gold count (a category counts on flagged
    documents only: an agent sees categories only on a task); the category F1s pooled over categories (micro:
    dominated by the frequent ones) and averaged (macro: the rare ones count); and how many categories a flagged
    document gets on average."""
    out: dict[str, Any] = prf(*_confusion([g[0] for g in gold], [p[0] for p in pred]))
    per_cat = {}
    pooled = [0, 0, 0]
    for c in CATEGORIES:
        counts = _confusion([c in g[1] for g in gold], [p[0] and c in p[1] for p in pred])
        pooled = [a + b for a, b in zip(pooled, counts, strict=True)]
        if counts[0] + counts[2]:  # the category occurs in the gold labels
            per_cat[c] = {**prf(*counts), "support": counts[0] + counts[2]}
    out["categories"] = per_cat
    out["category_micro_f1"] = prf(*pooled)["f1"]
    out["category_macro_f1"] = sum(m["f1"] for m in per_cat.values()) / len(per_cat) if per_cat else 0.0
    flagged = [p for p in pred if p[0]]
    out["categories_per_flag"] = sum(len(p[1]) for p in flagged) / len(flagged) if flagged else 0.0
    return out


def evaluate_rows(
    rows: Sequence[Mapping[str, str]], scores: Sequence[Any], taxonomy: Mapping[str, str]
) -> dict[str, Any]:
    result: dict[str, Any] = sentiment_metrics([r["sentiment"] for r in rows], [s.sentiment for s in scores])
    targets = [row_targets(r, taxonomy) for r in rows]
    if rows and all(t is not None for t in targets):
        pred = [(bool(s.negative_service), tuple(s.categories)) for s in scores]
        result["flag"] = flag_metrics(targets, pred)  # type: ignore[arg-type]
    else:
        result["flag"] = None
    return result


def evaluate_file(scorer: Any, path: Path, rows: Sequence[Mapping[str, str]] | None = None,
                  eval_dir: Path | None = None) -> dict[str, Any]:
    """Metrics of `scorer` on a labelled file (`rows`: the file as read_tsv already read it)."""
    rows = read_tsv(path) if rows is None else rows
    scores = scorer.score([r["text"] for r in rows])
    return {"file": Path(path).name, **evaluate_rows(rows, scores, find_taxonomy(path, eval_dir))}


def default_test_files(eval_dir: Path | None = None) -> list[Path]:
    """Every *_test.tsv, and mobasa_dev.tsv for its flag figures (MobASA has no test file)."""
    eval_dir = existing_eval_dir(eval_dir)
    return sorted(eval_dir.glob("*_test.tsv")) + [p for p in [eval_dir / "mobasa_dev.tsv"] if p.is_file()]
