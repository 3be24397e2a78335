"""Throughput and memory of the embedded scorer vs a plain transformers pipeline of the same model.

    python bench/bench_scoring.py [--n 512] [--threads 2] [--batch-size 32] [--rounds 3] [--artifacts DIR]

Each measurement runs in a fresh subprocess (so peak RSS is that of a scoring process alone), and the forms
take turns for --rounds rounds: the ratio to the pipeline is taken within each round, so a machine that speeds
up or slows down during the run moves both sides of it. Printed: the median over rounds (and the range).
- embedded: `load_scorer(NlpSettings(model="embedded"))` → score() on ~64-token mentions
  (includes tokenisation, language detection, categories: everything `listener` does per mention), in its
  default int8 runtime, and with OpenVINO installed also in ONNX Runtime's dynamic int8, and in fp32;
- pipeline: `transformers.pipeline("text-classification")` fp32 on the same fine-tuned encoder exported as a
  BertForSequenceClassification directory, same texts, same batch size and threads.
Mentions are built from the test files in ../shared/eval, padded/cut to 60–68 tokens.
Targets (issue 3): ≥ 150 mentions/s, ≥ 3× the pipeline, peak RSS ≤ 800 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from suite import Figure, add_summary_option, write_summary  # noqa: E402


def cache_dir() -> Path:
    from listener.nlp.settings import default_cache_dir

    return default_cache_dir()


def mentions(n: int) -> list[str]:
    """n texts of 60–68 tokens (e5 tokenizer, incl. specials) from the eval test files."""
    from tokenizers import Tokenizer

    from listener.nlp.convert import ensure_base_model
    from listener.nlp.train.evaluate import default_eval_dir, read_tsv

    tok = Tokenizer.from_file(str(ensure_base_model(cache_dir()) / "tokenizer.json"))
    pool = []
    for name in ("airline_test", "sb10k_test", "tweeteval_test", "germeval2017_test"):
        pool += [r["text"] for r in read_tsv(default_eval_dir() / f"{name}.tsv")]
    out: list[str] = []
    i = 0
    while len(out) < n:
        text = pool[i % len(pool)]
        i += 1
        while len(tok.encode("query: " + text).ids) < 60:
            text += " " + pool[(i * 7919) % len(pool)]
            i += 1
        words = text.split()
        while len(tok.encode("query: " + " ".join(words)).ids) > 68:
            words.pop()
        out.append(" ".join(words))
    return out


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not getrusage: Linux carries ru_maxrss over from the parent across
    fork+exec, so a worker started by a large parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_embedded(args: argparse.Namespace, texts: list[str]) -> dict:
    from listener.nlp.loader import load_scorer
    from listener.nlp.settings import NlpSettings

    t0 = time.perf_counter()
    settings = NlpSettings(threads=args.threads, batch_size=args.batch_size, quantize=not args.fp32,
                           artifacts=args.artifacts, runtime=args.runtime)  # artifacts None: the shipped model
    scorer = load_scorer(settings, cache_dir())
    load_s = time.perf_counter() - t0
    scorer.score(texts[: args.batch_size])  # warm-up
    t0 = time.perf_counter()
    scorer.score(texts)
    dt = time.perf_counter() - t0
    return {"what": f"embedded scorer ({getattr(scorer, 'backend', '?')})", "per_s": len(texts) / dt,
            "load_s": load_s, "peak_rss_mb": peak_rss_mb(), "version": scorer.model_version}


def export_pipeline_model(out: Path, artifacts: Path | None = None) -> Path:
    """The fine-tuned encoder + sentiment head as a plain BertForSequenceClassification directory (fp32)."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    from listener.nlp.convert import ensure_base_model
    from listener.nlp.model import load_model
    from listener.nlp.model_io import ARTIFACTS_DIR

    base = ensure_base_model(cache_dir())
    model, _ = load_model(base, artifacts or ARTIFACTS_DIR)
    config = model.encoder.config
    config.num_labels = 3
    config.id2label = {0: "negative", 1: "neutral", 2: "positive"}
    config.label2id = {v: k for k, v in config.id2label.items()}
    clf = BertForSequenceClassification(config)
    clf.bert.load_state_dict(model.encoder.state_dict(), strict=False)
    with torch.no_grad():
        clf.classifier.weight.copy_(model.sentiment.weight)
        clf.classifier.bias.copy_(model.sentiment.bias)
    clf.save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(base)).save_pretrained(str(out))
    return out


def worker_pipeline(args: argparse.Namespace, texts: list[str]) -> dict:
    import torch
    from transformers import pipeline

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    clf = pipeline("text-classification", model=args.model_dir, device=-1)
    load_s = time.perf_counter() - t0
    clf(texts[: args.batch_size], batch_size=args.batch_size, truncation=True)
    t0 = time.perf_counter()
    clf(texts, batch_size=args.batch_size, truncation=True)
    dt = time.perf_counter() - t0
    return {"what": "transformers.pipeline fp32", "per_s": len(texts) / dt, "load_s": load_s,
            "peak_rss_mb": peak_rss_mb(), "version": "same encoder, BertForSequenceClassification"}


def run_worker(kind: str, args: argparse.Namespace, extra: list[str], texts_file: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, "--n", str(args.n if kind != "pipeline" else args.n_pipeline),
           "--threads", str(args.threads), "--batch-size", str(args.batch_size), "--texts", str(texts_file), *extra]
    if args.artifacts:
        cmd += ["--artifacts", args.artifacts]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=512, help="mentions for the embedded scorer")
    ap.add_argument("--n-pipeline", type=int, default=192, help="mentions for the (slower) pipeline")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3, help="times each form runs, taking turns")
    ap.add_argument("--artifacts", help="artefact directory to measure (default: the shipped model)")
    ap.add_argument("--fp32", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--runtime", default="auto", help=argparse.SUPPRESS)
    ap.add_argument("--worker", choices=["embedded", "pipeline"], help=argparse.SUPPRESS)
    ap.add_argument("--model-dir", help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    ap.add_argument("--skip-fp32", action="store_true", help="do not also measure the embedded scorer in fp32")
    add_summary_option(ap)
    args = ap.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.worker:  # the texts come from a file, so the worker's RSS is that of scoring alone
        texts = json.loads(Path(args.texts).read_text())[: args.n]
        result = worker_embedded(args, texts) if args.worker == "embedded" else worker_pipeline(args, texts)
        print(json.dumps(result))
        return
    from listener.nlp import ov

    # the default form first; with OpenVINO installed, ONNX Runtime's dynamic int8 as well
    forms: list[list[str]] = [[]] + ([["--runtime", "onnxruntime"]] if ov.available() else [])
    forms += [] if args.skip_fp32 else [["--fp32"]]
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(mentions(max(args.n, args.n_pipeline)), ensure_ascii=False))
        export_pipeline_model(Path(tmp) / "clf", Path(args.artifacts) if args.artifacts else None)
        rounds = []  # per round: the embedded forms, then the pipeline
        for _ in range(args.rounds):
            rows = [run_worker("embedded", args, extra, texts_file) for extra in forms]
            rows.append(run_worker("pipeline", args, ["--model-dir", str(Path(tmp) / "clf")], texts_file))
            rounds.append(rows)
    print(f"\n~64-token mentions, {args.threads} threads, batch {args.batch_size}, median of {args.rounds} rounds "
          "(range)")
    print(f"{'':32} {'mentions/s':>20} {'× pipeline, same round':>24} {'peak RSS MB':>12} {'load s':>7}")
    summary = []
    for i, first in enumerate(rounds[0]):
        per_s = [r[i]["per_s"] for r in rounds]
        ratio = [r[i]["per_s"] / r[-1]["per_s"] for r in rounds]
        rss = max(r[i]["peak_rss_mb"] for r in rounds)
        summary.append((statistics.median(per_s), statistics.median(ratio), rss))
        print(f"{first['what']:32} {_median_range(per_s, '.1f'):>20} {_median_range(ratio, '.2f'):>24} {rss:12.0f} "
              f"{statistics.median(r[i]['load_s'] for r in rounds):7.1f}")
    per_s, ratio, rss = summary[0]
    ok = per_s >= 150 and ratio >= 3 and rss <= 800
    print(f"\ntargets ≥150/s, ≥3× pipeline, ≤800 MB (medians; RSS the largest): {'met' if ok else 'NOT met'} "
          f"({rounds[0][0]['version']})")
    pipeline = statistics.median(r[-1]["per_s"] for r in rounds)
    default = rounds[0][0]["what"]
    write_summary(args.summary, [
        Figure("scoring", f"{default}, mentions/s", f"{per_s:.1f}", f"pipeline {pipeline:.1f}", "≥ 150", per_s >= 150),
        Figure("scoring", "× transformers.pipeline fp32, same round", f"{ratio:.2f}", "", "≥ 3", ratio >= 3),
        Figure("scoring", f"{default}, peak RSS MB", f"{rss:.0f}", "", "≤ 800", rss <= 800),
        *(Figure("scoring", f"{first['what']}, mentions/s", f"{row[0]:.1f}", f"pipeline {pipeline:.1f}")
          for first, row in zip(rounds[0][1:-1], summary[1:-1], strict=True)),
    ])


def _median_range(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"


if __name__ == "__main__":
    main()
