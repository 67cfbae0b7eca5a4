"""The knowledge-base writer on the embedded store: whole models, idempotence, verbatim values."""

from __future__ import annotations

import dataclasses

import pytest

from modelgenes.cypher.catalog import get_query
from modelgenes.genealogy.record import ComponentFact, FamilyFact, MatchFact, ModelRecord
from modelgenes.ingest.graph import ModelInfo
from modelgenes.kb import write
from modelgenes.kb.falkor import FalkorStore
from modelgenes.kb.lookup import AmbiguousModel, ModelNotFound, resolve_model

BATCH = "test-batch"


def _record(
    sha: str, name: str, *, hub_id: str = "", bases: tuple[str, ...] = (), relation: str = ""
) -> ModelRecord:
    info = ModelInfo(
        sha256=sha,
        path=f"/models/{name}.onnx",
        format="onnx",
        name=name,
        hub_id=hub_id,
        publisher=hub_id.split("/")[0] if hub_id else "",
        license="Apache-2.0",
        base_models=bases,
        base_model_relation=relation,
        datasets=("wikipedia",),
    )
    return ModelRecord(
        info=info,
        arch_hash="arch-" + name,
        node_count=120,
        op_counts={"MatMul": 12, "Softmax": 2, "LayerNorm": 5},
        matches=(
            MatchFact("bert/embeddings@1", "bert", "family", 1, 0.1, ("n1",)),
            MatchFact("_broad/attention@1", "_broad", "broad", 2, 0.4, ("n5", "n40")),
        ),
        families=(FamilyFact("bert", "text", 0.93, ("bert/embeddings@1",)),),
        components=(ComponentFact(0, "bert", "n0", "n119", 120),),
        unknown=False,
    )


def _counts(store: FalkorStore) -> dict[str, int]:
    rows = store.query("MATCH (n) RETURN labels(n)[0] AS label, count(n) AS n")
    rels = store.query("MATCH ()-[r]->() RETURN type(r) AS label, count(r) AS n")
    return {r["label"]: r["n"] for r in rows + rels}


@pytest.fixture()
def store(embedded_store: FalkorStore) -> FalkorStore:
    write.start_batch(embedded_store, BATCH, "test", "2026-01-01T00:00:00+00:00")
    return embedded_store


def test_a_model_is_stored_with_all_its_facts(store: FalkorStore) -> None:
    written, refused = write.write_records(store, [(_record("a" * 64, "bert-a"), "/m/a.onnx")], BATCH, "t")
    assert (written, refused) == (1, [])
    summary = store.query(get_query("explore/model_summary").text, {"model": "a" * 64})[0]
    assert summary["families"] == ["bert"]
    assert summary["licenses"] == ["Apache-2.0"]
    assert summary["datasets"] == ["wikipedia"]
    counts = _counts(store)
    assert counts["Match"] == 2 and counts["USES_OP"] == 3 and counts["INGESTED_IN"] == 1


def test_writing_the_same_records_twice_creates_no_duplicates(store: FalkorStore) -> None:
    records = [(_record(f"{i:064x}", f"m{i}"), f"/m/{i}.onnx") for i in range(40)]
    write.write_records(store, records, BATCH, "t")
    first = _counts(store)
    write.write_records(store, records, BATCH, "t")
    assert _counts(store) == first


def test_one_refused_record_does_not_sink_its_group(store: FalkorStore) -> None:
    good = [(_record(f"{i:064x}", f"m{i}"), f"/m/{i}.onnx") for i in range(3)]
    # A null operator name cannot be merged: the store refuses this one model only.
    bad_record = dataclasses.replace(_record("b" * 64, "bad"), op_counts={None: 1})  # type: ignore[dict-item]
    written, refused = write.write_records(store, [*good, (bad_record, "/m/bad.onnx")], BATCH, "t")
    assert written == 3
    assert [f.record.id for f in refused] == ["b" * 64]
    ids = {r["id"] for r in store.query("MATCH (m:Model) RETURN m.id AS id")}
    assert "b" * 64 not in ids and len(ids) == 3
    assert (
        store.query("MATCH (n {id: $id}) RETURN count(n) AS n", {"id": "b" * 64 + "|bert/embeddings@1"})[0][
            "n"
        ]
        == 0
    )


def test_declared_bases_become_derived_from_edges(store: FalkorStore) -> None:
    base = _record("1" * 64, "base", hub_id="org/base")
    child = _record("2" * 64, "child", hub_id="acme/child", bases=("org/base",), relation="finetune")
    orphan = _record("3" * 64, "orphan", hub_id="acme/orphan", bases=("org/not-stored",))
    write.write_records(store, [(base, "/b"), (child, "/c"), (orphan, "/o")], BATCH, "t")
    links = write.link_declared_bases(store)
    assert [(link["child"], link["parent"], link["relation"]) for link in links] == [
        ("2" * 64, "1" * 64, "finetune")
    ]
    assert len(write.link_declared_bases(store)) == 1
    assert _counts(store)["DERIVED_FROM"] == 1


NASTY = "x'}) DETACH DELETE m //\" {$rows} `MATCH` \\ ünï"


def test_names_and_hub_ids_full_of_cypher_are_stored_verbatim(store: FalkorStore) -> None:
    record = _record("c" * 64, NASTY, hub_id=f"org/{NASTY}")
    write.write_records(store, [(record, f"/m/{NASTY}.onnx")], BATCH, "t")
    row = store.query("MATCH (m:Model) RETURN m.name AS name, m.hubId AS hub, m.paths AS paths")[0]
    assert row == {"name": NASTY, "hub": f"org/{NASTY}", "paths": [f"/m/{NASTY}.onnx"]}
    assert resolve_model(store, f"org/{NASTY}") == "c" * 64
    assert resolve_model(store, NASTY) == "c" * 64


def test_model_references_resolve_by_prefix_hub_id_name_and_path(store: FalkorStore) -> None:
    write.write_records(
        store,
        [(_record("ab" + "0" * 62, "one", hub_id="org/one"), "/m/one.onnx"),
         (_record("ac" + "0" * 62, "two", hub_id="org/two"), "/m/two.onnx")],
        BATCH,
        "t",
    )  # fmt: skip
    assert resolve_model(store, "ab") == "ab" + "0" * 62
    assert resolve_model(store, "org/two") == "ac" + "0" * 62
    assert resolve_model(store, "one") == "ab" + "0" * 62
    assert resolve_model(store, "/m/two.onnx") == "ac" + "0" * 62
    with pytest.raises(AmbiguousModel):
        resolve_model(store, "a")
    with pytest.raises(ModelNotFound):
        resolve_model(store, "nothing-like-it")
