"""Lineage inference end to end: the models of tests/data/lineage (really fine-tuned, quantised, re-exported
and pruned with torch and onnxruntime by scripts/build_lineage.py) ingested into a real embedded store.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelgenes.cypher.catalog import get_query
from modelgenes.kb.batch import IngestReport, ingest_paths
from modelgenes.kb.falkor import EmbeddedServer, FalkorStore
from modelgenes.kb.lookup import resolve_model
from modelgenes.kb.store import GraphStore

LINEAGE = Path(__file__).resolve().parents[3] / "tests" / "data" / "lineage"

BASE = "lineage-lab/tiny-bert"
TUNED = "lineage-lab/tiny-bert-sst2"
INT8 = "lineage-lab/tiny-bert-sst2-int8"
Q8 = "mirror/tiny-bert-sst2-q8"
OPSET18 = "mirror/tiny-bert-opset18"
PRUNED = "mirror/tiny-bert-sst2-pruned"
NER = "lineage-lab/tiny-bert-ner"
SCRATCH = "other-lab/tiny-bert-scratch"
LIAR = "shady/tiny-bert-chat"


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphStore, IngestReport]]:
    """tests/data/lineage ingested into a fresh embedded store in one batch."""
    server = EmbeddedServer(tmp_path_factory.mktemp("lineage-home"))
    store = FalkorStore(server.home)
    store.ensure_schema()
    report = ingest_paths(store, [LINEAGE], batch_name="lineage", workers=1)
    yield store, report
    store.close()
    server.stop()


def _run(store: GraphStore, name: str, **params: Any) -> list[dict[str, Any]]:
    query = get_query(name)
    return store.query(query.text, params, name=name)


def _edges(store: GraphStore, source: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    rows = store.query(
        "MATCH (c:Model)-[d:DERIVED_FROM]->(p:Model) "
        "RETURN c.hubId AS child, p.hubId AS parent, d.source AS source, d.relation AS relation, "
        "d.evidence AS evidence, d.confidence AS confidence, d.distance AS distance, "
        "d.weightsRelation AS weightsRelation, d.weightsAgree AS weightsAgree"
    )
    return {(r["child"], r["parent"]): r for r in rows if source is None or r["source"] == source}


def test_the_batch_reports_its_inferred_links(kb: tuple[GraphStore, IngestReport]) -> None:
    store, report = kb
    assert report.failures == [] and report.new == 9
    assert report.inferred_links == len(_edges(store, "weights")) + len(_edges(store, "structure"))
    assert report.derived_links == 3  # declared: the fine-tune, the int8 copy, the lying card


def test_weights_recover_every_derivation_with_its_direction(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    found = {pair: e["relation"] for pair, e in _edges(store, "weights").items()}
    assert found == {
        (TUNED, BASE): "finetune",
        (NER, BASE): "finetune",
        (INT8, TUNED): "quantized",  # with a card saying so
        (Q8, TUNED): "quantized",  # no card: found by the weights alone
        (OPSET18, BASE): "conversion",
        (PRUNED, TUNED): "pruned",
        (LIAR, SCRATCH): "finetune",
    }


def test_weight_edges_carry_distance_evidence_and_confidence(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    edges = _edges(store, "weights")
    for (child, parent), e in edges.items():
        assert e["evidence"][0].startswith("weights: relative L2 distance"), (child, parent)
        assert 0.5 <= e["confidence"] <= 1.0
        assert e["distance"] is not None
    assert edges[(OPSET18, BASE)]["distance"] == 0.0
    assert edges[(INT8, TUNED)]["distance"] < 0.02 and edges[(Q8, TUNED)]["distance"] < 0.02
    assert 0.05 < edges[(TUNED, BASE)]["distance"] < 0.3
    # quantised models are leaves: the strongest direction evidence, the highest confidence
    assert any("quantised leaf" in x for x in edges[(Q8, TUNED)]["evidence"])
    assert edges[(Q8, TUNED)]["confidence"] >= 0.9
    # the fine-tune's direction is backed by its card and by its weights' drift
    tuned = edges[(TUNED, BASE)]["evidence"]
    assert any(x.startswith("declared:") for x in tuned) and any(x.startswith("weight drift:") for x in tuned)
    # the bare re-export: the model with the card is the parent, said with moderate confidence
    assert any("bare file" in x for x in edges[(OPSET18, BASE)]["evidence"])
    assert any(
        x.startswith("structure: same architecture") and "opset 17 → 18" in x
        for x in edges[(OPSET18, BASE)]["evidence"]
    )
    assert edges[(OPSET18, BASE)]["confidence"] < edges[(INT8, TUNED)]["confidence"]


def test_an_unrelated_model_of_the_same_architecture_is_linked_by_structure_only(
    kb: tuple[GraphStore, IngestReport],
) -> None:
    store, _ = kb
    touching = {pair: e for pair, e in _edges(store).items() if SCRATCH in pair and LIAR not in pair}
    assert touching, "the scratch model should be linked to its architecture"
    assert {(e["source"], e["relation"]) for e in touching.values()} == {("structure", "same-architecture")}
    assert all(e["confidence"] == 0.3 for e in touching.values())
    assert all(any("undirected" in x for x in e["evidence"]) for e in touching.values())


def test_every_declared_claim_is_kept_and_checked_against_the_weights(
    kb: tuple[GraphStore, IngestReport],
) -> None:
    store, _ = kb
    declared = _edges(store, "declared")
    assert set(declared) == {(TUNED, BASE), (INT8, TUNED), (LIAR, BASE)}
    assert declared[(TUNED, BASE)]["weightsRelation"] == "finetune"
    assert declared[(TUNED, BASE)]["weightsAgree"] is True
    assert declared[(INT8, TUNED)]["weightsRelation"] == "quantized"
    assert declared[(INT8, TUNED)]["weightsAgree"] is True
    assert declared[(LIAR, BASE)]["weightsRelation"] == "unrelated"
    assert declared[(LIAR, BASE)]["weightsAgree"] is False


def test_disagreements_list_both_claims_with_their_sources(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    rows = _run(store, "lineage/disagreements")
    by_kind = {(r["kind"], r["hubId"]): r for r in rows}
    assert set(by_kind) == {
        ("declared-base-missing", NER),
        ("weights-contradict-declared", LIAR),
        ("weights-name-another-parent", LIAR),
    }
    missing = by_kind[("declared-base-missing", NER)]
    assert missing["claim"] == "finetune of lineage-lab/tiny-bert-large"
    assert missing["claimSource"] == "declared"
    assert f"the weights say finetune of {BASE}" in missing["otherClaim"]
    contradict = by_kind[("weights-contradict-declared", LIAR)]
    assert contradict["claim"] == f"finetune of {BASE}" and contradict["claimSource"] == "declared"
    assert "unrelated weights" in contradict["otherClaim"] and contradict["otherSource"] == "weights"
    other = by_kind[("weights-name-another-parent", LIAR)]
    assert other["otherClaim"] == f"finetune of {SCRATCH}" and other["otherSource"] == "weights"
    assert other["evidence"][0].startswith("weights:")


def test_lineage_queries_follow_declared_or_all_sources(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    q8 = resolve_model(store, Q8)
    # declared lineage: the bare quantised copy has none
    assert _run(store, "lineage/ancestors", model=q8, maxDepth=8) == []
    # every source: the chain through the fine-tune to the base, one row per ancestor
    every = ["declared", "weights", "structure"]
    rows = _run(store, "lineage/inferred_ancestors", model=q8, maxDepth=8, sources=every)
    assert [(r["hubId"], r["depth"]) for r in rows] == [(TUNED, 1), (BASE, 2)]
    assert rows[1]["relations"] == ["quantized", "finetune"]
    base = resolve_model(store, BASE)
    down = _run(store, "lineage/inferred_descendants", model=base, maxDepth=8, sources=["weights"])
    assert {r["hubId"] for r in down} == {TUNED, NER, OPSET18, INT8, Q8, PRUNED}
    assert SCRATCH not in {r["hubId"] for r in down}  # same-architecture is not derivation


def test_claims_show_every_source_for_one_model(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    rows = _run(store, "lineage/claims", model=resolve_model(store, TUNED))
    parents = {(r["hubId"], r["source"]) for r in rows if r["direction"] == "parent"}
    children = {(r["hubId"], r["source"]) for r in rows if r["direction"] == "child"}
    assert parents == {(BASE, "declared"), (BASE, "weights")}
    assert children >= {(INT8, "declared"), (INT8, "weights"), (Q8, "weights"), (PRUNED, "weights")}


def test_ingesting_parents_after_children_moves_the_weights_parent(tmp_path: Path) -> None:
    # Batch 1: the fine-tune's children and the bare re-export; batch 2: the published base, nearer
    # (equally near, with a card) to the fine-tune than anything stored before.
    first, second = tmp_path / "first", tmp_path / "second"
    for hub_id, target in ((TUNED, first), (OPSET18, first), (NER, first), (BASE, second)):
        org, name = hub_id.split("/")
        shutil.copytree(LINEAGE / f"models--{org}--{name}", target / f"models--{org}--{name}")
    server = EmbeddedServer(tmp_path / "home")
    store = FalkorStore(server.home)
    try:
        store.ensure_schema()
        ingest_paths(store, [first], batch_name="first", workers=1)
        before = {pair: e["relation"] for pair, e in _edges(store, "weights").items()}
        assert before == {(TUNED, OPSET18): "finetune", (NER, OPSET18): "finetune"}
        report = ingest_paths(store, [second], batch_name="second", workers=1)
        assert report.failures == []
        after = _edges(store, "weights")
        assert {pair: e["relation"] for pair, e in after.items()} == {
            (TUNED, BASE): "finetune",
            (NER, BASE): "finetune",
            (OPSET18, BASE): "conversion",
        }
        assert any("replaces the earlier weights parent" in x for x in after[(NER, BASE)]["evidence"])
        # nothing is inferred twice: a third run over everything writes no edge
        again = ingest_paths(store, [first, second], batch_name="again", workers=1)
        assert again.new == 0 and again.inferred_links == 0
    finally:
        store.close()
        server.stop()


def test_a_batch_interrupted_before_inference_is_inferred_by_the_next_run(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "home")
    store = FalkorStore(server.home)
    try:
        store.ensure_schema()
        ingest_paths(store, [LINEAGE], batch_name="first", workers=1)
        # as if the process died after writing the models: no inferred edge, no inference mark
        store.query("MATCH ()-[d:DERIVED_FROM]->() WHERE d.source <> 'declared' DELETE d")
        store.query("MATCH (m:Model) REMOVE m.derivationsInferred")
        report = ingest_paths(store, [LINEAGE], batch_name="again", workers=1)
        assert report.new == 0 and report.inferred_links > 0
        assert (Q8, TUNED) in _edges(store, "weights")
    finally:
        store.close()
        server.stop()


def test_inference_in_small_chunks_finds_the_same_edges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kb: tuple[GraphStore, IngestReport]
) -> None:
    import modelgenes.kb.derivations as derivations

    monkeypatch.setattr(derivations, "CHUNK", 2)
    server = EmbeddedServer(tmp_path / "home")
    store = FalkorStore(server.home)
    try:
        store.ensure_schema()
        report = ingest_paths(store, [LINEAGE], batch_name="chunks", workers=1)
        assert report.failures == []
        chunked = {pair: e["relation"] for pair, e in _edges(store, "weights").items()}
        whole = {pair: e["relation"] for pair, e in _edges(kb[0], "weights").items()}
        assert chunked == whole
    finally:
        store.close()
        server.stop()
