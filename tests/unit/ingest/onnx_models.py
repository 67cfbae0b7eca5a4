"""Tiny ONNX models built in code (``onnx.helper``) for the ingest tests: no committed blobs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from modelgenes.ingest.formats.onnx import graph_from_proto
from modelgenes.ingest.graph import ModelGraph
from modelgenes.ingest.normalise import normalise

F = TensorProto.FLOAT
LIGHT_ZOO = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def node(
    op: str, inputs: Sequence[str], outputs: Sequence[str], domain: str = "", **attrs: Any
) -> onnx.NodeProto:
    """A node named after its first output (so origins are readable in failures)."""
    return helper.make_node(
        op, list(inputs), list(outputs), name=f"{op}_{outputs[0]}", domain=domain, **attrs
    )


def tensor(name: str, value: Any, dtype: Any = np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def model(
    nodes: Iterable[onnx.NodeProto],
    inputs: Sequence[str] = ("x",),
    outputs: Sequence[str] = ("y",),
    inits: Mapping[str, Any] | Iterable[onnx.TensorProto] = (),
    opset: int = 17,
    shape: Sequence[int | str | None] | None = ("batch", 8),
    dtype: int = F,
    functions: Sequence[onnx.FunctionProto] = (),
    extra_opsets: Mapping[str, int] | None = None,
) -> onnx.ModelProto:
    """A model over float inputs/outputs; ``inits`` maps names to arrays (float32) or is TensorProtos."""
    tensors = [tensor(k, v) for k, v in inits.items()] if isinstance(inits, Mapping) else list(inits)
    graph = helper.make_graph(
        list(nodes),
        "g",
        [helper.make_tensor_value_info(i, dtype, shape) for i in inputs],
        [helper.make_tensor_value_info(o, dtype, None) for o in outputs],
        tensors,
    )
    opsets = [helper.make_opsetid("", opset)]
    for domain, version in (extra_opsets or {}).items():
        opsets.append(helper.make_opsetid(domain, version))
    for f in functions:
        if all(o.domain != f.domain for o in opsets):
            opsets.append(helper.make_opsetid(f.domain, 1))
    m = helper.make_model(graph, opset_imports=opsets, functions=list(functions), producer_name="tests")
    m.ir_version = 9 if opset < 21 else 10
    return m


def raw(m: onnx.ModelProto) -> ModelGraph:
    """The raw flattened graph of an in-memory model."""
    return graph_from_proto(m)[0]


def norm(m: onnx.ModelProto) -> ModelGraph:
    """The normalised graph of an in-memory model."""
    return normalise(raw(m))


def ops(g: ModelGraph) -> list[str]:
    """Canonical ops in node order."""
    return [n.op for n in g.nodes]


def assert_alike(a: ModelGraph, b: ModelGraph) -> None:
    """Two graphs normalised to the same canonical structure."""
    assert a.op_histogram() == b.op_histogram(), (ops(a), ops(b))
    assert len(a.edges) == len(b.edges), (a.edges, b.edges)
    assert a.wl_hash() == b.wl_hash()


def save(m: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(m.SerializeToString())
    return path
