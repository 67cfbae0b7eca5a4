"""The matcher: op alternatives, optional nodes, via-edges, non-overlap, and explanations."""

from __future__ import annotations

from pathlib import Path

from modelgenes.ingest.graph import ModelGraph, OpNode
from modelgenes.signatures.match import explain, match_signature
from modelgenes.signatures.model import Signature, parse_signature


def _graph(ops: list[str], edges: list[tuple[int, int]]) -> ModelGraph:
    nodes = tuple(OpNode(name=f"n{i}_{op}", op=op, original_op=op) for i, op in enumerate(ops))
    return ModelGraph(nodes=nodes, edges=tuple(sorted(edges)))


def _sig(nodes: list[dict[str, object]], edges: list[object]) -> Signature:
    data = {
        "id": "test/sig@1",
        "family": "test",
        "specificity": "family",
        "description": "a test signature",
        "pattern": {"nodes": nodes, "edges": edges},
    }
    return parse_signature(data, Path("test.yaml"))


def test_op_alternatives_match_either_op() -> None:
    sig = _sig([{"id": "a", "op": "MatMul"}, {"id": "b", "op": ["Relu", "Gelu"]}], [["a", "b"]])
    assert match_signature(_graph(["MatMul", "Gelu"], [(0, 1)]), sig).count == 1
    assert match_signature(_graph(["MatMul", "Relu"], [(0, 1)]), sig).count == 1
    assert match_signature(_graph(["MatMul", "Tanh"], [(0, 1)]), sig).count == 0


def test_optional_node_is_bypassed_when_absent() -> None:
    sig = _sig(
        [
            {"id": "s", "op": "MatMul"},
            {"id": "m", "op": "Add", "optional": True},
            {"id": "sm", "op": "Softmax"},
        ],
        [["s", "m"], ["m", "sm"]],
    )
    with_mask = match_signature(_graph(["MatMul", "Add", "Softmax"], [(0, 1), (1, 2)]), sig)
    without = match_signature(_graph(["MatMul", "Softmax"], [(0, 1)]), sig)
    assert with_mask.count == 1 and len(with_mask.instances[0]) == 3
    assert without.count == 1 and len(without.instances[0]) == 2


def test_via_edge_crosses_layout_plumbing_only() -> None:
    sig = _sig(
        [{"id": "a", "op": "MatMul"}, {"id": "b", "op": "Softmax"}],
        [{"from": "a", "to": "b", "via": ["Reshape", "Transpose"], "max_hops": 2}],
    )
    assert match_signature(
        _graph(["MatMul", "Reshape", "Transpose", "Softmax"], [(0, 1), (1, 2), (2, 3)]), sig
    ).count
    assert not match_signature(_graph(["MatMul", "Relu", "Softmax"], [(0, 1), (1, 2)]), sig).count
    assert not match_signature(
        _graph(["MatMul", "Reshape", "Reshape", "Reshape", "Softmax"], [(0, 1), (1, 2), (2, 3), (3, 4)]), sig
    ).count


def test_instances_do_not_overlap() -> None:
    # Two Relus share one MatMul: only one instance may use it.
    sig = _sig([{"id": "a", "op": "MatMul"}, {"id": "b", "op": "Relu"}], [["a", "b"]])
    found = match_signature(_graph(["MatMul", "Relu", "Relu"], [(0, 1), (0, 2)]), sig)
    assert found.count == 1
    chain = match_signature(_graph(["MatMul", "Relu", "MatMul", "Relu"], [(0, 1), (1, 2), (2, 3)]), sig)
    assert chain.count == 2 and chain.coverage == 1.0


def test_attribute_conditions() -> None:
    sig = _sig([{"id": "c", "op": "Conv", "where": {"kernel_shape": [3, 3], "group": {"min": 2}}}], [])
    nodes = (
        OpNode("c1", "Conv", "Conv", attributes={"kernel_shape": (3, 3), "group": 4}),
        OpNode("c2", "Conv", "Conv", attributes={"kernel_shape": (3, 3), "group": 1}),
        OpNode("c3", "Conv", "Conv", attributes={"kernel_shape": (1, 1), "group": 4}),
    )
    found = match_signature(ModelGraph(nodes=nodes, edges=()), sig)
    assert found.names == (("c1",),)


def test_explain_names_the_failing_node_and_condition() -> None:
    sig = _sig(
        [{"id": "a", "op": "MatMul"}, {"id": "g", "op": "Gelu"}, {"id": "b", "op": "MatMul"}],
        [["a", "g"], ["g", "b"]],
    )
    why = explain(_graph(["MatMul", "Relu", "MatMul"], [(0, 1), (1, 2)]), sig)
    assert not why.matched
    assert why.failed_node == "g"
    assert "n1_Relu is Relu, expected Gelu" in why.reason
    assert why.partial == (("a", "n0_MatMul"),) or why.partial[0][0] in {"a", "b"}
    assert explain(_graph(["MatMul", "Gelu", "MatMul"], [(0, 1), (1, 2)]), sig).matched
