"""ModelGraph values and the architecture hash (wl_hash): what it must and must not see."""

from __future__ import annotations

import csv
import random
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import numpy_helper

from modelgenes.ingest.formats import read_model
from modelgenes.ingest.formats.onnx import graph_from_proto
from modelgenes.ingest.graph import Initializer, ModelGraph, OpNode, structural_label
from tests.unit.ingest.onnx_models import LIGHT_ZOO, model, node, norm, save

ZOO = Path(__file__).resolve().parents[2] / "data" / "zoo"


def chain(*ops: str) -> ModelGraph:
    nodes = tuple(OpNode(name=f"n{i}", op=op, original_op=op) for i, op in enumerate(ops))
    return ModelGraph(nodes=nodes, edges=tuple((i, i + 1) for i in range(len(ops) - 1)))


def test_hash_ignores_node_names_and_order() -> None:
    a = chain("Conv", "Relu", "MaxPool")
    renamed = ModelGraph(
        nodes=tuple(OpNode(name=f"other{i}", op=n.op, original_op=n.op) for i, n in enumerate(a.nodes)),
        edges=a.edges,
    )
    reordered = ModelGraph(nodes=tuple(reversed(a.nodes)), edges=((2, 1), (1, 0)))
    assert a.wl_hash() == renamed.wl_hash() == reordered.wl_hash()


def test_hash_sees_ops_and_wiring() -> None:
    base = chain("Conv", "Relu", "MaxPool")
    assert base.wl_hash() != chain("Conv", "Sigmoid", "MaxPool").wl_hash()
    assert base.wl_hash() != chain("Conv", "MaxPool", "Relu").wl_hash()
    fan = ModelGraph(nodes=base.nodes, edges=((0, 1), (0, 2)))
    assert base.wl_hash() != fan.wl_hash()


def test_hash_is_64_hex_digits_and_stable() -> None:
    # A fixed value: archHashes are stored, so the hash must not drift between versions unnoticed.
    h = chain("Conv", "Relu").wl_hash()
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == chain("Conv", "Relu").wl_hash()
    assert ModelGraph(nodes=(), edges=()).wl_hash() != h


def test_structural_label_names_kernels_strides_and_depthwise() -> None:
    conv = OpNode(
        name="c",
        op="Conv",
        original_op="Conv",
        attributes={
            "kernel_shape": (3, 3),
            "strides": (2, 2),
            "dilations": (1, 1),
            "group": 8,
            "depthwise": True,
        },
    )
    assert structural_label(conv) == "Conv/k3x3/s2x2/d1x1/dw"
    assert structural_label(OpNode(name="r", op="Relu", original_op="Relu")) == "Relu"


def test_light_zoo_architectures_all_hash_differently() -> None:
    hashes = {p.stem: read_model(p)[0].wl_hash() for p in sorted(LIGHT_ZOO.glob("*.onnx"))}
    assert len(set(hashes.values())) == len(hashes), hashes


def test_same_architecture_with_other_weights_hashes_alike(tmp_path: Path) -> None:
    m = onnx.load(LIGHT_ZOO / "light_squeezenet.onnx")
    rng = np.random.default_rng(0)
    for t in m.graph.initializer:
        values = numpy_helper.to_array(t)
        if values.dtype.kind == "f":
            t.CopyFrom(
                numpy_helper.from_array(rng.standard_normal(values.shape).astype(values.dtype), t.name)
            )
    m.producer_name = "someone else"
    other = save(m, tmp_path / "retrained.onnx")
    a, info_a = read_model(LIGHT_ZOO / "light_squeezenet.onnx")
    b, info_b = read_model(other)
    assert info_a.sha256 != info_b.sha256
    assert a.wl_hash() == b.wl_hash()


def test_parameter_count_counts_weights_only() -> None:
    g = ModelGraph(
        nodes=(),
        edges=(),
        initializers=(
            Initializer("w", (64, 32), "float"),
            Initializer("q", (8, 8), "int8"),
            Initializer("position_ids", (1, 512), "int64"),
            Initializer("eps", (), "float"),
        ),
    )
    assert g.parameter_count == 64 * 32 + 64


def test_op_histogram_and_networkx_view() -> None:
    g = chain("Conv", "Relu", "Conv")
    assert g.op_histogram() == {"Conv": 2, "Relu": 1}
    nx_graph = g.to_networkx()
    assert nx_graph.number_of_nodes() == 3 and list(nx_graph.edges) == [(0, 1), (1, 2)]
    assert nx_graph.nodes[1]["op"] == "Relu"


def test_hash_of_200k_nodes_takes_well_under_a_second() -> None:
    n = 200_000
    rng = random.Random(1)
    ops = ("Conv", "Relu", "Add", "MatMul", "Softmax")
    nodes = tuple(OpNode(name=str(i), op=ops[rng.randrange(5)], original_op="") for i in range(n))
    edges = tuple((i, i + 1) for i in range(n - 1)) + tuple((i, i + 7) for i in range(0, n - 7, 3))
    g = ModelGraph(nodes=nodes, edges=edges)
    start = time.perf_counter()
    g.wl_hash()
    assert time.perf_counter() - start < 1.0


# --- noise never changes the hash --------------------------------------------------------------------
_OPS = ("Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Softplus")


@st.composite
def random_dag(draw: st.DrawFn) -> tuple[list[tuple[str, list[int]]], list[int]]:
    """Nodes as (op, inputs as earlier node indices, -1 = the graph input) and the output nodes."""
    count = draw(st.integers(min_value=1, max_value=14))
    nodes: list[tuple[str, list[int]]] = []
    for i in range(count):
        op = draw(st.sampled_from((*_OPS, "Add", "Mul")))
        arity = 2 if op in ("Add", "Mul") else 1
        inputs = [draw(st.integers(min_value=-1, max_value=i - 1)) for _ in range(arity)]
        nodes.append((op, inputs))
    used = {j for _, ins in nodes for j in ins}
    outputs = [i for i in range(count) if i not in used] or [count - 1]
    return nodes, outputs


def build(dag: tuple[list[tuple[str, list[int]]], list[int]], noise: dict[int, str]) -> onnx.ModelProto:
    """The DAG as ONNX, with a noise op (Identity, Dropout, no-op Cast) after the nodes in ``noise``."""
    nodes, outputs = dag
    protos = []

    def name(j: int) -> str:
        return "x" if j < 0 else (f"n{j}" if j not in noise else f"z{j}")

    for i, (op, inputs) in enumerate(nodes):
        protos.append(node(op, [name(j) for j in inputs], [f"n{i}"]))
        if i in noise:
            kind = noise[i]
            extra = {"to": 1} if kind == "Cast" else {}
            protos.append(node(kind, [f"n{i}"], [f"z{i}"], **extra))
    return model(protos, outputs=[name(i) for i in outputs])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag=random_dag(), data=st.data())
def test_inserting_noise_ops_anywhere_never_changes_the_hash(
    dag: tuple[list[tuple[str, list[int]]], list[int]], data: st.DataObject
) -> None:
    count = len(dag[0])
    where = data.draw(st.lists(st.integers(min_value=0, max_value=count - 1), unique=True, max_size=count))
    noise = {i: data.draw(st.sampled_from(("Identity", "Dropout", "Cast"))) for i in where}
    clean, noisy = norm(build(dag, {})), norm(build(dag, noise))
    assert clean.op_histogram() == noisy.op_histogram()
    assert clean.wl_hash() == noisy.wl_hash()


@settings(max_examples=30, deadline=None)
@given(dag=random_dag(), seed=st.integers(min_value=0, max_value=2**16))
def test_node_order_in_the_file_never_changes_the_hash(
    dag: tuple[list[tuple[str, list[int]]], list[int]], seed: int
) -> None:
    m = build(dag, {})
    shuffled = onnx.ModelProto()
    shuffled.CopyFrom(m)
    protos = list(shuffled.graph.node)
    random.Random(seed).shuffle(protos)
    del shuffled.graph.node[:]
    shuffled.graph.node.extend(protos)
    a = graph_from_proto(m)[0]
    b = graph_from_proto(shuffled)[0]
    assert a.wl_hash() == b.wl_hash()


# --- the labelled corpus: exporters, opsets and quantisation read alike ---------------------------------
# Known misses (like semgrep's todoruleid): groups whose exports still differ after normalisation.
KNOWN_MISSES = {
    "alexnet-lrn": "dynamo decomposes LRN (Pow/AveragePool/Pad/Div); no LRN fusion yet",
    "lstm-unrolled": "one extra bias Add in the TorchScript cell",
    "fourier-mlp": "TorchScript keeps two Where nodes dynamo folds",
    "mamba": "selective-scan plumbing differs between exporters",
    "rwkv": "ScatterND vs ScatterElements state updates",
    "t5": "relative-position bucket arithmetic differs by opset",
}


def zoo_groups() -> list[tuple[str, str, list[Path]]]:
    """(architecture, group id, files) for each model exported more than one way."""
    labels = ZOO / "labels.csv"
    if not labels.exists():
        return []
    groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
    with labels.open() as f:
        for row in csv.DictReader(f):
            path = ZOO / row["path"]
            if row["path"].startswith("onnx-light:") or not path.exists():
                continue
            key = f"{row['architecture']}-{row['size']}-s{row['seed']}"
            groups[(row["architecture"], key)].append(path)
    return sorted((a, k, v) for (a, k), v in groups.items() if len(v) > 1)


def _param(architecture: str, key: str, paths: list[Path]) -> object:
    reason = KNOWN_MISSES.get(architecture)
    marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
    return pytest.param(key, paths, id=key, marks=marks)


@pytest.mark.parametrize(("key", "paths"), [_param(*group) for group in zoo_groups()])
def test_exports_of_one_model_hash_alike(key: str, paths: list[Path]) -> None:
    hashes = {p.name: read_model(p)[0].wl_hash() for p in paths}
    assert len(set(hashes.values())) == 1, hashes
