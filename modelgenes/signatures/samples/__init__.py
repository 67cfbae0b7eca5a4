"""Sample graphs that prove signatures: tiny ONNX graphs built in code, referenced by name from YAML.

Each builder is a function registered with ``@sample("name")`` that returns an ``onnx.ModelProto``
made with ``SampleGraph`` (a thin layer over ``onnx.helper``). ``sample_graph(name)`` writes it to a
temporary file and reads it back through the real ingest pipeline (``read_model``), so a sample is
normalised exactly like a user's model.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from modelgenes.errors import ModelgenesError
from modelgenes.ingest.graph import ModelGraph

__all__ = ["SAMPLES", "SampleGraph", "sample", "sample_graph", "sample_names"]

SampleBuilder = Callable[[], onnx.ModelProto]
SAMPLES: dict[str, SampleBuilder] = {}


def sample(name: str) -> Callable[[SampleBuilder], SampleBuilder]:
    """Register a sample builder under ``name`` (names are unique across the library)."""

    def register(fn: SampleBuilder) -> SampleBuilder:
        if name in SAMPLES:
            raise ValueError(f"sample {name!r} registered twice")
        SAMPLES[name] = fn
        return fn

    return register


class SampleGraph:
    """Builds a small ONNX graph: ``x = g.input([1, 8, 16, 16]); y = g.op("Relu", x)``; ``g.model()``."""

    def __init__(self, opset: int = 17, seed: int = 0) -> None:
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.consumed: set[str] = set()
        self.produced: list[str] = []
        self._n = 0
        self._rng = np.random.default_rng(seed)

    def _name(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}_{self._n}"

    def input(self, shape: list[int | str], dtype: int = TensorProto.FLOAT, name: str | None = None) -> str:
        """A graph input."""
        name = name or self._name("in")
        self.inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        return name

    def weight(self, shape: list[int], name: str | None = None) -> str:
        """A float initializer with random values."""
        name = name or self._name("w")
        value = self._rng.standard_normal(shape).astype(np.float32) * 0.1
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def const(self, value: Any, dtype: Any = np.float32, name: str | None = None) -> str:
        """A constant initializer (scalar or array)."""
        name = name or self._name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, domain: str = "", **attrs: Any) -> Any:
        """Add a node; returns its output name (or a tuple when ``outputs`` > 1)."""
        outs = [self._name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(
            helper.make_node(op_type, list(inputs), outs, name=self._name(op_type), domain=domain, **attrs)
        )
        self.consumed.update(i for i in inputs if i)
        self.produced.extend(outs)
        return outs[0] if outputs == 1 else tuple(outs)

    def model(self, outputs: list[str] | None = None) -> onnx.ModelProto:
        """The model; outputs default to every produced tensor nobody consumes."""
        outs = outputs or [t for t in self.produced if t not in self.consumed]
        graph = helper.make_graph(
            self.nodes,
            "sample",
            self.inputs,
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        model.ir_version = 8
        return model

    # Building blocks shared by many samples ------------------------------------------------------
    def conv(
        self,
        x: str,
        cin: int,
        cout: int,
        k: int | tuple[int, ...] = 3,
        stride: int = 1,
        group: int = 1,
        bias: bool = True,
        dims: int = 2,
    ) -> str:
        kernel = (k,) * dims if isinstance(k, int) else tuple(k)
        w = self.weight([cout, cin // group, *kernel])
        ins = [x, w] + ([self.weight([cout])] if bias else [])
        pads = [kk // 2 for kk in kernel] * 2
        return self.op(
            "Conv", *ins, kernel_shape=list(kernel), strides=[stride] * dims, pads=pads, group=group
        )

    def bn(self, x: str, c: int) -> str:
        return self.op(
            "BatchNormalization",
            x,
            self.weight([c]),
            self.weight([c]),
            self.weight([c]),
            self.const(np.ones(c)),
        )

    def relu6(self, x: str) -> str:
        return self.op("Clip", x, self.const(0.0), self.const(6.0))

    def silu(self, x: str) -> str:
        return self.op("Mul", x, self.op("Sigmoid", x))

    def linear(self, x: str, cin: int, cout: int, bias: bool = True) -> str:
        y = self.op("MatMul", x, self.weight([cin, cout]))
        return self.op("Add", y, self.weight([cout])) if bias else y

    def layernorm(self, x: str, c: int, bias: bool = True) -> str:
        ins = [x, self.weight([c])] + ([self.weight([c])] if bias else [])
        return self.op("LayerNormalization", *ins, axis=-1, epsilon=1e-5)

    def rmsnorm(self, x: str, c: int) -> str:
        sq = self.op("Pow", x, self.const(2.0))
        mean = self.op("ReduceMean", sq, self.const([-1], np.int64), keepdims=1)
        root = self.op("Sqrt", self.op("Add", mean, self.const(1e-6)))
        return self.op("Mul", self.weight([c]), self.op("Div", x, root))

    def gelu(self, x: str, tanh: bool = False) -> str:
        if tanh:
            cube = self.op("Pow", x, self.const(3.0))
            inner = self.op("Add", x, self.op("Mul", cube, self.const(0.044715)))
            t = self.op("Tanh", self.op("Mul", inner, self.const(0.7978845608)))
            half = self.op("Mul", x, self.const(0.5))
            return self.op("Mul", half, self.op("Add", t, self.const(1.0)))
        e = self.op("Erf", self.op("Div", x, self.const(1.4142135)))
        return self.op("Mul", self.op("Mul", x, self.op("Add", e, self.const(1.0))), self.const(0.5))


def sample_names() -> list[str]:
    """Every registered sample name, sorted."""
    _load_builders()
    return sorted(SAMPLES)


def _load_builders() -> None:
    # The builder modules register themselves on import.
    from modelgenes.signatures.samples import cnn, recurrent, transformer  # noqa: F401


@cache
def sample_graph(name: str) -> ModelGraph:
    """The named sample, built and read back through ``read_model`` (normalised like any model)."""
    from modelgenes.ingest.formats import read_model

    _load_builders()
    if name not in SAMPLES:
        raise ModelgenesError(f"no sample named {name!r} (see modelgenes/signatures/samples)")
    model = SAMPLES[name]()
    with tempfile.TemporaryDirectory(prefix="modelgenes-sample-") as tmp:
        path = Path(tmp) / f"{name}.onnx"
        onnx.save_model(model, path)
        graph, _ = read_model(path)
    return graph
