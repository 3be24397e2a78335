"""Weight average ("model soup") of fine-tuned embedded-model artefacts.

    python lab/average.py DIR DIR [DIR ...] --out DIR     # then: python -m listener.nlp.train --calibrate-only
                                                          #   --out DIR

Averages every fine-tuned weight and head of artefact directories trained on the same base and with the same
number of layers; the mean is saved like a training run's artefacts (meta from the first, with the sources
listed under "average"). Averages of runs that share a parent (e.g. two second stages started from the same
first stage) are the ones that tend to work; the model card records the averages that were measured. The
thresholds and offsets copied from the first directory do not fit the average: recalibrate before use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listener.nlp.model import load_encoder, load_model, save_artifacts, trainable_encoder_names  # noqa: E402
from listener.nlp.model_io import read_meta  # noqa: E402


def average_artifacts(base_dir: Path, sources: list[Path], out: Path) -> Path:
    models = [load_model(base_dir, src)[0] for src in sources]
    layers = {len(m.encoder.encoder.layer) for m in models}
    if len(layers) != 1:
        raise ValueError(f"cannot average artefacts with different numbers of layers: {sorted(layers)}")
    frozen = {f"encoder.{n}" for n, _ in models[0].encoder.named_parameters()} - {
        f"encoder.{n}" for n in trainable_encoder_names(models[0].encoder)}  # the word embeddings: same base in all
    states = [m.state_dict() for m in models]
    mean = {k: torch.stack([s[k].float() for s in states]).mean(0)
            for k, v in states[0].items() if k not in frozen and v.is_floating_point()}
    merged = models[0]
    merged.load_state_dict(mean, strict=False)
    del models[1:], states
    base = load_encoder(base_dir, layers.pop())  # the deltas are stored against the untouched base weights
    base_state = {n: p.detach() for n, p in base.named_parameters() if p.requires_grad}
    meta = read_meta(sources[0])
    meta["average"] = [str(s) for s in sources]
    save_artifacts(merged, base_state, out, meta)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="+", type=Path, help="artefact directories to average (two or more)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cache-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    if len(args.sources) < 2:
        ap.error("give at least two artefact directories")
    from listener.nlp.convert import ensure_base_model
    from listener.nlp.settings import default_cache_dir

    average_artifacts(ensure_base_model(args.cache_dir or default_cache_dir()), args.sources, args.out)
    print(f"averaged {len(args.sources)} artefact directories into {args.out}; "
          f"recalibrate: python -m listener.nlp.train --calibrate-only --out {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
