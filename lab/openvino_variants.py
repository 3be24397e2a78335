"""Would OpenVINO run the embedded model faster than the shipped ONNX Runtime int8 graph, at the same accuracy?

    (openvino is a dependency of listener since its static int8 became the default runtime)
    python lab/openvino_variants.py [--n 512] [--rounds 3] [--artifacts DIR] [--dev FILE …]

The fine-tuned model is exported once to ONNX (listener.nlp.ort.export_onnx). Every variant runs in this one
process on the same ~64-token mentions as bench/bench_scoring.py (the scorer's tokenisation, length-sorted, batch 32,
2 threads), in alternating rounds against the shipped graph, so machine drift hits them alike. Only the graph
runs are timed. Besides speed, each variant's agreement with the fp32 graph on those mentions is printed (same
sentiment label, same flag decision), as a first check of what it costs in accuracy; `--dev` adds the real check,
each variant's metrics on labelled dev files.

Variants:
- ov-bf16: the fp32 export, computed in bf16 (CPUs with AVX512-BF16 or AMX);
- ov-w8-dyn32-bf16: int8 weights (per output channel) with OpenVINO's dynamic int8 activations in groups of 32
  values per token, so a text's score does not depend on its batch;
- ov-int8-static[-p99.99|-keep-ffn-out|-smooth]: static int8 (activation ranges calibrated once on 256 training
  texts, ONNX Runtime's QDQ quantiser, which also quantises every MatMul's output), all MatMuls with min/max
  ranges or the 0.01 %/99.99 % percentiles, or with the feed-forward output projections left in bf16, or with
  SmoothQuant (Xiao et al. 2023, alpha 0.5) on the inputs of those projections;
- listener static int8 (ov.py): the graph the scorer runs with OpenVINO (listener.nlp.ov: the artefacts' recorded
  ranges on MatMul inputs only, int8 word embeddings), when the artefacts have activation ranges.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

Batch = tuple[np.ndarray, np.ndarray]
Run = Callable[[Batch], tuple[np.ndarray, ...]]


def is_ffn_out(name: str) -> bool:
    return "/output/dense/MatMul" in name and "/attention/" not in name


def weight_matmuls(model: Any, keep: Callable[[str], bool] = lambda name: False) -> list[Any]:
    """MatMul nodes with a constant weight, outside the heads and not kept by `keep`."""
    from listener.nlp.ort import is_head_node

    inits = {i.name for i in model.graph.initializer}
    return [n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in inits
            and not is_head_node(n.name) and not keep(n.name)]


def weight_only_int8(src: Path, dst: Path) -> Path:
    """Each weight as int8 + DequantizeLinear (per output channel): OpenVINO's compressed-weight pattern."""
    import onnx

    from listener.nlp.ov import quantize_weight

    model = onnx.load(str(src))
    for node in weight_matmuls(model):
        quantize_weight(model.graph, node)
    onnx.save(model, str(dst))
    return dst


def smooth_ffn_out(src: Path, dst: Path, calibration: list[Batch], alpha: float = 0.5) -> Path:
    """SmoothQuant on the feed-forward output projections: channel j of their input (a GELU output) is divided by
    s_j = max|x_j|^alpha / max|w_j|^(1-alpha) and weight row j multiplied by it. The fp32 result is unchanged."""
    import onnx
    import onnxruntime
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    nodes = weight_matmuls(model, keep=lambda name: not is_ffn_out(name))
    inputs = [n.input[0] for n in nodes]
    probe = onnx.load(str(src))
    probe.graph.output.extend(helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, None) for x in inputs)
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    x_max = {x: np.zeros(1, np.float32) for x in inputs}
    for ids, mask in calibration:
        for x, value in zip(inputs, session.run(inputs, {"input_ids": ids, "attention_mask": mask}), strict=True):
            x_max[x] = np.maximum(x_max[x], np.abs(value[mask.astype(bool)]).max(0))
    inits = {i.name: i for i in model.graph.initializer}
    for node in nodes:
        w = numpy_helper.to_array(inits[node.input[1]])
        s = (np.maximum(x_max[node.input[0]], 1e-5) ** alpha / np.maximum(np.abs(w).max(1), 1e-5) ** (1 - alpha))
        inits[node.input[1]].CopyFrom(numpy_helper.from_array((w * s[:, None]).astype(np.float32), node.input[1]))
        model.graph.initializer.append(numpy_helper.from_array((1 / s).astype(np.float32), f"{node.name}_smooth"))
        smoothed = f"{node.input[0]}_smoothed"
        mul = helper.make_node("Mul", [node.input[0], f"{node.name}_smooth"], [smoothed], name=f"{node.name}_Smooth")
        model.graph.node.insert(list(model.graph.node).index(node), mul)
        node.input[0] = smoothed
    onnx.save(model, str(dst))
    return dst


def static_int8(src: Path, dst: Path, calibration: list[Batch],
                keep: Callable[[str], bool] = lambda name: False) -> Path:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self.batches, None)
            return None if batch is None else {"input_ids": batch[0], "attention_mask": batch[1]}

    nodes = [n.name for n in weight_matmuls(onnx.load(str(src)), keep)]
    quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_quantize=nodes,
                    calibrate_method=CalibrationMethod.MinMax)
    return dst


def percentile_ranges(fp32: Path, qdq: Path, dst: Path, calibration: list[Batch], percentile: float) -> Path:
    """`qdq` with each activation's range set to the calibration texts' [100 − p, p] percentiles (mean over the
    batches, real tokens only) instead of their min/max. ONNX Runtime's own percentile calibrator keeps every
    tensor of every batch (it ran out of 24 GB here) and needs equal-length batches, hence this."""
    import onnx
    import onnxruntime as rt
    from onnx import helper, numpy_helper

    from listener.nlp.ov import activation_scale

    model = onnx.load(str(qdq))
    inits = {i.name: i for i in model.graph.initializer}
    quantize = {n.input[0]: n for n in model.graph.node if n.op_type == "QuantizeLinear"
                and n.input[0] not in inits and numpy_helper.to_array(inits[n.input[1]]).ndim == 0}
    probe = onnx.load(str(fp32))  # the fp32 graph with those activations as extra outputs
    names = sorted(quantize)
    probe.graph.output.extend(helper.make_tensor_value_info(a, onnx.TensorProto.FLOAT, None) for a in names)
    session = rt.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    lows: dict[str, list[float]] = {a: [] for a in names}
    highs: dict[str, list[float]] = {a: [] for a in names}
    for ids, mask in calibration:
        real = mask.astype(bool)
        for a, x in zip(names, session.run(names, {"input_ids": ids, "attention_mask": mask}), strict=True):
            values = x[real] if x.shape[:2] == real.shape else x.ravel()
            lows[a].append(float(np.percentile(values, 100 - percentile)))
            highs[a].append(float(np.percentile(values, percentile)))
    for a, node in quantize.items():
        scale, zero = activation_scale(statistics.mean(lows[a]), statistics.mean(highs[a]))
        inits[node.input[1]].CopyFrom(numpy_helper.from_array(np.array(scale, np.float32), node.input[1]))
        inits[node.input[2]].CopyFrom(numpy_helper.from_array(np.array(zero, np.uint8), node.input[2]))
    onnx.save(model, str(dst))
    return dst


def openvino_run(path: Path, threads: int, precision: str, config: dict[str, Any] | None = None) -> Run:
    import openvino

    compiled = openvino.Core().compile_model(str(path), "CPU", {
        "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_PRECISION_HINT": precision, **(config or {})})
    request = compiled.create_infer_request()
    outputs = [compiled.output(name) for name in ("sentiment", "categories", "flag")]

    def run(batch: Batch) -> tuple[np.ndarray, ...]:
        result = request.infer({"input_ids": batch[0], "attention_mask": batch[1]})
        return tuple(result[o] for o in outputs)

    return run


def listener_static(base: Path, artifacts: Path, tmp: Path, threads: int) -> Run:
    from listener.nlp import ov

    model = ov.OvModel(ov.build_static_int8_onnx(base, artifacts, tmp / "listener-static.onnx"), threads)
    return lambda batch: tuple(model(*batch))


def ort_run(path: Path, threads: int) -> Run:
    from listener.nlp.ort import OrtModel

    model = OrtModel(path, threads, {})
    return lambda batch: tuple(model(*batch))


def main() -> None:
    from bench_scoring import cache_dir, mentions
    from graph_bench import graph_bench_arguments, padded_batches

    from listener.nlp import ort, ov
    from listener.nlp.convert import ensure_base_model
    from listener.nlp.embedded import EmbeddedScorer
    from listener.nlp.settings import NlpSettings
    from listener.nlp.train.evaluate import default_eval_dir, evaluate_file, read_tsv

    ap = graph_bench_arguments(__doc__)
    ap.add_argument("--dev", type=Path, nargs="*", default=[],
                    help="labelled TSVs (e.g. the training hold-outs and sb10k_dev): also score them with every "
                    "variant inside the embedded scorer (its tokenisation, offsets, thresholds) and print accuracy, "
                    "macro-F1 and flag F1 per file")
    args = ap.parse_args()
    try:
        import openvino  # noqa: F401
    except ImportError:
        sys.exit("this benchmark needs OpenVINO: pip install openvino")

    base = ensure_base_model(cache_dir())
    scorer = EmbeddedScorer(NlpSettings(), cache_dir(), artifacts_dir=args.artifacts)

    train_texts = [r["text"] for name in ("germeval2017_train", "sb10k_train", "airline_train")
                   for r in read_tsv(default_eval_dir() / f"{name}.tsv")[:86]]  # 258 texts, none of them benched
    bench = padded_batches(scorer._encode(mentions(args.n)), scorer.pad_id)
    calibration = padded_batches(scorer._encode(train_texts[:256]), scorer.pad_id)
    dev: dict[str, list[str]] = {}

    with tempfile.TemporaryDirectory(prefix="bench-openvino-") as tmp_dir:
        tmp = Path(tmp_dir)
        meta, config = ort.export_onnx(base, args.artifacts, tmp / "fp32.onnx")
        fp32 = tmp / "fp32.onnx"
        shipped = ort.fuse_and_quantize(fp32, tmp / "shipped.onnx", config.num_attention_heads, config.hidden_size,
                                        ort.fp32_layers(meta))
        builders: dict[str, Callable[[], Run]] = {
            "shipped: ORT dynamic int8": lambda: ort_run(shipped, args.threads),
            "ORT fp32 (reference)": lambda: ort_run(fp32, args.threads),
            "ov-bf16": lambda: openvino_run(fp32, args.threads, "bf16"),
            "ov-w8-dyn32-bf16": lambda: openvino_run(weight_only_int8(fp32, tmp / "w8.onnx"), args.threads, "bf16",
                                                     {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 32}),
            "ov-int8-static": lambda: openvino_run(static_int8(fp32, tmp / "s8.onnx", calibration), args.threads,
                                                   "bf16"),
            "ov-int8-static-p99.99": lambda: openvino_run(
                percentile_ranges(fp32, static_int8(fp32, tmp / "s8mm.onnx", calibration), tmp / "s8p.onnx",
                                  calibration, 99.99), args.threads, "bf16"),
            # what the scorer runs (listener.nlp.ov): the artefacts' recorded ranges, MatMul inputs only
            **({"listener static int8 (ov.py)": lambda: listener_static(base, args.artifacts, tmp, args.threads)}
               if ov.has_ranges(args.artifacts) else {}),
            "ov-int8-static-keep-ffn-out": lambda: openvino_run(
                static_int8(fp32, tmp / "s8k.onnx", calibration, keep=is_ffn_out), args.threads, "bf16"),
            "ov-int8-static-smooth": lambda: openvino_run(
                static_int8(smooth_ffn_out(fp32, tmp / "sm.onnx", calibration), tmp / "s8s.onnx", calibration),
                args.threads, "bf16"),
        }
        runs = {}
        for name, build in builders.items():
            print(f"building {name} …", flush=True)
            runs[name] = build()
        reference = [runs["ORT fp32 (reference)"](b) for b in bench]
        agreement = {}
        for name, run in runs.items():  # also the warm-up
            out = [run(b) for b in bench]
            same_label = sum(int((o[0].argmax(1) == r[0].argmax(1)).sum()) for o, r in zip(out, reference, strict=True))
            same_flag = sum(int(((o[2] > 0) == (r[2] > 0)).sum()) for o, r in zip(out, reference, strict=True))
            agreement[name] = (same_label / args.n, same_flag / args.n)
            scorer.model = lambda ids, mask, run=run: run((ids, mask))  # the variant inside the real scorer
            for path in args.dev:
                r = evaluate_file(scorer, path)
                flag_f1 = f"{r['flag']['f1']:.3f}" if r["flag"] else "-"
                dev.setdefault(name, []).append(
                    f"{path.stem}: acc {r['accuracy']:.3f} macro-F1 {r['macro_f1']:.3f} flag F1 {flag_f1}")
        per_s: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                t0 = time.perf_counter()
                for b in bench:
                    run(b)
                per_s[name].append(args.n / (time.perf_counter() - t0))
    baseline = statistics.mean(per_s["shipped: ORT dynamic int8"])
    print(f"\n~64-token mentions, {args.threads} threads, batch 32, {args.rounds} alternating rounds")
    print(f"{'variant':30s} {'mentions/s per round':>22s} {'vs shipped':>10s} {'same label / flag as fp32':>26s}")
    for name, values in per_s.items():
        rounds = " ".join(f"{x:6.1f}" for x in values)
        label, flag = agreement[name]
        print(f"{name:30s} {rounds:>22s} {statistics.mean(values) / baseline - 1:+10.1%} {label:>15.1%} / {flag:.1%}")
    for name, lines in dev.items():
        print(f"\n{name} on the dev files:\n  " + "\n  ".join(lines))


if __name__ == "__main__":
    main()
