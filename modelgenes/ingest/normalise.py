"""Normalisation: the raw, flattened graph of a file into the canonical op graph signatures match.

Exporters say the same thing in many ways (TorchScript or dynamo, opset 11 or 21, fused or
decomposed, float or quantised). Each rule below removes one such difference; ``normalise`` runs them
in a fixed order (``RULES``) over a mutable working copy and returns a new frozen ``ModelGraph``.

Canonical ops produced (anything else keeps its ONNX op type):
- activations: ``Relu6`` (``Clip(0, 6)``, attribute or input form), ``Relu`` (also ``Clip(0, ∞)``),
  ``HardSigmoid`` (``Clip(x+3, 0, 6)/6``), ``HardSwish`` (``x·HardSigmoid(x)``, ``x·Clip(x+3,0,6)/6``),
  ``SiLU`` (``x·Sigmoid(x)``, ``Swish``), ``QuickGelu`` (``x·Sigmoid(1.702x)``), ``Mish``
  (``x·Tanh(Softplus(x))``), ``Gelu`` (erf form, tanh form, ``Gelu``, com.microsoft
  ``FastGelu``/``BiasGelu``/``Gelu``);
- norms: ``LayerNorm`` (``LayerNormalization``, ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div[/Mul/Add],
  or tf2onnx's x·s + (β − mean·s) with s = γ/sqrt(var + ε)),
  ``RMSNorm`` (Pow/ReduceMean/Add/Sqrt and Reciprocal or Div, LLaMA/T5 style,
  ``SimplifiedLayerNormalization``, ``RMSNormalization``), ``GroupNorm`` (``GroupNormalization`` or
  Reshape/InstanceNormalization/Reshape[/Mul/Add]); com.microsoft ``SkipLayerNormalization`` reads
  as ``Add`` + ``LayerNorm``;
- ``MatMul`` for every linear map: ``Gemm``, ``MatMul``, ``MatMul`` + bias ``Add``, and the
  quantised forms (``MatMulInteger``, ``QLinearMatMul``, ``DynamicQuantizeMatMul``, ``MatMulNBits``,
  …, flagged ``quantised``); ``Conv`` for ``Conv``/``ConvInteger``/``QLinearConv`` (+ bias ``Add``,
  + ``BatchNormalization`` right after it, which fused exports fold into the weights, + a zero
  ``Pad`` before it); convolutions and pools carry ``kernel_shape``/``strides``/``dilations`` (and
  ``depthwise`` for convolutions) filled in;
- layout: one ``Transpose`` (or ``Reshape`` when nothing is permuted) for a chain of
  Reshape/Transpose/Flatten/Squeeze/Unsqueeze (a channel shuffle's Reshape→Transpose→Reshape stays
  as it is); ``Slice`` per part of a ``Split``;
  ``GlobalAveragePool``/``GlobalMaxPool`` for ``ReduceMean``/``ReduceMax`` over the spatial axes;
- aliases: ``Resize`` for ``Upsample``, ``ScatterElements`` for ``Scatter``, ``Add`` for a two-input
  ``Sum``; ``LSTM``/``GRU``/``RNN`` are the fused recurrent ops (unrolled cells stay as their ops:
  recognising them is the signatures stage's job).

Removed: ``Identity``, ``Dropout``, no-op ``Cast``, ``Constant`` (values kept in
``ModelGraph.constants``), computations on constants only, QuantizeLinear/DequantizeLinear pairs and
``DynamicQuantizeLinear`` (the consumer is flagged ``quantised``), pure shape plumbing (nodes whose
results only feed shape inputs: ``Shape → Gather → Unsqueeze → Concat → Reshape``'s shape), integer
and boolean plumbing (attention-mask construction, position ids; but a running count over the token
ids, RoBERTa's ``CumSum``, stays and indexes its lookups directly) with the few float ops turning a
mask into an additive bias, scaled-dot-product attention's NaN guard, multiplications and divisions
by one-element constants (where exporters put attention's scale differs), an all-zero attention bias,
and nodes whose results nobody uses.

Every rule and every pattern walk is iterative and bounded, so a cyclic file cannot hang it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from modelgenes.ingest.graph import Initializer, ModelGraph, OpNode

__all__ = ["CANONICAL_OPS", "RULES", "normalise"]

CANONICAL_OPS = frozenset(
    {
        "Relu",
        "Relu6",
        "HardSigmoid",
        "HardSwish",
        "SiLU",
        "QuickGelu",
        "Mish",
        "Gelu",
        "LayerNorm",
        "RMSNorm",
        "GroupNorm",
        "MatMul",
        "Conv",
        "Reshape",
        "Resize",
        "Transpose",
        "Slice",
        "GlobalAveragePool",
        "GlobalMaxPool",
        "Add",
        "ScatterElements",
        "LSTM",
        "GRU",
        "RNN",
    }
)

_MAX_WALK = 64  # longest chain a pattern walk follows (a cycle ends it too)


# --------------------------------------------------------------------------------------------------
# The working graph
# --------------------------------------------------------------------------------------------------
class _N:
    """A mutable node of the working graph. Attributes are shared with the source ``OpNode`` until a
    rule writes one (``set_attr``); an untouched node is handed back as its source ``OpNode``."""

    __slots__ = (
        "alive",
        "attrs",
        "domain",
        "inputs",
        "merged",
        "name",
        "op",
        "origin",
        "original_op",
        "outputs",
        "quantised",
        "src",
    )

    def __init__(self, node: OpNode) -> None:
        self.src: OpNode | None = node
        self.name = node.name
        self.op = node.op
        self.original_op = node.original_op
        self.domain = node.domain
        self.inputs = list(node.inputs)
        self.outputs = list(node.outputs)
        self.attrs: Mapping[str, Any] = node.attributes
        self.origin = node.origin
        self.quantised = node.quantised
        self.merged: list[str] | None = list(node.merged_from) if node.merged_from else None
        self.alive = True

    def set_attr(self, key: str, value: Any) -> None:
        """Write one attribute (copying the shared mapping first)."""
        if self.src is not None and self.attrs is self.src.attributes:
            self.attrs = dict(self.attrs)
        self.attrs[key] = value  # type: ignore[index]

    def origins(self) -> list[str]:
        """The origins of every file node folded into this one (its own first)."""
        if self.merged is None:
            self.merged = [self.origin]
        return self.merged

    def unchanged(self) -> bool:
        """True when no rule touched the node: its source ``OpNode`` can be reused as is."""
        s = self.src
        return (
            s is not None
            and self.merged is None
            and self.attrs is s.attributes
            and self.op is s.op
            and self.domain is s.domain
            and self.quantised == s.quantised
            and self.original_op is s.original_op
            and tuple(self.inputs) == s.inputs
            and tuple(self.outputs) == s.outputs
        )

    def __repr__(self) -> str:  # debugging aid
        return f"<{self.op} {self.name} {self.inputs}->{self.outputs}{'' if self.alive else ' dead'}>"


class _Work:
    """The graph while rules rewrite it: nodes plus tensor-name indexes kept up to date."""

    def __init__(self, graph: ModelGraph) -> None:
        self.nodes = [_N(n) for n in graph.nodes]
        self.producer: dict[str, _N] = {}
        self.users: dict[str, list[_N]] = {}
        for n in self.nodes:
            for o in n.outputs:
                if o:
                    self.producer.setdefault(o, n)
            for t in n.inputs:
                if t:
                    self.users.setdefault(t, []).append(n)
        self.initializers = list(graph.initializers)
        self.consts: set[str] = {i.name for i in graph.initializers}
        # Weights: tensors stated in the file, and what is computed from weights alone (copies, a sum of
        # two biases). Vectors: weights with at most one dimension above 1 (biases, per-channel scales).
        self.weights = set(self.consts)
        self.zeros = set(graph.zero_tensors) | {
            name for name, v in graph.constants.items() if v and all(x == 0 for x in v)
        }
        self.vectors = {
            i.name for i in graph.initializers if sum(1 for d in i.shape if d > 1) <= 1 and i.dtype != "int64"
        }
        self.values: dict[str, tuple[float | int, ...]] = dict(graph.constants)
        self.dtypes: dict[str, str] = dict(graph.tensor_dtypes)
        self.shapes = dict(graph.tensor_shapes)
        self.inputs = graph.inputs
        self.outputs = list(graph.outputs)
        self.output_set = set(self.outputs)
        self.fired: Counter[str] = Counter()
        _infer_dtypes(self)
        self.before = graph.nodes_before_normalisation or len(graph.nodes)

    # -- queries -----------------------------------------------------------------------------
    def live(self) -> list[_N]:
        return [n for n in self.nodes if n.alive]

    def of_op(self, *ops: str) -> list[_N]:
        wanted = set(ops)
        return [n for n in self.nodes if n.alive and n.op in wanted]

    def producer_of(self, t: str) -> _N | None:
        p = self.producer.get(t)
        return p if p is not None and p.alive else None

    def consumers(self, t: str) -> list[_N]:
        users = self.users.get(t)
        if not users:
            return []
        if len(users) == 1:
            n = users[0]
            return [n] if n.alive and t in n.inputs else []
        found: list[_N] = []
        seen: set[int] = set()
        for n in users:
            if n.alive and id(n) not in seen and t in n.inputs:
                seen.add(id(n))
                found.append(n)
        if len(found) != len(users):
            self.users[t] = list(found)  # drop stale entries once
        return found

    def sole_consumer(self, t: str) -> _N | None:
        """The one node reading ``t`` when ``t`` is not also a graph output."""
        if t in self.output_set:
            return None
        c = self.consumers(t)
        return c[0] if len(c) == 1 else None

    def is_const(self, t: str) -> bool:
        return t in self.consts

    def scalar(self, t: str) -> float | None:
        """The value of a constant that holds one number (any shape of one element), else None."""
        v = self.values.get(t)
        if v is None or len(v) != 1:
            return None
        return float(v[0])

    def private(self, t: str, group: Iterable[_N]) -> bool:
        """True when only nodes of ``group`` read ``t`` (so fusing the group loses nothing)."""
        if t in self.output_set:
            return False
        members = {id(n) for n in group}
        return all(id(c) in members for c in self.consumers(t))

    # -- edits ---------------------------------------------------------------------------------
    def rename_uses(self, old: str, new: str) -> None:
        """Every reader of ``old`` reads ``new`` instead (graph outputs too)."""
        for c in self.consumers(old):
            c.inputs = [new if t == old else t for t in c.inputs]
            self.users.setdefault(new, []).append(c)
        if old in self.output_set:
            self.outputs = [new if o == old else o for o in self.outputs]
            self.output_set = set(self.outputs)

    def bypass(self, n: _N, source: int = 0) -> None:
        """Remove ``n``, its first output replaced by its input ``source``."""
        n.alive = False
        if n.outputs and n.outputs[0] and source < len(n.inputs):
            self.rename_uses(n.outputs[0], n.inputs[source])

    def fuse(self, group: list[_N], op: str, inputs: list[str], last: _N, host: _N | None = None) -> _N:
        """Replace ``group`` by one node in ``last``'s place, producing ``last``'s outputs. With a
        ``host`` (the op absorbing the others: a Conv taking its bias Add), the node keeps the host's
        attributes, name and origin."""
        ordered = sorted(group, key=lambda n: self._position(n))
        merged: list[str] = []
        for n in ordered:
            merged.extend(n.origins())
            if n is not last:
                n.alive = False
        last.original_op = "+".join(n.original_op for n in ordered)
        last.quantised = any(n.quantised for n in ordered)
        last.merged = merged
        last.op = op
        last.domain = ""
        last.attrs = {}
        if host is not None and host is not last:
            last.attrs = host.attrs
            last.name, last.origin = host.name, host.origin
            merged.remove(host.origin)
            merged.insert(0, host.origin)
        self.set_inputs(last, inputs)
        return last

    def set_inputs(self, n: _N, inputs: list[str]) -> None:
        n.inputs = list(inputs)
        for t in n.inputs:
            if t:
                users = self.users.setdefault(t, [])
                if n not in users:
                    users.append(n)

    def add_node(self, anchor: _N, op: str, inputs: list[str], outputs: list[str], after: bool = False) -> _N:
        """A new node placed just before (or after) ``anchor``, with its origin: one file op split in two."""
        proto = OpNode(
            name=f"{anchor.name}#{op}",
            op=op,
            original_op=anchor.original_op,
            inputs=tuple(inputs),
            outputs=tuple(outputs),
            origin=anchor.origin,
            quantised=anchor.quantised,
        )
        n = _N(proto)
        self.nodes.insert(self._position(anchor) + (1 if after else 0), n)
        self._positions = None
        for o in outputs:
            self.producer[o] = n
        self.set_inputs(n, inputs)
        return n

    _positions: dict[int, int] | None = None

    def _position(self, n: _N) -> int:
        if self._positions is None or id(n) not in self._positions:
            self._positions = {id(m): k for k, m in enumerate(self.nodes)}
        return self._positions[id(n)]

    def mark_const(self, t: str, value: tuple[float | int, ...] | None = None) -> None:
        if t:
            self.consts.add(t)
            if value is not None:
                self.values[t] = value

    # -- result ----------------------------------------------------------------------------------
    def result(self) -> ModelGraph:
        live = self.live()
        nodes: list[OpNode] = []
        used: set[str] = set()
        for n in live:
            name = n.name
            if name in used:  # a split node's second half
                k = 2
                while f"{name}~{k}" in used:
                    k += 1
                name = f"{name}~{k}"
            used.add(name)
            if n.src is not None and name == n.src.name and n.unchanged():
                nodes.append(n.src)
                continue
            nodes.append(
                OpNode(
                    name=name,
                    op=n.op,
                    original_op=n.original_op,
                    domain=n.domain,
                    inputs=tuple(n.inputs),
                    outputs=tuple(n.outputs),
                    attributes=dict(n.attrs)
                    if n.src is not None and n.attrs is n.src.attributes
                    else n.attrs,
                    origin=n.origin,
                    quantised=n.quantised,
                    merged_from=tuple(n.merged) if n.merged is not None and len(n.merged) > 1 else (),
                )
            )
        producer: dict[str, int] = {}
        for i, node in enumerate(nodes):
            for o in node.outputs:
                if o:
                    producer.setdefault(o, i)
        edges: set[tuple[int, int]] = set()
        for i, node in enumerate(nodes):
            for t in node.inputs:
                p = producer.get(t)
                if p is not None:
                    edges.add((p, i))
        return ModelGraph(
            nodes=tuple(nodes),
            edges=tuple(sorted(edges)),
            initializers=tuple(self.initializers),
            inputs=self.inputs,
            outputs=tuple(self.outputs),
            tensor_shapes=self.shapes,
            tensor_dtypes=self.dtypes,
            constants=self.values,
            nodes_before_normalisation=self.before,
            normalisation=dict(self.fired),
            zero_tensors=frozenset(self.zeros),
        )


def _close(a: float | None, b: float, rel: float = 2e-3) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-6)


def _other(n: _N, t: str) -> str | None:
    """The other input of a binary node that reads ``t`` once."""
    if len(n.inputs) != 2:
        return None
    a, b = n.inputs
    if a == t and b != t:
        return b
    if b == t and a != t:
        return a
    return None


# --------------------------------------------------------------------------------------------------
# Rules: constants and aliases
# --------------------------------------------------------------------------------------------------
def fold_constant_nodes(w: _Work) -> int:
    """``Constant`` nodes vanish; their tensors become constants (values in ``ModelGraph.constants``)."""
    count = 0
    for n in w.of_op("Constant"):
        if n.domain:
            continue
        n.alive = False
        for o in n.outputs:
            w.mark_const(o)
        count += 1
    return count


_OP_ALIASES: dict[tuple[str, str], str] = {
    ("", "Upsample"): "Resize",
    ("", "Scatter"): "ScatterElements",
    ("", "Flatten"): "Reshape",
    ("", "Squeeze"): "Reshape",
    ("", "Unsqueeze"): "Reshape",
    ("", "Gemm"): "MatMul",
    ("", "LayerNormalization"): "LayerNorm",
    ("com.microsoft", "LayerNormalization"): "LayerNorm",
    ("", "RMSNormalization"): "RMSNorm",
    ("", "SimplifiedLayerNormalization"): "RMSNorm",
    ("com.microsoft", "SimplifiedLayerNormalization"): "RMSNorm",
    ("", "Gelu"): "Gelu",
    ("com.microsoft", "Gelu"): "Gelu",
    ("com.microsoft", "FastGelu"): "Gelu",
    ("com.microsoft", "BiasGelu"): "Gelu",
    ("com.microsoft", "QuickGelu"): "QuickGelu",
    ("", "Mish"): "Mish",
    ("com.microsoft", "FusedMatMul"): "MatMul",
    ("", "HardSwish"): "HardSwish",
}

# Pooling and convolution attributes that describe the architecture (not its size); defaults filled
# in so that files stating them and files leaving them out read alike.
_WINDOW_OPS = frozenset({"Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool"})

# Quantised ops: their float counterpart and which inputs are the float op's inputs, in its order
# (scales and zero points dropped; ``None`` keeps them all).
_QUANTISED: dict[str, tuple[str, tuple[int, ...] | None]] = {
    "ConvInteger": ("Conv", (0, 1)),
    "QLinearConv": ("Conv", (0, 3, 8)),
    "MatMulInteger": ("MatMul", (0, 1)),
    "QLinearMatMul": ("MatMul", (0, 3)),
    "DynamicQuantizeMatMul": ("MatMul", (0, 1, 4)),
    "MatMulIntegerToFloat": ("MatMul", (0, 1, 6)),
    "MatMulNBits": ("MatMul", (0, 1, 5)),
    "MatMulBnb4": ("MatMul", (0, 1)),
    "QGemm": ("MatMul", (0, 3, 6)),
    "QLinearAdd": ("Add", (0, 3)),
    "QLinearMul": ("Mul", (0, 3)),
    "QLinearSigmoid": ("Sigmoid", (0,)),
    "QLinearLeakyRelu": ("LeakyRelu", (0,)),
    "QLinearSoftmax": ("Softmax", (0,)),
    "QLinearGlobalAveragePool": ("GlobalAveragePool", (0,)),
    "QLinearAveragePool": ("AveragePool", (0,)),
    "QLinearReduceMean": ("ReduceMean", (0,)),
    "QLinearWhere": ("Where", (0, 1, 4)),
    "QLinearConcat": ("Concat", None),  # (y_scale, y_zp, then x, x_scale, x_zp for each input)
    "QAttention": ("Attention", (0, 1, 2)),
    "DynamicQuantizeLSTM": ("LSTM", (0, 1, 2, 3, 4, 5, 6, 7)),
    "GatherBlockQuantized": ("Gather", (0, 1)),
}


# Inputs that carry axes/sizes (opset ≥ 13/18 moved them from attributes to inputs).
_AXES_INPUT = {
    "ReduceMean": 1,
    "ReduceSum": 1,
    "ReduceMax": 1,
    "ReduceMin": 1,
    "ReduceProd": 1,
    "ReduceL1": 1,
    "ReduceL2": 1,
    "ReduceLogSum": 1,
    "ReduceLogSumExp": 1,
    "ReduceSumSquare": 1,
    "Squeeze": 1,
    "Unsqueeze": 1,
}


def canonical_op_names(w: _Work) -> int:
    """Op aliases across opsets and runtimes get one name (``Upsample``→``Resize``, ``Gemm``→``MatMul``,
    fused ``LayerNormalization``→``LayerNorm``, …); axes given as a constant input (opset 13/18)
    become the ``axes`` attribute, so ``ReduceMean`` reads the same at every opset."""
    count = 0
    for n in w.live():
        slot = _AXES_INPUT.get(n.op)
        if slot is not None and slot < len(n.inputs) and n.inputs[slot]:
            axes = w.values.get(n.inputs[slot])
            if axes is not None:
                n.set_attr("axes", tuple(int(a) for a in axes))
        alias = _OP_ALIASES.get((n.domain, n.op))
        if alias is not None:
            n.op = alias
            n.domain = ""
            count += 1
        if n.op == "Sum" and len(n.inputs) == 2:  # opset < 8 residual adds (Caffe2 exports)
            n.op = "Add"
            count += 1
    return count


def window_attributes(w: _Work) -> int:
    """Convolutions and pools state ``kernel_shape`` (from the weight's shape when the file leaves it
    out: counted as firings), ``strides`` and ``dilations`` (default 1), and convolutions
    ``depthwise`` (one input channel per group): the structural attributes ``wl_hash`` reads.
    Padding is left as is: exporters disagree on it (``SAME_UPPER`` vs explicit pads) without
    changing the architecture."""
    count = 0
    for n in w.live():
        if n.op not in _WINDOW_OPS:
            continue
        weight = w.shapes.get(n.inputs[1]) if n.op.startswith("Conv") and len(n.inputs) > 1 else None
        kernel = n.attrs.get("kernel_shape")
        if kernel is None and weight is not None and len(weight) > 2:
            kernel = tuple(weight[2:])
            count += 1
        if kernel is None:
            continue
        rank = len(kernel)
        if n.attrs.get("kernel_shape") != tuple(kernel):
            n.set_attr("kernel_shape", tuple(kernel))
        for key in ("strides", "dilations"):
            if key not in n.attrs:
                n.set_attr(key, (1,) * rank)
        if n.op == "Conv":
            group = int(n.attrs.get("group", 1))
            if n.attrs.get("group") != group:
                n.set_attr("group", group)
            per_group = weight[1] if weight is not None and len(weight) > 1 else None
            n.set_attr("depthwise", group > 1 and per_group == 1)
    return count


def map_quantised_ops(w: _Work) -> int:
    """Quantised ops become their float counterparts with the float op's inputs (scales and zero points
    dropped), flagged ``quantised``."""
    count = 0
    for n in w.live():
        mapping = _QUANTISED.get(n.op)
        if mapping is None or n.domain not in ("", "com.microsoft"):
            continue
        target, keep = mapping
        if n.op == "QLinearConcat":
            inputs = n.inputs[2::3]
        else:
            inputs = [n.inputs[k] for k in keep or range(len(n.inputs)) if k < len(n.inputs)]
        while inputs and not inputs[-1]:
            inputs.pop()
        n.op = target
        n.domain = ""
        n.quantised = True
        n.inputs = inputs
        count += 1
    return count


def split_fused_runtime_ops(w: _Work) -> int:
    """onnxruntime's fused ops that stand for two canonical ops are split:
    ``SkipLayerNormalization`` → ``Add`` + ``LayerNorm``, ``SkipSimplifiedLayerNormalization`` →
    ``Add`` + ``RMSNorm``, ``FusedConv``/``FusedGemm`` → ``Conv``/``MatMul`` + their activation."""
    count = 0
    for n in w.live():
        if n.domain != "com.microsoft":
            continue
        if n.op in ("SkipLayerNormalization", "SkipSimplifiedLayerNormalization") and len(n.inputs) >= 2:
            summed = f"{n.outputs[0]}#skip_sum"
            w.add_node(n, "Add", [n.inputs[0], n.inputs[1]], [summed])
            norm = "LayerNorm" if n.op == "SkipLayerNormalization" else "RMSNorm"
            n.op, n.domain = norm, ""
            w.set_inputs(n, [summed, *n.inputs[2:]])
            # The optional 4th output is the sum itself.
            if len(n.outputs) >= 4 and n.outputs[3]:
                w.rename_uses(n.outputs[3], summed)
            count += 1
        elif n.op in ("FusedConv", "FusedGemm"):
            activation = str(n.attrs.get("activation", ""))
            n.op, n.domain = ("Conv" if n.op == "FusedConv" else "MatMul"), ""
            if activation:
                out = n.outputs[0]
                inner = f"{out}#pre_activation"
                n.outputs[0] = inner
                w.producer[inner] = n
                act = w.add_node(n, activation, [inner], [out], after=True)
                w.producer[out] = act
            count += 1
    return count


_NON_DETERMINISTIC = frozenset({"RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"})
_VALUE_PRESERVING = frozenset({"Identity", "Cast", "Reshape", "Squeeze", "Unsqueeze", "Flatten"})
_WEIGHT_COPIES = _VALUE_PRESERVING | {"Transpose", "DequantizeLinear"}
_VECTOR_PRESERVING = _WEIGHT_COPIES | {"Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Reciprocal"}


def remove_quantisation_plumbing(w: _Work) -> int:
    """QuantizeLinear/DequantizeLinear (QDQ pairs, weight dequantisation) and DynamicQuantizeLinear are
    removed; the ops reading their results are flagged ``quantised`` (so a quantised copy reads like
    its float parent). DynamicQuantizeLinear's scale and zero point become constants."""
    count = 0
    for n in w.of_op("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"):
        if not n.inputs or not n.outputs:
            continue
        readers = w.consumers(n.outputs[0])
        data = n.inputs[0]
        if n.op == "DequantizeLinear":
            for r in readers:
                r.quantised = True
        if n.op == "DynamicQuantizeLinear":
            for o in n.outputs[1:]:
                w.mark_const(o)  # scale and zero point: quantisation bookkeeping, not data
        w.bypass(n)
        if w.is_const(data):
            w.mark_const(n.outputs[0])
        count += 1
    return count


def absorb_integer_rescale(w: _Work) -> int:
    """After an integer op (``MatMulInteger``/``ConvInteger``, now ``MatMul``/``Conv`` flagged quantised)
    the rescale tail (``Cast`` to float, ``Mul`` by the constant scale product) is part of the op."""
    count = 0
    for n in w.live():
        if not (n.alive and n.original_op in ("MatMulInteger", "ConvInteger") and n.outputs):
            continue
        out = n.outputs[0]
        group = [n]
        for _ in range(3):
            nxt = w.sole_consumer(out)
            if nxt is None or not (
                (nxt.op == "Cast" and nxt.attrs.get("to") in (1, 10, 11, 16))
                or (nxt.op == "Mul" and (o := _other(nxt, out)) is not None and w.is_const(o))
            ):
                break
            group.append(nxt)
            out = nxt.outputs[0]
        if len(group) > 1:
            last = group[-1]
            w.fuse(group, n.op, n.inputs, last, host=n)
            last.quantised = True
            count += 1
    return count


def fold_constant_subgraphs(w: _Work) -> int:
    """Nodes computing only from constants (weight transposes, ``ConstantOfShape`` of a constant shape,
    a scale's reciprocal) are folded away: their results become constants. Values are carried through
    value-preserving ops (``Cast``, ``Reshape``, ``Unsqueeze``…) so scalars stay visible."""
    count = 0
    queue = [n for n in w.live() if n.inputs]
    seen: set[int] = set()
    while queue:
        n = queue.pop()
        if not n.alive or id(n) in seen or n.op in _NON_DETERMINISTIC or not n.inputs:
            continue
        if not all(w.is_const(t) for t in n.inputs if t):
            continue
        if any(o in w.output_set for o in n.outputs) or not any(n.inputs):
            continue
        seen.add(id(n))
        n.alive = False
        value = w.values.get(n.inputs[0]) if n.op in _VALUE_PRESERVING else None
        data = [t for t in n.inputs if t]
        if n.op in _WEIGHT_COPIES:
            data = data[:1]  # a copy's other inputs are shapes or perms
        of_weights = all(t in w.weights for t in data)
        of_vectors = of_weights and all(t in w.vectors for t in data) and n.op in _VECTOR_PRESERVING
        of_zeros = (n.op in _WEIGHT_COPIES or n.op in ("Expand", "Tile")) and n.inputs[0] in w.zeros
        if n.op == "ConstantOfShape":
            fill = n.attrs.get("value")
            of_zeros = not fill or (isinstance(fill, tuple) and all(v == 0 for v in fill))
        for o in n.outputs:
            w.mark_const(o, value)
            if of_weights:
                w.weights.add(o)
            if of_vectors:
                w.vectors.add(o)
            if of_zeros:
                w.zeros.add(o)
            queue.extend(w.consumers(o))
        if n.op == "ConstantOfShape" and n.outputs:
            _register_filled_tensor(w, n)
        count += 1
    return count


def _register_filled_tensor(w: _Work, n: _N) -> None:
    """``ConstantOfShape`` of a known shape is a constant tensor of that shape: recorded as one, so it
    counts in ``parameter_count`` (the onnx zoo's "light" models store their weights this way)."""
    shape = w.values.get(n.inputs[0])
    if shape is None or any(int(d) < 0 for d in shape):
        return
    fill = n.attrs.get("value")
    dtype = "int64" if isinstance(fill, tuple) and fill and isinstance(fill[0], int) else "float"
    dims = tuple(int(d) for d in shape)
    w.initializers.append(Initializer(name=n.outputs[0], shape=dims, dtype=dtype))
    w.shapes[n.outputs[0]] = dims
    w.dtypes[n.outputs[0]] = dtype


# --------------------------------------------------------------------------------------------------
# Rules: noise
# --------------------------------------------------------------------------------------------------
def remove_identity(w: _Work) -> int:
    """``Identity`` nodes are removed (their readers read the input)."""
    count = 0
    for n in w.of_op("Identity"):
        w.bypass(n)
        count += 1
    return count


def remove_dropout(w: _Work) -> int:
    """``Dropout`` is removed (inference graphs: the identity), unless its mask output is used."""
    count = 0
    for n in w.of_op("Dropout"):
        mask = n.outputs[1] if len(n.outputs) > 1 else ""
        if mask and (w.consumers(mask) or mask in w.output_set):
            continue
        w.bypass(n)
        count += 1
    return count


_DTYPE_OF_TO = {
    1: "float",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "string",
    9: "bool",
    10: "float16",
    11: "double",
    12: "uint32",
    13: "uint64",
    16: "bfloat16",
}
_BOOL_OUT = frozenset(
    {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf"}
)
_INT64_OUT = frozenset({"Shape", "Size", "NonZero", "ArgMax", "ArgMin"})
# Ops whose (first) output has the element type of their data input (the first).
_SAME_TYPE = frozenset(
    [
        "Abs",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Neg",
        "Pow",
        "Sqrt",
        "Exp",
        "Log",
        "Erf",
        "Tanh",
        "Sigmoid",
        "Relu",
        "LeakyRelu",
        "Elu",
        "Selu",
        "Softplus",
        "Softmax",
        "LogSoftmax",
        "HardSigmoid",
        "HardSwish",
        "Gelu",
        "Clip",
        "Min",
        "Max",
        "Mean",
        "Sum",
        "Reciprocal",
        "Floor",
        "Ceil",
        "Round",
        "Sin",
        "Cos",
        "Sign",
        "Mod",
        "BitShift",
        "MatMul",
        "Gemm",
        "Conv",
        "ConvTranspose",
        "BatchNormalization",
        "LayerNormalization",
        "InstanceNormalization",
        "GroupNormalization",
        "MaxPool",
        "AveragePool",
        "GlobalAveragePool",
        "GlobalMaxPool",
        "LpPool",
        "Reshape",
        "Flatten",
        "Squeeze",
        "Unsqueeze",
        "Transpose",
        "Concat",
        "Split",
        "Slice",
        "Expand",
        "Tile",
        "Pad",
        "Resize",
        "Upsample",
        "ReduceMean",
        "ReduceSum",
        "ReduceMax",
        "ReduceMin",
        "ReduceProd",
        "ReduceL2",
        "Identity",
        "Dropout",
        "CumSum",
        "Trilu",
        "Einsum",
        "DepthToSpace",
        "SpaceToDepth",
        "PRelu",
        "Range",
        "TopK",
        "ScatterElements",
        "ScatterND",
        "Relu6",
        "SiLU",
        "QuickGelu",
        "Mish",
        "LayerNorm",
        "RMSNorm",
        "Attention",
        "Softsign",
        "SkipLayerNormalization",
        "SimplifiedLayerNormalization",
        "RMSNormalization",
        "LSTM",
        "GRU",
        "RNN",
    ]
)
# Elementwise ops whose inputs all share one type: any input whose type is known gives it.
_ANY_INPUT_TYPE = frozenset({"Add", "Sub", "Mul", "Div", "Min", "Max", "Mean", "Sum", "Mod", "BitShift"})


def _infer_dtypes(w: _Work) -> None:
    """Element types where the file leaves them out, in one pass in node order (cheap, partial: an
    unknown stays unknown, and no rule acts on an unknown type)."""
    dtypes = w.dtypes
    for n in w.nodes:
        if not n.alive or not n.outputs:
            continue
        out = n.outputs[0]
        if not out or out in dtypes:
            continue
        op = n.op
        known: str | None = None
        if op == "Cast":
            to = n.attrs.get("to")
            known = _DTYPE_OF_TO.get(to) if isinstance(to, int) else None
        elif op == "CastLike" and len(n.inputs) > 1:
            known = dtypes.get(n.inputs[1])
        elif op in _BOOL_OUT:
            known = "bool"
        elif op in _INT64_OUT:
            known = "int64"
        elif op == "ConstantOfShape":
            fill = n.attrs.get("value")
            known = "int64" if isinstance(fill, tuple) and fill and isinstance(fill[0], int) else "float"
        elif op == "Where" and len(n.inputs) > 2:
            known = dtypes.get(n.inputs[1]) or dtypes.get(n.inputs[2])
        elif op in _ANY_INPUT_TYPE:
            for t in n.inputs:
                known = dtypes.get(t)
                if known is not None:
                    break
        elif (op in _SAME_TYPE or op in _LOOKUPS) and n.inputs:
            known = dtypes.get(n.inputs[0])  # the data input; the others are shapes, axes, indices
        if known is not None:
            dtypes[out] = known
            if op == "Split":
                for o in n.outputs[1:]:
                    if o:
                        dtypes.setdefault(o, known)


def remove_noop_cast(w: _Work) -> int:
    """``Cast``/``CastLike`` to the type the tensor already has is removed (where the type is known)."""
    count = 0
    for n in w.of_op("Cast", "CastLike"):
        if not n.inputs:
            continue
        have = w.dtypes.get(n.inputs[0])
        if n.op == "Cast":
            to = n.attrs.get("to")
            want = _DTYPE_OF_TO.get(to) if isinstance(to, int) else None
        else:
            want = w.dtypes.get(n.inputs[1]) if len(n.inputs) > 1 else None
        if have is not None and have == want:
            w.bypass(n)
            count += 1
    return count


# Input slots that carry shapes, axes, sizes or indices computed from shapes, not tensor data.
_SHAPE_SLOTS: dict[str, frozenset[int]] = {
    "Reshape": frozenset({1}),
    "Expand": frozenset({1}),
    "Tile": frozenset({1}),
    "ConstantOfShape": frozenset({0}),
    "Slice": frozenset({1, 2, 3, 4}),
    "Resize": frozenset({1, 2, 3}),
    "Upsample": frozenset({1}),
    "Squeeze": frozenset({1}),
    "Unsqueeze": frozenset({1}),
    "TopK": frozenset({1}),
    "Pad": frozenset({1, 3}),
    "Split": frozenset({1}),
    "OneHot": frozenset({1}),
    "Range": frozenset({0, 1, 2}),
    "Trilu": frozenset({1}),
    "CumSum": frozenset({1}),
    "Shape": frozenset({0}),
    "Size": frozenset({0}),
    "EyeLike": frozenset({0}),
    "NonMaxSuppression": frozenset({2, 3, 4}),
    **{op: frozenset({1}) for op in _AXES_INPUT if op.startswith("Reduce")},
}


def fold_shape_plumbing(w: _Work) -> int:
    """Pure shape computations are removed: a node is plumbing when every use of its results is a
    shape input (``Reshape``'s shape, ``Slice``'s starts, ``Expand``'s shape, ``Range``'s bounds, …)
    or an input of another plumbing node. TorchScript and dynamo exports differ most here; the data
    path (what signatures match) stays. Iterative least fixed point, O(edges)."""
    pending: dict[int, int] = {}
    plumbing: list[_N] = []
    live = w.live()
    for n in live:
        if not n.outputs or any(o in w.output_set for o in n.outputs):
            pending[id(n)] = -1  # never
            continue
        uses = 0
        data_uses = 0
        for o in n.outputs:
            if not o:
                continue
            for c in w.consumers(o):
                slots = _SHAPE_SLOTS.get(c.op, frozenset())
                for k, t in enumerate(c.inputs):
                    if t == o:
                        uses += 1
                        if k not in slots:
                            data_uses += 1
        if uses == 0:
            pending[id(n)] = -1  # dead code is another rule's business
            continue
        pending[id(n)] = data_uses
        if data_uses == 0:
            plumbing.append(n)
    removed: set[int] = set()
    queue = list(plumbing)
    while queue:
        n = queue.pop()
        if id(n) in removed:
            continue
        removed.add(id(n))
        slots = _SHAPE_SLOTS.get(n.op, frozenset())
        for k, t in enumerate(n.inputs):
            if k in slots or not t:
                continue  # that use was never counted as data
            p = w.producer_of(t)
            if p is None or pending.get(id(p), -1) <= 0:
                continue
            pending[id(p)] -= 1
            if pending[id(p)] == 0:
                queue.append(p)
    for n in live:
        if id(n) in removed:
            n.alive = False
            for o in n.outputs:
                w.mark_const(o)
    return len(removed)


_INDEX_DTYPES = frozenset({"bool", "int64", "int32"})


def fold_index_plumbing(w: _Work) -> int:
    """Computations on integers and booleans (attention-mask construction, position ids, token-type
    ids, index arithmetic) are plumbing too: each exporter and library version builds them differently
    (dynamo's GatherND/And, TorchScript's Range/Unsqueeze/GreaterOrEqual). A node whose results are all
    known to be ``bool``/``int64``/``int32`` is removed and its results become constants, so that a float
    node computed only from them (the mask's ``Where(mask, 0, -inf)``, a position embedding's
    ``Gather``) folds away too. Those that depend on a graph input's values go as well, with the few
    float ops that turn them into an additive mask (``Cast``, ``1 - m``, ``Where(m, 0, -inf)``), but
    not the embedding ``Gather`` the token ids reach (the graph's entry). Graph outputs and quantised
    ops stay."""
    count = 0
    inputs = set(w.inputs)
    fed: set[str] = set()  # removed results that depend on a graph input's values
    aux: set[str] = set()
    counted: dict[str, _N] = {}  # removed results computed from a running count (CumSum) of fed values
    for n in w.live():  # in node order, so producers are decided first
        if n.quantised or not n.outputs:
            continue
        outs = [o for o in n.outputs if o]
        if not outs or any(o in w.output_set for o in outs):
            continue
        if not all(w.dtypes.get(o) in _INDEX_DTYPES for o in outs):
            continue
        n.alive = False
        count += 1
        if _reads_input_values(w, n, inputs, fed):
            fed.update(outs)
            aux.update(outs)
            source = n if n.op == "CumSum" else next((counted[t] for t in n.inputs if t in counted), None)
            if source is not None:
                counted.update(dict.fromkeys(outs, source))
        else:
            for o in outs:
                w.mark_const(o)
    count += _remove_mask_arithmetic(w, aux)
    return count - _keep_running_counts(w, counted)


def _keep_running_counts(w: _Work, counted: Mapping[str, _N]) -> int:
    """A running count over a graph input's values (``CumSum`` of the non-padding mask of the token
    ids: RoBERTa's position ids) is an architecture feature, not plumbing: the ``CumSum`` stays and the
    table lookups indexed by what was computed from it read it directly (the casts, ``· mask`` and
    ``+ padding_idx`` between them go). Returns how many ``CumSum`` nodes stay."""
    kept = 0
    for n in w.of_op(*_LOOKUPS):
        if not n.inputs or not w.is_const(n.inputs[0]):
            continue
        for k, t in enumerate(n.inputs[1:], start=1):
            source = counted.get(t)
            if source is None:
                continue
            if not source.alive:
                source.alive = True
                kept += 1
            w.set_inputs(n, [source.outputs[0] if i == k else x for i, x in enumerate(n.inputs)])
    return kept


def _reads_input_values(w: _Work, n: _N, inputs: set[str], fed: set[str]) -> bool:
    """Whether ``n`` reads a graph input's values (not just its shape), directly, through removed index
    nodes, or through a data node (``ArgMax`` of logits)."""
    slots = _SHAPE_SLOTS.get(n.op, frozenset())
    for k, t in enumerate(n.inputs):
        if not t or k in slots or w.is_const(t):
            continue
        if t in inputs or t in fed:
            return True
        p = w.producer_of(t)
        if p is not None:  # a live data node (removed index nodes are dead by now)
            return True
    return False


_COMPUTE_OPS = frozenset(
    {"MatMul", "Gemm", "Conv", "ConvTranspose", "LSTM", "GRU", "RNN", "Attention", "Einsum"}
)
_LOOKUPS = frozenset({"Gather", "GatherElements", "GatherND"})
_MASK_DEPTH = 6


def _remove_mask_arithmetic(w: _Work, aux: set[str]) -> int:
    """Float arithmetic fed only by removed index tensors of a graph input and constants (the mask's
    ``Cast → 1 - m → · -inf`` or ``Where(m, 0, -inf)``) goes with them, at most ``_MASK_DEPTH`` ops
    deep. Lookups from a table (the token-id embedding) and compute ops stay: they are the data path."""
    count = 0
    frontier = {id(c): c for t in aux for c in w.consumers(t)}
    for _ in range(_MASK_DEPTH):
        following: dict[int, _N] = {}
        for n in frontier.values():
            if not n.alive or n.op in _COMPUTE_OPS or n.quantised:
                continue
            if n.op in _LOOKUPS and n.inputs and w.is_const(n.inputs[0]):
                continue
            if any(o in w.output_set for o in n.outputs):
                continue
            if not all(not t or t in aux or w.is_const(t) for t in n.inputs):
                continue
            n.alive = False
            count += 1
            for o in n.outputs:
                if o:
                    aux.add(o)
                    for c in w.consumers(o):
                        following[id(c)] = c
        frontier = following
    return count


def remove_nan_guards(w: _Work) -> int:
    """``Where(IsNaN(x), c, x)`` (scaled-dot-product attention's guard for fully masked rows) is ``x``."""
    count = 0
    for n in w.of_op("Where"):
        if len(n.inputs) != 3 or not n.alive:
            continue
        guard = w.producer_of(n.inputs[0])
        if guard is None or guard.op not in ("IsNaN", "IsInf") or guard.inputs[:1] != [n.inputs[2]]:
            continue
        if not w.is_const(n.inputs[1]):
            continue
        w.bypass(n, source=2)
        count += 1
    return count


def _is_scalar_const(w: _Work, t: str) -> bool:
    if not w.is_const(t):
        return False
    values = w.values.get(t)
    if values is not None:
        return len(values) == 1
    shape = w.shapes.get(t)
    return shape is not None and all(d == 1 for d in shape)


def remove_zero_addition(w: _Work) -> int:
    """An all-zero attention bias added to attention scores (a ``MatMul`` of two activations) is
    removed: dynamo folds a missing attention mask into such a constant, TorchScript exports have
    none. Only there: elsewhere a zero tensor is a weight that happens to be zero (a freshly
    initialised bias) and must not change the graph."""
    count = 0
    for n in w.of_op("Add"):
        if len(n.inputs) != 2 or not n.alive:
            continue
        for k in (0, 1):
            x, z = n.inputs[k], n.inputs[1 - k]
            if z not in w.zeros or w.is_const(x):
                continue
            scores = w.producer_of(x)
            if scores is None or scores.op != "MatMul" or any(w.is_const(t) for t in scores.inputs[:2]):
                continue
            w.bypass(n, source=k)
            count += 1
            break
    return count


def remove_scalar_scaling(w: _Work) -> int:
    """Multiplying or dividing by a one-element constant is removed: where exporters put attention's
    ``1/√d`` (on the scores, or ``d^-¼`` on both Q and K) or an embedding scale differs, the
    architecture does not. Runs after the activation and normalisation fusions, which read such
    constants."""
    count = 0
    for n in w.of_op("Mul", "Div"):
        if len(n.inputs) != 2 or not n.alive:
            continue
        for k in (0, 1) if n.op == "Mul" else (0,):
            x, c = n.inputs[k], n.inputs[1 - k]
            if w.is_const(x) or not _is_scalar_const(w, c):
                continue
            w.bypass(n, source=k)
            count += 1
            break
    return count


def remove_dead_nodes(w: _Work) -> int:
    """Nodes whose results nobody reads (and that are not graph outputs) are removed, transitively."""
    if not w.outputs:
        return 0
    count = 0
    queue = w.live()
    while queue:
        n = queue.pop()
        if not n.alive or not n.outputs:
            continue
        if any(o in w.output_set or w.consumers(o) for o in n.outputs if o):
            continue
        n.alive = False
        count += 1
        for t in n.inputs:
            p = w.producer_of(t)
            if p is not None:
                queue.append(p)
    return count


_GLOBAL_POOLS = {"ReduceMean": "GlobalAveragePool", "ReduceMax": "GlobalMaxPool"}


def canonical_global_pools(w: _Work) -> int:
    """``ReduceMean``/``ReduceMax`` over all spatial axes (2, 3[, 4] or -2, -1) of an image tensor is
    ``GlobalAveragePool``/``GlobalMaxPool`` (dynamo exports ``mean(dim=(2, 3))`` so); Reshapes right
    after a global pool (one, or a chain such as tf2onnx's Squeeze → Reshape) only drop or restore its
    1×1 dims and are removed, and so is a Reshape back to (N, C, 1, 1) of a tensor computed from the
    pooled one by elementwise ops and 1×1 convolutions (squeeze-excite in TensorFlow exports)."""
    count = 0
    for n in w.of_op(*_GLOBAL_POOLS):
        axes = tuple(sorted(int(a) for a in n.attrs.get("axes", ())))
        if axes not in ((2, 3), (-2, -1), (2, 3, 4), (-3, -2, -1)):
            continue
        shape = w.shapes.get(n.inputs[0]) if n.inputs else None
        if shape is not None and len(shape) != 2 + len(axes):
            continue
        n.op = _GLOBAL_POOLS[n.op]
        n.attrs = {}
        w.set_inputs(n, n.inputs[:1])
        count += 1
    pooled = [n.outputs[0] for n in w.of_op("GlobalAveragePool", "GlobalMaxPool") if n.outputs]
    direct = set(pooled)
    seen = set(pooled)
    while pooled:
        t = pooled.pop()
        chain = _reshape_chain(w, t)
        if chain and (t in direct or _keeps_unit_spatial(w, chain[-1])):
            for r in chain:
                w.bypass(r)
            count += len(chain)
        for c in w.consumers(t):
            if c.outputs and c.outputs[0] not in seen and _keeps_pooled(w, c, t):
                seen.add(c.outputs[0])
                pooled.append(c.outputs[0])
    return count


# Ops that keep a pooled (N, C, 1, 1) tensor pooled: elementwise activations, and arithmetic with a
# weight; a 1×1 convolution without padding too (``_keeps_pooled``).
_POOLED_ELEMENTWISE = frozenset(
    {"Relu", "Relu6", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "SiLU", "Tanh", "Gelu"}
)
_POOLED_ARITHMETIC = frozenset({"Add", "Sub", "Mul", "Div"})


def _keeps_pooled(w: _Work, n: _N, t: str) -> bool:
    """True when ``n`` reading the pooled tensor ``t`` (first input) gives a pooled tensor again."""
    if n.inputs[:1] != [t] and not (n.op in _POOLED_ARITHMETIC and t in n.inputs):
        return False
    if n.op in _POOLED_ELEMENTWISE:
        return True
    if n.op in _POOLED_ARITHMETIC:
        return all(x == t or x in w.weights for x in n.inputs)
    if n.op == "Conv" and len(n.inputs) > 1:
        kernel = w.shapes.get(n.inputs[1])
        pads = n.attrs.get("pads") or ()
        return kernel is not None and all(d == 1 for d in kernel[2:]) and not any(pads)
    return False


def _reshape_chain(w: _Work, t: str) -> list[_N]:
    """The run of Reshape-like nodes (``Reshape``, ``Flatten``, ``Squeeze``, ``Unsqueeze``) that is
    the sole reader of ``t``, in order."""
    chain: list[_N] = []
    for _ in range(_MAX_WALK):
        r = w.sole_consumer(t)
        if r is None or r.op != "Reshape" or r.inputs[:1] != [t] or not r.outputs or r in chain:
            break
        chain.append(r)
        t = r.outputs[0]
    return chain


def _keeps_unit_spatial(w: _Work, r: _N) -> bool:
    """True when ``r`` ends in (N, C, 1, …, 1): a reshape of a pooled tensor back to its own form,
    which only moves size-1 axes (tf2onnx leaves such no-op Reshapes in squeeze-excite)."""
    target = w.values.get(r.inputs[1]) if r.original_op == "Reshape" and len(r.inputs) > 1 else None
    return (
        target is not None
        and len(target) >= 3
        and int(target[0]) in (0, 1, -1)
        and all(int(d) == 1 for d in target[2:])
    )


def split_into_slices(w: _Work) -> int:
    """A ``Split`` into k parts reads as k ``Slice`` nodes of its input (TorchScript exports ``chunk``
    as Split, dynamo as Slices); parts nobody reads disappear with the dead nodes."""
    count = 0
    for n in w.of_op("Split"):
        if not n.inputs or len(n.outputs) < 2:
            continue
        source = n.inputs[0]
        for k, out in enumerate(n.outputs[1:], start=1):
            if out:
                part = w.add_node(n, "Slice", [source], [out], after=True)
                part.name = f"{n.name}#{k}"
        n.op = "Slice"
        n.outputs = n.outputs[:1]
        w.set_inputs(n, [source])
        n.attrs = {}
        count += 1
    return count


def absorb_padding(w: _Work) -> int:
    """A zero ``Pad`` right before a convolution or pool is that op's padding (TensorFlow-style "same"
    padding in TorchScript exports; dynamo and fused exports put it in the op's ``pads``)."""
    count = 0
    for n in w.of_op("Pad"):
        if not n.inputs or not n.outputs or str(n.attrs.get("mode", "constant")) != "constant":
            continue
        value = float(n.attrs.get("value", 0.0))
        if len(n.inputs) > 2 and n.inputs[2]:
            known = w.scalar(n.inputs[2])
            value = known if known is not None else math.nan
        if value != 0.0:
            continue
        c = w.sole_consumer(n.outputs[0])
        if c is None or c.op not in _WINDOW_OPS or c.inputs[:1] != [n.outputs[0]]:
            continue
        c.origins().extend(n.origins())
        w.bypass(n)
        count += 1
    return count


def remove_batchnorm_after_conv(w: _Work) -> int:
    """``BatchNormalization`` right after a ``Conv`` is dropped: fused exports fold it into the
    convolution's weights, so Conv+BN and Conv must read alike. A BatchNorm elsewhere stays."""
    count = 0
    for n in w.of_op("BatchNormalization"):
        if not n.inputs:
            continue
        p = w.producer_of(n.inputs[0])
        if p is None or p.op not in ("Conv", "ConvTranspose") or w.sole_consumer(n.inputs[0]) is not n:
            continue
        if len(n.outputs) > 1 and any(w.consumers(o) for o in n.outputs[1:] if o):
            continue  # training-mode outputs in use
        p.origins().extend(n.origins())
        w.bypass(n)
        count += 1
    return count


_AFFINE_HOSTS = {
    "Add": frozenset({"MatMul", "Conv", "ConvTranspose", "BatchNormalization"}),
    "Mul": frozenset({"Conv", "ConvTranspose", "BatchNormalization"}),
}


def absorb_constant_affine(w: _Work) -> int:
    """An ``Add`` of a weight vector (one non-unit dimension: not a mask) right after
    ``MatMul``/``Conv``/``ConvTranspose``/``BatchNormalization`` is that op's bias, and a ``Mul`` by a
    constant right after a convolution or batch norm its
    per-channel scale (Caffe's BatchNorm + Scale, folded batch norms): absorbed, so ``Gemm``,
    ``MatMul``+``Add`` and ``Conv``+``Add`` (TensorFlow exports) read alike. A ``Mul`` after ``MatMul``
    stays: that is attention's scaling."""
    count = 0
    for n in w.of_op("Add", "Mul"):
        if len(n.inputs) != 2 or not n.alive:
            continue
        hosts = _AFFINE_HOSTS[n.op]
        for k in (0, 1):
            x, b = n.inputs[k], n.inputs[1 - k]
            p = w.producer_of(x)
            if p is None or p.op not in hosts or b not in w.vectors:
                continue
            if w.sole_consumer(x) is not n or w.is_const(x):
                continue
            w.fuse([p, n], p.op, [*p.inputs, b], n, host=p)
            count += 1
            break
    return count


def _reshape_target(w: _Work, n: _N) -> tuple[int, ...] | None:
    """The target shape of a ``Reshape`` that does not reorder axes: its values when constant, ``()``
    when computed at run time (shape plumbing, folded away); ``None`` when ``n`` is no such Reshape."""
    if n.op != "Reshape" or n.original_op.rsplit("+", 1)[-1] != "Reshape" or len(n.inputs) < 2:
        return None
    if not w.is_const(n.inputs[1]):
        return None
    target = w.values.get(n.inputs[1])
    return tuple(int(v) for v in target) if target is not None else ()


def absorb_flattened_matmul(w: _Work) -> int:
    """Reshape (flatten to 2-D) → ``MatMul``/``Gemm`` by a constant matrix → Reshape (back to the
    leading dimensions) is a ``MatMul`` on the last axis: Keras' Dense on a rank-3 input as tf2onnx
    writes it, GPT-2's Conv1D. Reads as the ``MatMul`` alone (so its bias ``Add`` is absorbed as for
    PyTorch's Linear). Exactly: ``reshape(reshape(x, (M, K)) @ W, (d…, N))`` with ``Π d = M`` is
    ``reshape(x, (d…, K)) @ W``; that first Reshape stays when it changes the shape (a flatten that also
    merges attention heads: it joins their layout chain) and goes when, as far as shapes are known, it
    does not. As far as known, the flatten must give rank 2 with the weight's rows last, and the
    unflatten the weight's columns last (both hold for any grouping of rows, so a target computed at
    run time is taken as one)."""
    shapes = {i.name: i.shape for i in w.initializers}
    count = 0
    for m in w.of_op("MatMul"):
        if len(m.inputs) < 2 or not m.outputs or not w.is_const(m.inputs[1]) or m.attrs.get("transA"):
            continue
        weight = shapes.get(m.inputs[1])
        r1, r2 = w.producer_of(m.inputs[0]), w.sole_consumer(m.outputs[0])
        bias: list[_N] = []
        bias_t: list[str] = []
        if r2 is not None and r2.op == "Add" and len(r2.inputs) == 2 and r2.outputs:
            b = _other(r2, m.outputs[0])
            if b is None or b not in w.vectors:
                continue
            bias, bias_t, r2 = [r2], [b], w.sole_consumer(r2.outputs[0])
        out = (bias[0] if bias else m).outputs[:1]
        if weight is None or len(weight) != 2 or r1 is None or r2 is None or r2.inputs[:1] != out:
            continue
        flat, back = _reshape_target(w, r1), _reshape_target(w, r2)
        if flat is None or back is None or w.sole_consumer(r1.outputs[0]) is not m:
            continue
        rows, cols = weight[::-1] if m.attrs.get("transB") else weight
        if flat and (len(flat) != 2 or flat[1] != rows):
            continue
        if back and (len(back) < 3 or back[-1] not in (cols, -1) or any(d <= 0 for d in back[:-1])):
            continue
        if flat and back and flat[0] > 0 and math.prod(back[:-1]) != flat[0]:
            continue
        source = _layout_shape(w, r1.inputs[0])
        lead = back[:-1]
        if source is None:
            noop = True
        elif not source:
            continue
        elif lead:
            noop = len(source) == len(back) and all(
                _same(a, b) for a, b in zip(source, (*lead, rows), strict=True)
            )
        else:
            noop = _same(source[-1], rows) and (
                flat[:1] in ((), (-1,)) or _same(_product(source[:-1]), flat[0])
            )
            if not noop:
                continue  # the shape it should take is unknown
        inputs = m.inputs[1:] + bias_t
        if noop:
            w.fuse([r1, m, *bias, r2], "MatMul", [r1.inputs[0], *inputs], r2, host=m)
        else:
            target = f"{r1.outputs[0]}#unflattened"
            w.mark_const(target, (*lead, rows))
            w.set_inputs(r1, [r1.inputs[0], target])
            w.fuse([m, *bias, r2], "MatMul", [m.inputs[0], *inputs], r2, host=m)
        count += 1
    return count


_LAYOUT = frozenset({"Reshape", "Transpose"})


_Dims = tuple[int | None, ...]


def _layout_shape(w: _Work, t: str, depth: int = 8) -> _Dims | None:
    """The shape of ``t`` as far as it is known (``None`` for an unknown dimension; ``None`` overall
    when even the rank is unknown): the stated shape, else worked out through the layout ops
    (``Reshape`` with a constant target, ``Flatten``, ``Squeeze``, ``Unsqueeze``, ``Transpose``) that
    produced it."""
    stated = w.shapes.get(t)
    if stated is not None:
        return tuple(d if isinstance(d, int) and d >= 0 else None for d in stated)
    p = w.producer_of(t)
    if p is None or depth <= 0 or not p.inputs or p.op not in _LAYOUT:
        return None
    kind = p.original_op.rsplit("+", 1)[-1]
    if kind == "Reshape":
        target = w.values.get(p.inputs[1]) if len(p.inputs) > 1 else None
        if target is None:
            return None
        source = _layout_shape(w, p.inputs[0], depth - 1)
        dims: list[int | None] = []
        for k, d in enumerate(int(v) for v in target):
            if d == 0 and not p.attrs.get("allowzero"):
                dims.append(source[k] if source is not None and k < len(source) else None)
            else:
                dims.append(d if d > 0 else None)
        if -1 in target and source is not None and None not in source:
            known = [d for d in dims if d is not None]
            total, rest = math.prod(x for x in source if x is not None), math.prod(known)
            if rest and total % rest == 0:
                dims[[int(v) for v in target].index(-1)] = total // rest
        return tuple(dims)
    source = _layout_shape(w, p.inputs[0], depth - 1)
    if source is None:
        return None
    if kind == "Transpose":
        perm = p.attrs.get("perm") or tuple(reversed(range(len(source))))
        return tuple(source[a] for a in perm) if len(perm) == len(source) else None
    if kind == "Flatten":
        axis = int(p.attrs.get("axis", 1)) % (len(source) or 1)
        return (_product(source[:axis]), _product(source[axis:]))
    axes = p.attrs.get("axes")
    if kind == "Unsqueeze" and axes is not None:
        rank = len(source) + len(axes)
        inserted = {int(a) % rank for a in axes}
        kept = iter(source)
        return tuple(1 if k in inserted else next(kept) for k in range(rank))
    if kind == "Squeeze":
        if axes is None:
            return None if None in source else tuple(d for d in source if d != 1)
        removed = {int(a) % len(source) for a in axes} if source else set()
        return tuple(d for k, d in enumerate(source) if k not in removed)
    return None


def _product(dims: _Dims) -> int | None:
    """The element count of known dimensions, ``None`` when any is unknown."""
    known = [d for d in dims if d is not None]
    return math.prod(known) if len(known) == len(dims) else None


def _same(a: int | None, b: int | None) -> bool:
    """Equal, or not known to differ."""
    return a is None or b is None or a == b


def _splits_axis(before: _Dims, after: _Dims, k: int) -> bool:
    """True unless the known dimensions refute that ``after`` is ``before`` with axis ``k`` split in
    two (axes ``k`` and ``k + 1`` of ``after``)."""
    if len(after) != len(before) + 1 or not 0 <= k < len(before):
        return False
    kept = zip(before[:k] + before[k + 1 :], after[:k] + after[k + 2 :], strict=True)
    if not all(_same(a, b) for a, b in kept):
        return False
    g, c = after[k], after[k + 1]
    return g is None or c is None or _same(before[k], g * c)


def _is_channel_shuffle(w: _Work, n: _N) -> bool:
    """A ``Transpose`` between two ``Reshape``s that swaps two adjacent axes of a tensor of rank ≥ 5:
    ShuffleNet's channel shuffle ((N, C, H, W) → (N, g, C/g, H, W) → swap g and C/g → back). As far
    as shapes are known, the first Reshape must split one axis into exactly the two swapped axes
    (g × C/g) and the last must give back the shape the first one read: splitting attention heads
    (TensorFlow's Einsum lowering swaps the sequence and head axes) fails that."""
    perm = n.attrs.get("perm")
    if n.op != "Transpose" or not perm or len(perm) < 5 or not n.inputs or not n.outputs:
        return False
    moved = [k for k, a in enumerate(perm) if a != k]
    if len(moved) != 2 or moved[1] != moved[0] + 1:
        return False
    p = w.producer_of(n.inputs[0])
    c = w.sole_consumer(n.outputs[0])
    if p is None or p.op != "Reshape" or c is None or c.op != "Reshape" or not p.inputs:
        return False
    before, split = _layout_shape(w, p.inputs[0]), _layout_shape(w, n.inputs[0])
    if before is not None and split is not None and not _splits_axis(before, split, moved[0]):
        return False
    back = _layout_shape(w, c.outputs[0]) if c.outputs else None
    if back is not None and split is not None and len(back) != len(split) - 1:
        return False
    if back is not None and before is not None:
        return len(back) == len(before) and all(_same(a, b) for a, b in zip(back, before, strict=True))
    return True


def collapse_layout_chains(w: _Work) -> int:
    """A chain of layout ops (``Reshape``, ``Transpose``, and ``Flatten``/``Squeeze``/``Unsqueeze``,
    which read as ``Reshape``) is one op: ``Transpose`` when any link permutes axes, else ``Reshape``.
    Exporters split attention heads with Reshape→Transpose or Reshape→Transpose→Reshape→Transpose…;
    all read as one ``Transpose``. A channel shuffle's Reshape→Transpose→Reshape stays as it is: it
    reorders channels on purpose (an architecture feature), and its ``perm`` says so."""
    count = 0
    shuffles = {id(n) for n in w.of_op("Transpose") if _is_channel_shuffle(w, n)}
    for head in w.of_op(*_LAYOUT):
        if not head.alive or not head.inputs or not head.outputs or id(head) in shuffles:
            continue
        p = w.producer_of(head.inputs[0])
        if (
            p is not None
            and p.op in _LAYOUT
            and id(p) not in shuffles
            and w.sole_consumer(head.inputs[0]) is head
        ):
            continue  # not the head of its chain
        chain = [head]
        t = head.outputs[0]
        for _ in range(_MAX_WALK):
            nxt = w.sole_consumer(t)
            if (
                nxt is None
                or nxt.op not in _LAYOUT
                or id(nxt) in shuffles
                or nxt in chain
                or nxt.inputs[:1] != [t]
            ):
                break
            chain.append(nxt)
            t = nxt.outputs[0]
        if len(chain) < 2:
            continue
        op = "Transpose" if any(n.op == "Transpose" for n in chain) else "Reshape"
        w.fuse(chain, op, [head.inputs[0]], chain[-1])
        count += 1
    return count


# --------------------------------------------------------------------------------------------------
# Rules: activations
# --------------------------------------------------------------------------------------------------
def _clip_bounds(w: _Work, n: _N) -> tuple[float | None, float | None, bool]:
    """(min, max, known): bounds from attributes (opset < 11) or constant inputs (opset ≥ 11)."""
    lo: float | None = None
    hi: float | None = None
    if "min" in n.attrs or "max" in n.attrs:
        lo = float(n.attrs["min"]) if "min" in n.attrs else None
        hi = float(n.attrs["max"]) if "max" in n.attrs else None
    for k in (1, 2):
        if len(n.inputs) > k and n.inputs[k]:
            v = w.scalar(n.inputs[k])
            if v is None:
                return None, None, False
            if k == 1:
                lo = v
            else:
                hi = v
    return lo, hi, True


def canonical_clip(w: _Work) -> int:
    """``Clip(0, 6)`` → ``Relu6``; ``Clip(0, ∞)`` → ``Relu``; in attribute (opset < 11) or input form."""
    count = 0
    for n in w.of_op("Clip"):
        lo, hi, known = _clip_bounds(w, n)
        if not known or not _close(lo, 0.0):
            continue
        if _close(hi, 6.0):
            n.op = "Relu6"
        elif hi is None or math.isinf(hi) or hi > 3.0e38:
            n.op = "Relu"
        else:
            continue
        n.attrs = {}
        w.set_inputs(n, n.inputs[:1])
        count += 1
    return count


def _product_chain(
    w: _Work, start: str, x: str | None, factor: float, group: list[_N]
) -> tuple[_N, list[_N]] | None:
    """Follow ``start`` through single-reader ``Mul``/``Div`` nodes until the factors met are ``x``
    (unless None) and constants whose product is ``factor``. A non-constant factor that is itself a
    private ``Mul(x, c)`` counts as x and c. Returns the last node and the nodes walked."""
    walked: list[_N] = []
    t = start
    have_x = x is None
    product = 1.0
    for _ in range(_MAX_WALK):
        if have_x and _close(product, factor):
            return (walked[-1], walked) if walked else None
        n = w.sole_consumer(t)
        if n is None or n in walked or n in group or n.op not in ("Mul", "Div") or not n.outputs:
            return None
        o = _other(n, t)
        if o is None:
            return None
        if n.op == "Div" and n.inputs[0] != t:
            return None
        c = w.scalar(o) if w.is_const(o) else None
        if c is not None:
            if n.op == "Div":
                if c == 0:
                    return None
                c = 1.0 / c
            product *= c
        elif n.op == "Mul" and not have_x and o == x:
            have_x = True
        elif n.op == "Mul" and not have_x and x is not None:
            q = w.producer_of(o)
            if q is None or q.op != "Mul" or q in walked or w.sole_consumer(o) is not n:
                return None
            qo = _other(q, x)
            qc = w.scalar(qo) if qo is not None and w.is_const(qo) else None
            if qc is None:
                return None
            have_x = True
            product *= qc
            walked.append(q)
        else:
            return None
        walked.append(n)
        t = n.outputs[0]
    return None


def fuse_hard_activations(w: _Work) -> int:
    """``HardSigmoid`` and ``HardSwish`` in all their spellings:
    ``Clip(x+3, 0, 6)/6`` (after ``canonical_clip``: ``Relu6(x+3)/6``) → ``HardSigmoid``;
    ``x·HardSigmoid(x)`` and ``x·Relu6(x+3)/6`` → ``HardSwish``."""
    count = 0
    for r in w.of_op("Relu6"):
        if not r.alive or not r.inputs:
            continue
        add = w.producer_of(r.inputs[0])
        if add is None or add.op != "Add" or w.sole_consumer(r.inputs[0]) is not r:
            continue
        x = next((t for t in add.inputs if not w.is_const(t)), None)
        three = _other(add, x) if x is not None else None
        if x is None or three is None or not _close(w.scalar(three), 3.0):
            continue
        swish = _product_chain(w, r.outputs[0], x, 1.0 / 6.0, [add, r])
        if swish is not None:
            last, walked = swish
            w.fuse([add, r, *walked], "HardSwish", [x], last)
            count += 1
            continue
        sigmoid = _product_chain(w, r.outputs[0], None, 1.0 / 6.0, [add, r])
        if sigmoid is not None:
            last, walked = sigmoid
            w.fuse([add, r, *walked], "HardSigmoid", [x], last)
            count += 1
    for h in w.of_op("HardSigmoid"):
        if not h.alive or not h.inputs or not h.outputs:
            continue
        alpha = float(h.attrs.get("alpha", 0.2))
        beta = float(h.attrs.get("beta", 0.5))
        if not (_close(alpha, 1.0 / 6.0) and _close(beta, 0.5)):
            continue
        x = h.inputs[0]
        m = w.sole_consumer(h.outputs[0])
        if m is not None and m.op == "Mul" and _other(m, h.outputs[0]) == x:
            w.fuse([h, m], "HardSwish", [x], m)
            count += 1
    return count


def fuse_sigmoid_gates(w: _Work) -> int:
    """``x·Sigmoid(x)`` → ``SiLU``; ``x·Sigmoid(1.702·x)`` → ``QuickGelu``; ``Swish`` → ``SiLU``;
    ``x·Tanh(Softplus(x))`` → ``Mish``."""
    count = 0
    for s in w.of_op("Swish"):
        if _close(float(s.attrs.get("alpha", 1.0)), 1.0):
            s.op, s.attrs = "SiLU", {}
            count += 1
    for s in w.of_op("Sigmoid", "Tanh"):
        if not s.alive or not s.inputs or not s.outputs:
            continue
        u = s.inputs[0]
        m = w.sole_consumer(s.outputs[0])
        if m is None or m.op != "Mul":
            continue
        x = _other(m, s.outputs[0])
        if x is None:
            continue
        if s.op == "Sigmoid" and u == x:
            w.fuse([s, m], "SiLU", [x], m)
            count += 1
            continue
        inner = w.producer_of(u)
        if inner is None or w.sole_consumer(u) is not s:
            continue
        if s.op == "Sigmoid" and inner.op == "Mul" and _other(inner, x) is not None:
            c = _other(inner, x)
            if c is not None and _close(w.scalar(c), 1.702):
                w.fuse([inner, s, m], "QuickGelu", [x], m)
                count += 1
        elif s.op == "Tanh" and inner.op == "Softplus" and inner.inputs[:1] == [x]:
            w.fuse([inner, s, m], "Mish", [x], m)
            count += 1
    return count


_POLY_OPS = frozenset({"Mul", "Add", "Pow", "Div"})


def _polynomial_of(w: _Work, root: str, owner: _N) -> tuple[str, list[_N], list[float]] | None:
    """When ``root`` is a private polynomial of one tensor x (Mul/Add/Pow/Div of x and constants),
    return x, the nodes computing it and the constants used."""
    nodes: list[_N] = []
    consts: list[float] = []
    leaf: str | None = None
    stack = [root]
    members: list[_N] = [owner]
    steps = 0
    while stack:
        steps += 1
        if steps > _MAX_WALK:
            return None
        t = stack.pop()
        if w.is_const(t):
            v = w.scalar(t)
            if v is None:
                return None
            consts.append(v)
            continue
        p = w.producer_of(t)
        if p is not None and p.op in _POLY_OPS and p not in nodes and w.private(t, members):
            nodes.append(p)
            members.append(p)
            stack.extend(p.inputs)
            continue
        if leaf is None:
            leaf = t
        elif leaf != t:
            return None
    if leaf is None:
        return None
    return leaf, nodes, consts


def _erf_argument(w: _Work, e: _N) -> tuple[str, _N] | None:
    """For ``Erf(x/√2)`` (``Div(x, 1.414)`` or ``Mul(x, 0.7071)``): x and the scaling node."""
    p = w.producer_of(e.inputs[0])
    if p is None or w.sole_consumer(e.inputs[0]) is not e or len(p.inputs) != 2:
        return None
    for k in (0, 1):
        x, c = p.inputs[k], p.inputs[1 - k]
        v = w.scalar(c) if w.is_const(c) else None
        if v is None or w.is_const(x):
            continue
        if p.op == "Div" and k == 0 and _close(v, math.sqrt(2.0)):
            return x, p
        if p.op == "Mul" and _close(v, math.sqrt(0.5)):
            return x, p
    return None


def fuse_gelu(w: _Work) -> int:
    """Gelu's decompositions → ``Gelu``: erf form ``x·0.5·(1+Erf(x/√2))`` and tanh form
    ``0.5·x·(1+Tanh(√(2/π)·(x+0.044715·x³)))``, with the factors in any order or grouping."""
    count = 0
    for e in w.of_op("Erf", "Tanh"):
        if not e.alive or not e.inputs or not e.outputs:
            continue
        head: list[_N]
        if e.op == "Erf":
            arg = _erf_argument(w, e)
            if arg is None:
                continue
            x, scale = arg
            head = [scale]
        else:
            poly = _polynomial_of(w, e.inputs[0], e)
            if poly is None:
                continue
            x, head, consts = poly
            if not any(_close(c, 0.044715) or _close(c, 0.044715 * math.sqrt(2 / math.pi)) for c in consts):
                continue
        add = w.sole_consumer(e.outputs[0])
        if add is None or add.op != "Add" or not _close(w.scalar(_other(add, e.outputs[0]) or ""), 1.0):
            continue
        chain = _product_chain(w, add.outputs[0], x, 0.5, [*head, e, add])
        if chain is None:
            continue
        last, walked = chain
        w.fuse([*head, e, add, *walked], "Gelu", [x], last)
        count += 1
    return count


# --------------------------------------------------------------------------------------------------
# Rules: normalisation layers
# --------------------------------------------------------------------------------------------------
def _square_of(w: _Work, t: str, group: list[_N]) -> _N | None:
    """The private node computing t² (``Pow(t, 2)`` or ``Mul(t, t)``) among t's readers."""
    for c in w.consumers(t):
        if c in group or not c.outputs:
            continue
        if c.op == "Pow" and c.inputs[0] == t and len(c.inputs) > 1 and _close(w.scalar(c.inputs[1]), 2.0):
            return c
        if c.op == "Mul" and len(c.inputs) == 2 and c.inputs[0] == c.inputs[1] == t:
            return c
    return None


def _inverse_sqrt_times(w: _Work, var: str, x: str, group: list[_N]) -> tuple[_N, list[_N], str] | None:
    """From ``var`` (mean of squares): ``Add(eps)`` then x / sqrt(·) in any spelling (Sqrt+Div,
    Sqrt+Reciprocal+Mul, Div(1, Sqrt)+Mul, Pow(-0.5)+Mul). Returns the last node, the nodes, and eps."""
    a = w.sole_consumer(var)
    if a is None or a.op != "Add":
        return None
    eps_name = _other(a, var)
    if eps_name is None or w.scalar(eps_name) is None:
        return None
    walked = [a]
    t = a.outputs[0]
    s = w.sole_consumer(t)
    if s is None:
        return None
    if s.op == "Pow" and len(s.inputs) > 1 and _close(w.scalar(s.inputs[1]), -0.5):
        walked.append(s)
        inv = s.outputs[0]
    elif s.op == "Sqrt":
        walked.append(s)
        st = s.outputs[0]
        d = w.sole_consumer(st)
        if d is None:
            # Div(x, sqrt) may share sqrt with nothing else; look among readers
            return None
        if d.op == "Div" and d.inputs == [x, st]:
            walked.append(d)
            return d, walked, eps_name
        one_over = d.op == "Div" and d.inputs[1] == st and _close(w.scalar(d.inputs[0]), 1.0)
        if d.op != "Reciprocal" and not one_over:
            return None
        walked.append(d)
        inv = d.outputs[0]
    else:
        return None
    m = w.sole_consumer(inv)
    if m is None or m.op != "Mul" or _other(m, inv) != x:
        return None
    walked.append(m)
    return m, walked, eps_name


def _affine_tail(w: _Work, t: str, ops: tuple[str, ...]) -> tuple[list[_N], list[str]]:
    """Optional ``Mul(·, γ)`` then ``Add(·, β)`` by constants (``ops`` says which may follow),
    allowing one ``Cast`` before them (LLaMA casts back to the input type before the weight)."""
    walked: list[_N] = []
    params: list[str] = []
    for op in ops:
        n = w.sole_consumer(t)
        if n is not None and n.op == "Cast" and op == "Mul" and not walked:
            after = w.sole_consumer(n.outputs[0])
            if after is not None and after.op == "Mul":
                o = _other(after, n.outputs[0])
                if o is not None and w.is_const(o):
                    walked.extend([n, after])
                    params.append(o)
                    t = after.outputs[0]
                    continue
        if n is None or n.op != op:
            break
        o = _other(n, t)
        if o is None or not w.is_const(o):
            break
        walked.append(n)
        params.append(o)
        t = n.outputs[0]
    return walked, params


def fuse_layernorm(w: _Work) -> int:
    """``ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div`` (optionally ``·γ + β``) → ``LayerNorm``."""
    count = 0
    for sub in w.of_op("Sub"):
        if not sub.alive or len(sub.inputs) != 2:
            continue
        x, mean_t = sub.inputs
        mean = w.producer_of(mean_t)
        if mean is None or mean.op != "ReduceMean" or mean.inputs[:1] != [x]:
            continue
        if w.sole_consumer(mean_t) is not sub:
            continue
        d = sub.outputs[0]
        group = [mean, sub]
        sq = _square_of(w, d, group)
        if sq is None:
            continue
        var = w.sole_consumer(sq.outputs[0])
        if var is None or var.op != "ReduceMean":
            continue
        group += [sq, var]
        tail = _inverse_sqrt_times(w, var.outputs[0], d, group)
        if tail is None:
            continue
        last, walked, _eps = tail
        group += walked
        if not w.private(d, group):
            continue
        affine, params = _affine_tail(w, last.outputs[0], ("Mul", "Add"))
        group += affine
        w.fuse(group, "LayerNorm", [x, *params], group[-1])
        count += 1
    return count


_MEANS = frozenset({"ReduceMean", "GlobalAveragePool"})


def _scaled_norm_parts(w: _Work, neg: _N) -> tuple[str, list[_N], list[str], _N] | None:
    """TensorFlow's LayerNorm from ``Neg(mean)``: mean = mean(x), s = γ·1/sqrt(var(x − mean) + ε),
    y = x·s + (β − mean·s). Returns x, the nodes, [γ, β] and the last node."""
    mean_t = neg.inputs[0] if neg.inputs else ""
    mean = w.producer_of(mean_t)
    if mean is None or mean.op not in _MEANS or not mean.inputs:
        return None
    x = mean.inputs[0]
    readers = w.consumers(mean_t)
    sub = next((c for c in readers if c.op == "Sub" and c.inputs == [x, mean_t]), None)
    if sub is None or len(readers) != 2:
        return None
    group = [mean, neg, sub]
    sq = _square_of(w, sub.outputs[0], group)
    var = w.sole_consumer(sq.outputs[0]) if sq is not None else None
    if sq is None or var is None or var.op not in _MEANS:
        return None
    group += [sq, var]
    a = w.sole_consumer(var.outputs[0])
    if a is None or a.op != "Add" or w.scalar(_other(a, var.outputs[0]) or "") is None:
        return None
    r = w.sole_consumer(a.outputs[0])
    if r is not None and r.op == "Sqrt":
        group += [a, r]
        r = w.sole_consumer(r.outputs[0])
        if r is None or r.op != "Reciprocal":
            return None
    elif r is None or r.op != "Pow" or not _close(w.scalar(r.inputs[1]) if len(r.inputs) > 1 else None, -0.5):
        return None
    else:
        group.append(a)
    group.append(r)
    scale = r.outputs[0]
    params: list[str] = []
    g = w.sole_consumer(scale)
    if g is not None and g.op == "Mul" and w.is_const(_other(g, scale) or ""):
        group.append(g)
        params.append(_other(g, scale) or "")
        scale = g.outputs[0]
    muls = w.consumers(scale)
    mx = next((c for c in muls if c.op == "Mul" and set(c.inputs) == {x, scale}), None)
    mn = next((c for c in muls if c.op == "Mul" and set(c.inputs) == {neg.outputs[0], scale}), None)
    if mx is None or mn is None or len(muls) != 2:
        return None
    group += [mx, mn]
    shift = w.sole_consumer(mn.outputs[0])
    if shift is not None and shift.op == "Add" and w.is_const(_other(shift, mn.outputs[0]) or ""):
        group.append(shift)
        params.append(_other(shift, mn.outputs[0]) or "")
        shifted = shift.outputs[0]
    else:
        shifted = mn.outputs[0]
    last = w.sole_consumer(shifted)
    if last is None or last.op != "Add" or set(last.inputs) != {mx.outputs[0], shifted}:
        return None
    group.append(last)
    return x, group, params, last


def fuse_scaled_layernorm(w: _Work) -> int:
    """TensorFlow/Keras ``LayerNormalization`` as tf2onnx writes it (the mean read twice, once by a
    ``Neg``): y = x·s + (β − mean·s) with s = γ·Reciprocal(Sqrt(var + ε)) → ``LayerNorm``, as the
    ``(x − mean)/sqrt(var + ε)·γ + β`` spelling reads."""
    count = 0
    for neg in w.of_op("Neg"):
        if not neg.alive:
            continue
        parts = _scaled_norm_parts(w, neg)
        if parts is None:
            continue
        x, group, params, last = parts
        inner = [t for n in group if n is not last for t in n.outputs if t]
        if not all(w.private(t, group) for t in inner):
            continue
        w.fuse(group, "LayerNorm", [x, *params], last)
        count += 1
    return count


def fuse_groupnorm(w: _Work) -> int:
    """``GroupNormalization`` and torch's export of GroupNorm (Reshape to groups → InstanceNormalization
    → Reshape back → ·γ + β, the last three optional) → ``GroupNorm``. An InstanceNormalization not fed
    by a Reshape is a real instance norm and stays."""
    count = 0
    for n in w.of_op("GroupNormalization"):
        n.op = "GroupNorm"
        count += 1
    for n in w.of_op("InstanceNormalization"):
        if not n.alive or not n.inputs or not n.outputs:
            continue
        before = w.producer_of(n.inputs[0])
        if before is None or before.op != "Reshape" or w.sole_consumer(n.inputs[0]) is not n:
            continue
        group = [before, n]
        t = n.outputs[0]
        after = w.sole_consumer(t)
        if after is not None and after.op == "Reshape" and after.inputs[:1] == [t]:
            group.append(after)
            t = after.outputs[0]
        affine, params = _affine_tail(w, t, ("Mul", "Add"))
        group += affine
        w.fuse(group, "GroupNorm", [before.inputs[0], *params], group[-1])
        count += 1
    return count


def fuse_rmsnorm(w: _Work) -> int:
    """``x·rsqrt(mean(x²)+eps)`` (Pow or Mul for the square; Sqrt with Div or Reciprocal, or Pow(-0.5))
    optionally times a weight → ``RMSNorm`` (LLaMA, T5, Mistral…)."""
    count = 0
    for r in w.of_op("ReduceMean"):
        if not r.alive or not r.inputs:
            continue
        sq = w.producer_of(r.inputs[0])
        if sq is None or w.sole_consumer(r.inputs[0]) is not r:
            continue
        squared = sq.op == "Pow" and len(sq.inputs) > 1 and _close(w.scalar(sq.inputs[1]), 2.0)
        if not squared and not (sq.op == "Mul" and len(sq.inputs) == 2 and sq.inputs[0] == sq.inputs[1]):
            continue
        x = sq.inputs[0]
        group = [sq, r]
        tail = _inverse_sqrt_times(w, r.outputs[0], x, group)
        if tail is None:
            continue
        last, walked, _eps = tail
        group += walked
        affine, params = _affine_tail(w, last.outputs[0], ("Mul",))
        group += affine
        w.fuse(group, "RMSNorm", [x, *params], group[-1])
        count += 1
    return count


# --------------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------------
Rule = Callable[[_Work], int]

RULES: tuple[Rule, ...] = (
    fold_constant_nodes,
    canonical_op_names,
    map_quantised_ops,
    split_fused_runtime_ops,
    remove_quantisation_plumbing,
    fold_constant_subgraphs,
    absorb_integer_rescale,
    remove_identity,
    remove_dropout,
    remove_noop_cast,
    remove_nan_guards,
    fold_shape_plumbing,
    fold_index_plumbing,
    fold_constant_subgraphs,
    remove_zero_addition,
    remove_batchnorm_after_conv,
    absorb_padding,
    canonical_global_pools,
    split_into_slices,
    window_attributes,
    canonical_clip,
    fuse_hard_activations,
    fuse_sigmoid_gates,
    fuse_gelu,
    fuse_layernorm,
    fuse_scaled_layernorm,
    fuse_rmsnorm,
    fuse_groupnorm,
    remove_scalar_scaling,
    absorb_flattened_matmul,
    absorb_constant_affine,
    collapse_layout_chains,
    remove_dead_nodes,
)


def normalise(graph: ModelGraph, rules: Iterable[Rule] = RULES) -> ModelGraph:
    """The canonical form of a raw graph: ``rules`` applied in order (default: all, see ``RULES``).

    Returns a new ``ModelGraph``; ``normalisation`` counts how often each rule fired and
    ``nodes_before_normalisation`` keeps the raw node count.
    """
    w = _Work(graph)
    for rule in rules:
        fired = rule(w)
        if fired:
            w.fired[rule.__name__] += fired
    return w.result()
