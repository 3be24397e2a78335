"""How much would more labelled data of the same kinds raise the target figures? A learning curve.

    python -m listener.nlp.train --train-fraction 0.25 --epochs 5 --out /tmp/lc/f0.25      # one run per share
    listener nlp eval --artifacts /tmp/lc/f0.25 --fp32 --json > /tmp/lc/f0.25.json         # its test figures
    python lab/learning_curve.py 0.125=/tmp/lc/f0.125.json 0.25=/tmp/lc/f0.25.json ... 1=/tmp/lc/f1.json

An accuracy check, not a timing. Each argument pairs the share of the training rows a run used with the JSON
that `listener nlp eval --json` printed for it; a share may repeat (runs with other seeds). Printed per target
figure: its value at each share (the mean where runs repeat), the gain per doubling of the data (least-squares
slope of every run against log2 of its share) and, where the figure at the largest share is below its target,
how many times today's training data that slope would need to reach the target. Straight lines on a log scale
flatten out in practice, so the multiple is a lower bound, not a forecast.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

# (file, metric key, flag?) → target, as in the table
TARGETS = {
    ("germeval2017_test.tsv", "micro_f1"): ("GermEval micro-F1", 0.80),
    ("sb10k_test.tsv", "macro_f1"): ("SB10k macro-F1", 0.75),
    ("airline_test.tsv", "accuracy"): ("Airline accuracy", 0.86),
    ("tweeteval_test.tsv", "macro_recall"): ("TweetEval macro-recall", 0.70),
    ("germeval2017_test.tsv", "flag"): ("flag F1, GermEval", 0.70),
    ("airline_test.tsv", "flag"): ("flag F1, Airline", 0.85),
}


def figure(results: list[dict], file: str, key: str) -> float | None:
    """The figure, or None where the run did not evaluate that file."""
    row = next((r for r in results if r["file"] == file), None)
    if row is None:
        return None
    return float(row["flag"]["f1"] if key == "flag" else row[key])


def slope_per_doubling(shares: list[float], values: list[float]) -> float:
    xs = [math.log2(s) for s in shares]
    mx, my = sum(xs) / len(xs), sum(values) / len(values)
    return sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", help="SHARE=EVAL_JSON, e.g. 0.25=/tmp/lc/f0.25.json (at least two shares)")
    args = ap.parse_args()
    runs = [(float(share), json.loads(Path(path).read_text()))
            for share, path in (run.split("=", 1) for run in args.runs)]
    shares = sorted({share for share, _results in runs})
    if len(shares) < 2:
        ap.error("a curve needs at least two shares")
    largest = shares[-1]
    print("| figure | target | " + " | ".join(f"share {s:g}" for s in shares)
          + " | gain per doubling | data needed for the target at that gain |")
    print("|---" * (len(shares) + 4) + "|")
    for (file, key), (name, target) in TARGETS.items():
        found = [figure(results, file, key) for _share, results in runs]
        if None in found:  # a run evaluated other files only
            print(f"| {name} | {target:.2f} | not in every run's results |")
            continue
        values = [v for v in found if v is not None]
        slope = slope_per_doubling([share for share, _results in runs], values)
        means = [statistics.mean(v for (s, _r), v in zip(runs, values, strict=True) if s == share)
                 for share in shares]
        gap = target - means[-1]
        if gap <= 0:
            needed = "met"
        elif slope <= 0:
            needed = "no gain from more data"
        else:  # doublings beyond the largest share, as a multiple of the full training set (share 1)
            needed = f"≥ {largest * 2 ** (gap / slope):.1f}× today's"
        print(f"| {name} | {target:.2f} | " + " | ".join(f"{v:.3f}" for v in means)
              + f" | {slope * 100:+.1f} points | {needed} |")


if __name__ == "__main__":
    main()
