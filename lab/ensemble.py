"""Would averaging the outputs of several fine-tuned models beat the first of them on the dev files?

    python lab/ensemble.py ARTIFACTS_DIR ARTIFACTS_DIR [...] --dev FILE [FILE ...]

An accuracy check, not a timing: if an ensemble of candidate runs scores well above the best single run, it is
worth distilling into one model; if not, the runs have learnt the same thing. Each directory runs as its int8
graph (the scorer's cached ONNX export); the ensemble averages their sentiment log-probabilities and their flag
and category logits, and is scored inside the first directory's embedded scorer (its tokenisation, offsets and
thresholds). Printed per growing prefix of the directories: accuracy and flag F1 on each file that has them,
macro-F1 on sb10k files (their metric), and the mean of those figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    from bench_scoring import cache_dir

    from listener.nlp.embedded import EmbeddedScorer, log_softmax
    from listener.nlp.settings import NlpSettings
    from listener.nlp.train.evaluate import evaluate_file

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("artifacts", nargs="+", type=Path, help="artefact directories; the first is the reference")
    ap.add_argument("--dev", type=Path, nargs="+", required=True, help="labelled dev TSVs")
    args = ap.parse_args()

    scorers = [EmbeddedScorer(NlpSettings(), cache_dir(), artifacts_dir=path) for path in args.artifacts]
    graphs = [s.model for s in scorers]
    reference = scorers[0]
    for k in range(1, len(graphs) + 1):
        members = graphs[:k]

        def ensemble(ids: np.ndarray, mask: np.ndarray, members: list = members) -> list[np.ndarray]:
            outputs = [graph(ids, mask) for graph in members]
            return [np.mean([log_softmax(o[0]) for o in outputs], axis=0),
                    *(np.mean([o[i] for o in outputs], axis=0) for i in range(1, len(outputs[0])))]

        reference.model = ensemble
        figures = []
        for path in args.dev:
            r = evaluate_file(reference, path)
            figures.append(r["macro_f1"] if path.stem.startswith("sb10k") else r["accuracy"])
            if r["flag"]:
                figures.append(r["flag"]["f1"])
        names = " + ".join(p.name for p in args.artifacts[:k])
        print(f"{names}: {' '.join(f'{x:.3f}' for x in figures)}  mean {statistics.mean(figures):.4f}", flush=True)


if __name__ == "__main__":
    main()
