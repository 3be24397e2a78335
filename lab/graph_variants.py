"""Does another ONNX graph or session setting make the embedded model's int8 graph faster?

    python lab/graph_variants.py [--n 512] [--rounds 3] [--artifacts DIR] [--only NAME …]

The fine-tuned model is exported once; every variant is then fused and quantised from that export with
listener.nlp.ort.fuse_and_quantize, like the default graph the scorer caches. All variants run in this one process
on the same ~64-token mentions as bench/bench_scoring.py (tokenised once, length-sorted, batch 32 unless the variant
says otherwise), in alternating rounds, so machine drift hits them alike. Only the graph runs are timed: the scorer's
tokenisation and language detection are the same for every variant.
Printed: mentions/s per round and the mean change against `default`, measured in the same rounds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


@dataclass
class Variant:
    name: str
    fusion: dict[str, Any] = field(default_factory=dict)  # FusionOptions overrides
    per_channel: bool = True
    batch_size: int = 32
    session_config: dict[str, str] = field(default_factory=dict)
    parallel_sessions: bool = False  # one 1-thread session, run from 2 Python threads at once
    nbits: bool = False  # 4-bit weight-only MatMulNBits instead of int8 MatMuls


def variants() -> list[Variant]:
    from onnxruntime.transformers.fusion_options import AttentionMaskFormat

    return [
        Variant("default"),
        Variant("fast-gelu", fusion={"enable_gelu_approximation": True}),
        Variant("per-tensor-weights", per_channel=False),
        Variant("multi-head-attention", fusion={"use_multi_head_attention": True}),
        Variant("no-attention-fusion", fusion={"enable_attention": False}),
        Variant("raw-attention-mask", fusion={"attention_mask_format": AttentionMaskFormat.AttentionMask}),
        Variant("batch-1", batch_size=1),  # every score independent of its neighbours
        Variant("batch-8", batch_size=8),
        Variant("batch-16", batch_size=16),
        Variant("batch-64", batch_size=64),
        Variant("no-spinning", session_config={"session.intra_op.allow_spinning": "0"}),
        # finer-grained work split across the intra-op threads (ORT's option for uneven per-thread loads)
        Variant("dynamic-block-base-4", session_config={"session.dynamic_block_base": "4"}),
        Variant("two-threads-one-session-each-1-thread", parallel_sessions=True),
        Variant("4-bit-weights", fusion={"use_multi_head_attention": True}, nbits=True),
    ]


def build(variant: Variant, export: Path, meta: dict, config: Any, out: Path) -> Path:
    from listener.nlp import ort

    if not variant.nbits:
        return ort.fuse_and_quantize(export, out, config.num_attention_heads, config.hidden_size,
                                     ort.fp32_layers(meta), fusion=variant.fusion, per_channel=variant.per_channel)
    from onnxruntime.quantization import QuantFormat
    from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

    fused = ort.fuse(export, config.num_attention_heads, config.hidden_size, variant.fusion)
    heads = [n.name for n in fused.model.graph.node if ort.is_head_node(n.name)]
    algo = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4,
                                        quant_format=QuantFormat.QOperator, op_types_to_quantize=("MatMul",))
    quantizer = MatMulNBitsQuantizer(fused.model, nodes_to_exclude=heads, algo_config=algo)
    quantizer.process()
    quantizer.model.save_model_to_file(str(out), use_external_data_format=False)
    return out


def runner(variant: Variant, path: Path, threads: int, ids: list[list[int]], pad_id: int) -> Callable[[], float]:
    """A function that scores all `ids` once through the variant's graph and returns mentions/s."""
    from graph_bench import padded_batches

    from listener.nlp.ort import OrtModel

    parallel = variant.parallel_sessions
    model = OrtModel(path, 1 if parallel else threads, variant.session_config)
    batches = padded_batches(ids, pad_id, variant.batch_size)

    def one(batch: tuple[Any, Any]) -> None:
        model(*batch)

    def run() -> float:
        t0 = time.perf_counter()
        if parallel:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, batches))
        else:
            for batch in batches:
                one(batch)
        return len(ids) / (time.perf_counter() - t0)

    return run


def main() -> None:
    import importlib.util

    from bench_scoring import cache_dir, mentions
    from graph_bench import graph_bench_arguments

    from listener.nlp import ort
    from listener.nlp.convert import ensure_base_model
    from listener.nlp.embedded import EmbeddedScorer
    from listener.nlp.settings import NlpSettings

    ap = graph_bench_arguments(__doc__)
    ap.add_argument("--only", nargs="*", help="variant names to measure besides default")
    args = ap.parse_args()

    unknown = set(args.only or ()) - {v.name for v in variants()}
    if unknown:
        ap.error(f"unknown variants {sorted(unknown)}; known: {', '.join(v.name for v in variants())}")
    chosen = [v for v in variants() if v.name == "default" or not args.only or v.name in args.only]
    if any(v.nbits for v in chosen) and importlib.util.find_spec("onnx_ir") is None:
        print("skipping 4-bit-weights: ORT's MatMulNBits quantiser needs `pip install onnx_ir`")
        chosen = [v for v in chosen if not v.nbits]
    base = ensure_base_model(cache_dir())
    # the scorer's own tokenisation (prefix, head+tail), so the graphs see exactly what they see in production
    scorer = EmbeddedScorer(NlpSettings(quantize=False), cache_dir(), artifacts_dir=args.artifacts)
    ids = scorer._encode(mentions(args.n))
    pad_id = scorer.pad_id
    del scorer
    runs: dict[str, Callable[[], float]] = {}
    with tempfile.TemporaryDirectory(prefix="graph-variants-") as tmp:
        meta, config = ort.export_onnx(base, args.artifacts, Path(tmp) / "model.onnx")
        for variant in chosen:
            print(f"building {variant.name} …", flush=True)
            path = build(variant, Path(tmp) / "model.onnx", meta, config, Path(tmp) / f"{variant.name}.onnx")
            runs[variant.name] = runner(variant, path, args.threads, ids, pad_id)
        for run in runs.values():
            run()  # warm-up
        results: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                results[name].append(run())
    baseline = statistics.mean(results["default"])
    print(f"\n~64-token mentions, {args.threads} threads, {args.rounds} alternating rounds")
    print(f"{'variant':40s} {'mentions/s per round':>26s} {'vs default':>10s}")
    for name, per_s in results.items():
        rounds = " ".join(f"{x:6.1f}" for x in per_s)
        print(f"{name:40s} {rounds:>26s} {statistics.mean(per_s) / baseline - 1:+10.1%}")


if __name__ == "__main__":
    main()
