"""What the graph experiments (graph_variants.py, openvino_variants.py) share: their options and the scorer's
padded batches. The mentions they time are bench/bench_scoring.py's, so their figures compare with its."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def graph_bench_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options both graph experiments take."""
    from listener.nlp.model_io import ARTIFACTS_DIR

    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--artifacts", type=Path, default=ARTIFACTS_DIR)
    return ap


def padded_batches(ids: list[list[int]], pad_id: int, size: int = 32) -> list[tuple[Any, Any]]:
    """Padded batches as the scorer forms them: sorted by length, then cut into `size`s."""
    from listener.nlp.embedded import pad_batch
    from listener.nlp.scoring import length_sorted_batches

    return [pad_batch([ids[i] for i in batch], pad_id) for batch in length_sorted_batches(ids, size)]
