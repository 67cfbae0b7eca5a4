"""The values ingest hands to the later stages: ``ModelGraph`` (normalised op graph) and ``ModelInfo``.

Both are frozen dataclasses. A ``ModelGraph`` holds only structure (ops, data-flow edges, tensor
shapes, initializer shapes); never weight values.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

__all__ = ["Initializer", "ModelGraph", "ModelInfo", "OpNode"]

# A dimension is a known size, a symbolic name ("batch") or unknown (None).
Dim = int | str | None
Shape = tuple[Dim, ...]


@dataclass(frozen=True)
class OpNode:
    """One operator of the (flattened, normalised) graph.

    ``name`` is unique inside its graph; ``origin`` names the node(s) of the original file it came
    from, with the path through subgraphs and inlined functions (``If_3/then_branch/Conv_1``).
    """

    name: str
    op: str  # canonical op name after normalisation (Conv, Relu6, Gelu, LayerNorm, HardSwish, ...)
    original_op: str  # op type as written in the file (possibly several fused: "Mul+Sigmoid")
    domain: str = ""
    inputs: tuple[str, ...] = ()  # tensor names consumed, in order ("" for an omitted optional input)
    outputs: tuple[str, ...] = ()  # tensor names produced
    attributes: Mapping[str, Any] = field(default_factory=dict)  # only attributes that matter
    origin: str = ""
    quantised: bool = False  # came from a quantised op (QLinearConv, MatMulInteger, QDQ pair)


@dataclass(frozen=True)
class Initializer:
    """A weight tensor's identity and shape: never its values."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def size(self) -> int:
        """Number of elements (1 for a scalar)."""
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class ModelGraph:
    """A normalised, format-independent operator graph.

    ``edges`` are data-flow edges between node indices (producer -> consumer), derived from tensor
    names; ``tensor_shapes`` holds shapes where the file states them.
    """

    nodes: tuple[OpNode, ...]
    edges: tuple[tuple[int, int], ...]
    initializers: tuple[Initializer, ...] = ()
    inputs: tuple[str, ...] = ()  # graph inputs that are not initializers
    outputs: tuple[str, ...] = ()
    tensor_shapes: Mapping[str, Shape] = field(default_factory=dict)

    def op_histogram(self) -> Counter[str]:
        """Count of each canonical op."""
        return Counter(n.op for n in self.nodes)

    @property
    def parameter_count(self) -> int:
        """Total number of weight elements over all initializers."""
        return sum(i.size for i in self.initializers)

    def to_networkx(self) -> nx.DiGraph:
        """A DiGraph with node index keys and an ``op`` attribute on each node."""
        g = nx.DiGraph()
        for i, n in enumerate(self.nodes):
            g.add_node(i, op=n.op)
        g.add_edges_from(self.edges)
        return g

    def wl_hash(self, iterations: int = 3) -> str:
        """Architecture fingerprint: Weisfeiler-Lehman hash over canonical ops and data-flow edges.

        Equal for the same architecture whatever its weights or node names; initializer shapes
        are deliberately left out so that the hash names the architecture, not the model size
        (size lives in ``parameter_count``).
        """
        labels = [n.op for n in self.nodes]
        preds: list[list[int]] = [[] for _ in self.nodes]
        succs: list[list[int]] = [[] for _ in self.nodes]
        for a, b in self.edges:
            succs[a].append(b)
            preds[b].append(a)
        history: Counter[str] = Counter(labels)
        for _ in range(iterations):
            labels = [
                _digest(
                    labels[i]
                    + "|<"
                    + ",".join(sorted(labels[p] for p in preds[i]))
                    + "|>"
                    + ",".join(sorted(labels[s] for s in succs[i]))
                )
                for i in range(len(labels))
            ]
            history.update(labels)
        canonical = ";".join(f"{k}:{v}" for k, v in sorted(history.items()))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class ModelInfo:
    """Identity and metadata of one model file (DESIGN.md "Core values")."""

    sha256: str
    path: str
    format: str
    producer: str = ""
    opset: int | None = None
    size_bytes: int = 0
    params: int = 0
    # Metadata, when a card, config or manifest row gives it.
    name: str = ""
    hub_id: str = ""
    publisher: str = ""
    license: str = ""  # SPDX id where one exists, else the hub's id (llama3.1, openrail, ...)
    license_name: str = ""
    license_link: str = ""
    base_models: tuple[str, ...] = ()
    base_model_relation: str = ""
    datasets: tuple[str, ...] = ()
    task: str = ""  # pipeline_tag
    library_name: str = ""
    tags: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    model_type: str = ""
