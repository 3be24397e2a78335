"""int8 inference of the embedded model through ONNX Runtime.

The fine-tuned model is exported once (torch → ONNX, ~1 min), its attention, GELU and residual LayerNorm
subgraphs are fused by ONNX Runtime's BERT optimizer, and its MatMuls (attention included) are dynamically
quantised to int8. The graph is cached next to the converted base model as
`cache_dir/e5-small-ft/<artefact hash>-<format>-int8.onnx` (written atomically); the scoring process then needs
neither torch nor transformers.

Artefacts trained quantisation-aware (`train --qat`), like the shipped ones, run entirely in int8. Others keep
the feed-forward output projections of the layers most sensitive to int8 activations in fp32 (FP32_LAYERS):
their inputs (GELU outputs) have outliers that per-tensor activation scales cannot represent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

OUTPUTS = ("sentiment", "categories", "flag")
# For artefacts trained without quantisation awareness: layers whose feed-forward output MatMul stays fp32. A sweep
# on the dev sets (sb10k_dev, GermEval and airline hold-outs) for a plainly fine-tuned model: all-int8 lost 4.4 macro-F1
# points on sb10k_dev; fp32 FFN outputs in layers 2-5 keep every dev metric within 1 point of fp32 (layer 4 alone
# recovers 3 points) at 6 % of the int8 speed-up each, where whole fp32 layers cost 20 % more time for no gain.
FP32_LAYERS = (2, 3, 4, 5)
FORMAT = "v4"  # bump when the export recipe changes, so cached graphs are rebuilt


def is_head_node(name: str) -> bool:
    """Whether an exported node belongs to one of the (small, fp32) heads: its name is its torch module path."""
    return name.split("/")[1:2] in (["sentiment"], ["categories"], ["flag"])


def fp32_layers(meta: dict) -> tuple[int, ...]:
    return () if meta.get("quantization_aware") else FP32_LAYERS


def onnx_path(cache_dir: Path, artifacts_hash: str) -> Path:
    return Path(cache_dir) / "e5-small-ft" / f"{artifacts_hash}-{FORMAT}-int8.onnx"


def available() -> bool:
    try:
        import onnx  # noqa: F401  (needed by the quantiser)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def build_int8_onnx(base_dir: Path, art_dir: Path, out: Path) -> Path:
    """Export the fine-tuned model to ONNX, fuse it and quantise its MatMuls to int8 (word embeddings stay fp16)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=out.parent))
    try:
        meta, config = export_onnx(base_dir, art_dir, tmp / "model.onnx")
        fuse_and_quantize(tmp / "model.onnx", tmp / "model.int8.onnx", num_heads=config.num_attention_heads,
                          hidden_size=config.hidden_size, keep_fp32_layers=fp32_layers(meta))
        os.replace(tmp / "model.int8.onnx", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def export_onnx(base_dir: Path, art_dir: Path, out: Path) -> tuple[dict, Any]:
    """The fine-tuned model as a plain fp32 ONNX graph (dynamic batch and length); returns (meta, encoder config)."""
    import torch

    from listener.nlp.model import load_inference_model

    # eager attention: the pattern ORT's optimizer fuses into one Attention node (sdpa's graph is not)
    model, meta = load_inference_model(base_dir, art_dir, attn_implementation="eager")
    ids = torch.randint(5, 1000, (2, 16))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # padding in the example: an all-ones mask lets the tracer drop the attention mask
    dynamic = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask")}
    dynamic.update({name: {0: "batch"} for name in OUTPUTS})
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (ids, mask), str(out), input_names=["input_ids", "attention_mask"],
                          output_names=list(OUTPUTS), dynamic_axes=dynamic, opset_version=17, dynamo=False)
    return meta, model.encoder.config


def fuse(src: Path, num_heads: int, hidden_size: int, fusion: dict[str, Any] | None = None) -> Any:
    """An exported graph fused by ORT's BERT optimizer (one Attention, BiasGelu and SkipLayerNormalization per
    layer), in memory. `fusion` overrides FusionOptions fields (lab/graph_variants.py measures such
    variants)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_gelu_approximation = False  # exact GELU as trained (tanh form: +1 %, within noise)
    for name, value in (fusion or {}).items():
        if not hasattr(options, name):
            raise ValueError(f"FusionOptions has no field {name!r}")
        setattr(options, name, value)
    with _quiet_root_logger():
        return optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                              opt_level=1, optimization_options=options)


def fuse_and_quantize(src: Path, out: Path, num_heads: int, hidden_size: int, keep_fp32_layers: tuple[int, ...] = (),
                      fusion: dict[str, Any] | None = None, per_channel: bool = True) -> Path:
    """Fuse an exported graph (`fuse`), then quantise its MatMuls and Attention nodes to int8 (dynamic activation
    scales). The heads, and the feed-forward outputs of `keep_fp32_layers`, stay fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fused_path = out.with_name(out.name + ".fused.onnx")
    try:
        fused = fuse(src, num_heads, hidden_size, fusion)
        fused.save_model_to_file(str(fused_path))
        nodes = [n.name for n in fused.model.graph.node]
        # fused attention nodes are named Attention_<layer>; the rest keep their torch module path
        keep = [n for n in nodes if is_head_node(n) or any(f"/layer.{i}/output/dense/" in n for i in keep_fp32_layers)]
        del fused
        with _quiet_root_logger():
            quantize_dynamic(str(fused_path), str(out), weight_type=QuantType.QInt8,
                             op_types_to_quantize=["MatMul", "Attention"], per_channel=per_channel,
                             nodes_to_exclude=keep,
                             extra_options={"DefaultTensorType": 1})  # fused ops lack type info: they are float
    finally:
        fused_path.unlink(missing_ok=True)
    return out


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """ORT's optimizer and quantiser log advice about GPU/fp16 on the root logger."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


class OrtModel:
    """Callable like E5Classifier, on numpy arrays: (input_ids, attention_mask) → (sentiment, categories, flag)."""

    def __init__(self, path: Path, threads: int | None, session_config: dict[str, str] | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        for key, value in (session_config or {}).items():  # e.g. "session.intra_op.allow_spinning": "0"
            options.add_session_config_entry(key, value)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> list[np.ndarray]:
        feeds = {"input_ids": input_ids.astype(np.int64), "attention_mask": attention_mask.astype(np.int64)}
        return self.session.run(list(OUTPUTS), feeds)
