"""Derivation inference on sketches built in code: relations, the direction heuristic, parent choice."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from modelgenes.genealogy.derivation import (
    FINETUNE_MAX,
    DerivationEdge,
    ModelFacts,
    check_declared,
    compatible,
    infer,
    orient,
    weight_relation,
)
from modelgenes.genealogy.weights import WeightSketch, compare, sketch_arrays

RNG = np.random.default_rng(2024)
BASE = [RNG.normal(0, 0.05, (64, 64)) for _ in range(8)]


def _tuned(weights: Sequence[np.ndarray], scale: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [w + rng.normal(0, scale * 0.05, w.shape) for w in weights]


def _quantised(weights: Sequence[np.ndarray]) -> WeightSketch:
    """int8 per-tensor round-off, as a quantiser would leave it."""
    out = []
    for w in weights:
        step = np.abs(w).max() / 127
        out.append(np.round(w / step) * step)
    return sketch_arrays(out, ["int8"] * len(out))


def _facts(id: str, sketch: WeightSketch | None, **kw: object) -> ModelFacts:
    return ModelFacts(id=id, name=id, arch_hash=kw.pop("arch_hash", "arch"), sketch=sketch, **kw)  # type: ignore[arg-type]


def _edges(plan_edges: Sequence[DerivationEdge], source: str | None = None) -> set[tuple[str, str, str]]:
    return {(e.child_id, e.parent_id, e.relation) for e in plan_edges if source is None or e.source == source}


# --------------------------------------------------------------------------------------------------
# Relations
# --------------------------------------------------------------------------------------------------
def test_identical_weights_are_a_conversion_and_close_ones_a_finetune() -> None:
    base = _facts("base", sketch_arrays(BASE))
    copy = _facts("copy", sketch_arrays([w.copy() for w in BASE]))
    tuned = _facts("tuned", sketch_arrays(_tuned(BASE, 0.1, 1)))
    assert base.sketch is not None and copy.sketch is not None and tuned.sketch is not None
    conversion = weight_relation(copy, base, compare(copy.sketch, base.sketch))
    finetune = weight_relation(tuned, base, compare(tuned.sketch, base.sketch))
    assert conversion is not None and conversion[0] == "conversion" and conversion[1] > 0.9
    assert finetune is not None and finetune[0] == "finetune" and 0.5 < finetune[1] < 0.9


def test_finetune_confidence_falls_with_distance() -> None:
    base = _facts("base", sketch_arrays(BASE))
    near = _facts("near", sketch_arrays(_tuned(BASE, 0.05, 2)))
    far = _facts("far", sketch_arrays(_tuned(BASE, 0.4, 3)))
    assert base.sketch and near.sketch and far.sketch
    c_near = weight_relation(near, base, compare(near.sketch, base.sketch))
    c_far = weight_relation(far, base, compare(far.sketch, base.sketch))
    assert c_near and c_far and c_near[1] > c_far[1]


def test_a_quantised_copy_is_quantized_only_with_the_quantised_side_as_child() -> None:
    base = _facts("base", sketch_arrays(BASE))
    q = _facts("q", _quantised(BASE), quantised=True)
    assert base.sketch and q.sketch
    assert weight_relation(q, base, compare(q.sketch, base.sketch)) == ("quantized", 0.95)


def test_independent_weights_and_partly_shared_weights_are_not_derivations() -> None:
    base = _facts("base", sketch_arrays(BASE))
    other = _facts("other", sketch_arrays([RNG.normal(0, 0.05, (64, 64)) for _ in range(8)]))
    # the same random seed for seven of eight tensors: close overall, but one tensor is independent
    shared = _facts("shared", sketch_arrays([*BASE[:7], RNG.normal(0, 0.05, (64, 64))]))
    assert base.sketch and other.sketch and shared.sketch
    assert compare(other.sketch, base.sketch).distance > FINETUNE_MAX
    assert weight_relation(other, base, compare(other.sketch, base.sketch)) is None
    partial = compare(shared.sketch, base.sketch)
    assert partial.distance < FINETUNE_MAX and partial.unrelated_share == pytest.approx(0.125)
    assert weight_relation(shared, base, partial) is None


def test_pruning_is_its_own_relation() -> None:
    base = _facts("base", sketch_arrays(BASE))
    pruned = _facts("pruned", sketch_arrays([np.where(np.abs(w) < 0.03, 0.0, w) for w in BASE]))
    assert base.sketch and pruned.sketch
    found = weight_relation(pruned, base, compare(pruned.sketch, base.sketch))
    assert found is not None and found[0] == "pruned"
    assert orient(base, pruned, compare(base.sketch, pruned.sketch)).child is pruned


# --------------------------------------------------------------------------------------------------
# Direction
# --------------------------------------------------------------------------------------------------
def test_quantised_models_are_leaves_whatever_else_says() -> None:
    base = _facts("base", sketch_arrays(BASE), quantised=False, ingested_at="2025-02-01")
    q = _facts("q", _quantised(BASE), quantised=True, described=True, ingested_at="2025-01-01")
    found = orient(q, base)
    assert found.child is q and found.certainty == 1.0
    assert any("quantised leaf" in e for e in found.evidence)


def test_a_declared_base_sets_the_direction() -> None:
    parent = _facts("p", sketch_arrays(_tuned(BASE, 0.2, 4)), hub_id="org/parent")
    child = _facts("c", sketch_arrays(BASE), hub_id="org/child", base_models=("org/parent",))
    found = orient(parent, child)
    assert found.parent is parent and found.certainty == 1.0
    assert found.evidence[0].startswith("declared:")


def test_weight_drift_names_the_fine_tune_as_child() -> None:
    base = _facts("zzz-base", sketch_arrays(BASE))
    tuned = _facts("aaa-tuned", sketch_arrays(_tuned(BASE, 0.2, 5)))
    assert base.sketch and tuned.sketch
    comparison = compare(base.sketch, tuned.sketch)
    assert comparison.norm_drift < 0  # fine-tuning added energy
    found = orient(base, tuned, comparison)
    assert found.child is tuned
    assert any(e.startswith("weight drift:") for e in found.evidence)


def test_creation_time_outweighs_weight_drift() -> None:
    base = _facts("base", sketch_arrays(BASE), created_at="2024-06-01")
    tuned = _facts("tuned", sketch_arrays(_tuned(BASE, 0.2, 6)), created_at="2023-01-01")
    assert base.sketch and tuned.sketch
    assert orient(base, tuned, compare(base.sketch, tuned.sketch)).child is base


def test_a_bare_file_is_the_child_of_a_published_copy_and_newer_opsets_follow_older() -> None:
    card = _facts("b", sketch_arrays(BASE), described=True, opset=17)
    bare = _facts("a", sketch_arrays(BASE), opset=18)
    found = orient(card, bare)
    assert found.child is bare and 0.5 < found.certainty < 1.0
    older = _facts("x", sketch_arrays(BASE), opset=13)
    newer = _facts("y", sketch_arrays(BASE), opset=17)
    assert orient(newer, older).child is newer


def test_without_evidence_the_direction_is_a_stable_order_said_to_be_undetermined() -> None:
    a = _facts("aaaa", sketch_arrays(BASE))
    b = _facts("bbbb", sketch_arrays(BASE))
    first, second = orient(a, b), orient(b, a)
    assert first.child is second.child is b
    assert first.certainty == pytest.approx(0.5, abs=0.01)
    assert any("undetermined" in e for e in first.evidence)


# --------------------------------------------------------------------------------------------------
# A batch
# --------------------------------------------------------------------------------------------------
def _lineage() -> dict[str, ModelFacts]:
    tuned = _tuned(BASE, 0.15, 7)
    return {
        "base": _facts("base", sketch_arrays(BASE), hub_id="lab/base", described=True),
        "export": _facts("export", sketch_arrays([w.copy() for w in BASE]), opset=18),
        "tuned": _facts(
            "tuned", sketch_arrays(tuned), hub_id="lab/tuned", described=True, base_models=("lab/base",)
        ),
        "int8": _facts("int8", _quantised(tuned), quantised=True),
        "other": _facts("other", sketch_arrays([RNG.normal(0, 0.05, (64, 64)) for _ in range(8)])),
    }


def test_a_batch_gets_one_nearest_parent_per_model_and_a_star_of_same_architecture() -> None:
    models = _lineage()
    everyone = list(models.values())
    plan = infer(everyone, {m.id: everyone for m in everyone}, representatives={"arch": "other"})
    assert _edges(plan.edges, "weights") == {
        ("export", "base", "conversion"),
        ("tuned", "base", "finetune"),
        ("int8", "tuned", "quantized"),
    }
    # the first stored model came in this batch: a root of the batch stands for the architecture, and
    # models with no edge to it get a same-architecture edge
    assert _edges(plan.edges, "structure") == {
        ("int8", "base", "same-architecture"),
        ("other", "base", "same-architecture"),
    }
    for e in plan.edges:
        assert 0 < e.confidence <= 1 and e.evidence


def test_a_quantised_child_prefers_a_float_parent_to_a_closer_quantised_sibling() -> None:
    tuned = _facts("tuned", sketch_arrays(_tuned(BASE, 0.15, 8)))
    q1 = _facts("q1", _quantised(_tuned(BASE, 0.15, 8)), quantised=True)
    q2 = _facts("q2", _quantised(_tuned(BASE, 0.15, 8)), quantised=True)
    plan = infer([q1, q2], {"q1": [tuned, q2], "q2": [tuned, q1]})
    assert _edges(plan.edges, "weights") == {("q1", "tuned", "quantized"), ("q2", "tuned", "quantized")}


def test_among_equally_near_parents_the_declared_base_wins() -> None:
    base = _facts("base", sketch_arrays(BASE), hub_id="lab/base")
    twin = _facts("twin", sketch_arrays([w.copy() for w in BASE]), hub_id="lab/twin", described=True)
    tuned = _facts("tuned", sketch_arrays(_tuned(BASE, 0.1, 9)), base_models=("lab/base",))
    plan = infer([tuned], {"tuned": [base, twin]})
    assert _edges(plan.edges, "weights") == {("tuned", "base", "finetune")}


def test_a_nearer_new_parent_replaces_a_stored_models_weights_parent() -> None:
    models = _lineage()
    # tuned was stored with the bare export as its weights parent; the published base now arrives
    plan = infer(
        [models["base"]],
        {"base": [models["export"], models["tuned"]]},
        current={"tuned": ("export", 0.5)},
    )
    assert ("tuned", "base", "finetune") in _edges(plan.edges)
    assert "tuned" in plan.replace
    edge = next(e for e in plan.edges if e.child_id == "tuned")
    assert any("replaces the earlier weights parent" in x for x in edge.evidence)


def test_no_cycle_is_closed_by_a_replacement() -> None:
    models = _lineage()
    # base is (wrongly) stored as a child of tuned; tuned arriving later must not also become base's child
    plan = infer(
        [models["tuned"]],
        {"tuned": [models["base"]]},
        current={"base": ("tuned", 0.1)},
    )
    parents = {e.child_id: e.parent_id for e in plan.edges if e.source == "weights"}
    assert not (parents.get("tuned") == "base" and parents.get("base") == "tuned")


def test_a_quantised_graph_without_comparable_weights_links_to_its_float_architecture() -> None:
    float_model = _facts("float", sketch_arrays(BASE), arch_hash="a1")
    q = _facts("q", None, quantised=True, arch_hash="a1")
    plan = infer([q], {"q": [float_model]})
    (edge,) = plan.edges
    assert (edge.child_id, edge.parent_id, edge.relation, edge.source) == (
        "q",
        "float",
        "quantized",
        "structure",
    )
    assert edge.confidence == 0.5


def test_declared_pairs_get_no_same_architecture_edge() -> None:
    a = _facts("a", None, arch_hash="h")
    b = _facts("b", None, arch_hash="h")
    plan = infer([b], {"b": [a]}, representatives={"h": "a"}, declared_pairs=[("b", "a")])
    assert plan.edges == ()


# --------------------------------------------------------------------------------------------------
# Declared claims checked against the weights
# --------------------------------------------------------------------------------------------------
def test_declared_claims_are_checked_against_the_weights() -> None:
    models = _lineage()
    agrees = check_declared(models["tuned"], models["base"], "finetune")
    assert agrees.relation == "finetune" and agrees.agrees is True
    wrong_relation = check_declared(models["tuned"], models["base"], "quantized")
    assert wrong_relation.agrees is False
    unrelated = check_declared(models["other"], models["base"], "finetune")
    assert unrelated.relation == "unrelated" and unrelated.agrees is False
    blind = check_declared(models["tuned"], _facts("x", None), "finetune")
    assert blind.relation == "not-comparable" and blind.agrees is None


def test_compatible_relations() -> None:
    assert compatible("finetune", "finetune") and compatible("", "finetune")
    assert compatible("quantized", "quantized") and compatible("adapter", "finetune")
    assert not compatible("finetune", "quantized") and not compatible("conversion", "finetune")
