"""Batch ingest of the repo's corpus into a real embedded store, and every named query over it.

One knowledge base is built per test session from ``tests/data`` (the labelled zoo and the
hub-style folders with model cards) plus the ONNX Model Zoo graphs shipped in the onnx package.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

from modelgenes.cli.app import app
from modelgenes.cypher.catalog import all_queries, get_query
from modelgenes.kb.batch import IngestReport, ingest_paths
from modelgenes.kb.falkor import EmbeddedServer, FalkorStore
from modelgenes.kb.lookup import resolve_model
from modelgenes.kb.store import GraphStore

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data"
HUB = DATA / "hub"
ONNX_ZOO = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


@pytest.fixture(scope="module", params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def kb(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GraphStore, IngestReport]]:
    """The corpus ingested into a fresh store: the embedded one always, Neo4j where Docker answers."""
    server: EmbeddedServer | None = None
    store: GraphStore
    if request.param == "embedded":
        server = EmbeddedServer(tmp_path_factory.mktemp("kb-home"))
        store = FalkorStore(server.home)
    else:
        from modelgenes.kb.neo4j import Neo4jStore

        store = Neo4jStore(request.getfixturevalue("neo4j_uri"))
        store.clear()
    store.ensure_schema()
    report = ingest_paths(store, [DATA, ONNX_ZOO], batch_name="corpus", workers=2)
    yield store, report
    store.close()
    if server is not None:
        server.stop()


def _run(store: GraphStore, name: str, **params: object) -> list[dict[str, object]]:
    query = get_query(name)
    return store.query(query.text, params, name=name)


def _hub(store: GraphStore, hub_id: str) -> str:
    return resolve_model(store, hub_id)


def test_the_whole_corpus_is_ingested_without_failures(kb: tuple[GraphStore, IngestReport]) -> None:
    store, report = kb
    assert report.failures == []
    assert report.new >= 40
    stored = _run(store, "admin/store_counts")[0]
    assert stored["nodes"] > report.new


def test_reingesting_the_same_files_writes_nothing(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    before = _run(store, "admin/store_counts")[0]
    again = ingest_paths(store, [HUB], batch_name="again", workers=1)
    assert again.new == 0 and again.unchanged == again.files > 0
    after = _run(store, "admin/store_counts")[0]
    # Only the new Batch node and its INGESTED_IN links are added.
    assert after["nodes"] == before["nodes"] + 1
    assert after["relationships"] == before["relationships"] + again.files


def test_related_bert_contains_bart_via_attention_and_not_resnet(
    kb: tuple[GraphStore, IngestReport],
) -> None:
    store, _ = kb
    rows = {
        r["family"]: r for r in _run(store, "relatedness/related_families", family="bert", minSimilarity=0.5)
    }
    assert "bart" in rows
    assert any("attention" in s for s in rows["bart"]["shared"])  # type: ignore[union-attr]
    assert "resnet" not in rows


def test_ancestors_of_a_quantised_finetune_reach_its_base(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    int8 = _hub(store, "acme/bert-tiny-sst2-int8")
    rows = _run(store, "lineage/ancestors", model=int8, maxDepth=8)
    chain = [(r["hubId"], r["depth"]) for r in rows]
    assert chain == [("acme/bert-tiny-sst2", 1), ("google/bert-tiny", 2)]
    assert rows[1]["relations"] == ["quantized", "finetune"]


def test_descendants_and_path_between(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    base, int8 = _hub(store, "google/bert-tiny"), _hub(store, "acme/bert-tiny-sst2-int8")
    descendants = {r["hubId"] for r in _run(store, "lineage/descendants", model=base, maxDepth=8)}
    assert descendants == {"acme/bert-tiny-sst2", "acme/bert-tiny-sst2-int8"}
    path = _run(store, "lineage/path_between", **{"from": base, "to": int8})[0]
    assert path["length"] == 2 and path["directions"] == ["parent-of", "parent-of"]


def test_family_tree_and_models_of_family(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    tree = _run(store, "lineage/family_tree", family="bert")
    assert {(r["childName"], r["relation"]) for r in tree} >= {("acme/bert-tiny-sst2", "finetune")}
    models = _run(store, "explore/models_of_family", family="resnet")
    assert len(models) >= 3 and all(r["score"] > 0 for r in models)


def test_metadata_from_model_cards_is_stored(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    summary = _run(store, "explore/model_summary", model=_hub(store, "acme/bert-tiny-sst2"))[0]
    assert summary["licenses"] == ["Apache-2.0"]
    assert summary["publishers"] == ["acme"]
    assert summary["datasets"] == ["sst2"]
    assert summary["task"] == "text-classification"
    assert summary["families"] == ["bert"]


def test_explore_queries_answer_from_the_corpus(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    families = {r["family"]: r["models"] for r in _run(store, "explore/families")}
    assert families["bert"] >= 3 and families["resnet"] >= 3
    ops = {r["operator"] for r in _run(store, "explore/operator_usage", limit=50)}
    assert {"Conv", "MatMul", "Softmax"} <= ops
    usage = {r["signature"]: r["models"] for r in _run(store, "explore/signature_usage")}
    assert any(sig.startswith("_broad/") and n > 5 for sig, n in usage.items())
    similar = _run(store, "relatedness/similar_models", model=_hub(store, "google/bert-tiny"), limit=5)
    assert similar and similar[0]["sameArchitecture"] is True


def test_multi_family_model_lists_components_in_data_flow_order(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    rows = {r["name"]: r for r in _run(store, "explore/multi_family_models")}
    crnn = [r for name, r in rows.items() if "crnn" in str(name)]
    assert crnn, f"no multi-family CRNN among {sorted(rows)}"
    assert crnn[0]["components"][:2] == ["resnet", "lstm"]  # type: ignore[index]
    comps = _run(store, "explore/model_components", model=crnn[0]["model"])
    assert [c["family"] for c in comps][:2] == ["resnet", "lstm"]


def test_every_named_read_query_runs(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    some_model = _hub(store, "google/bert-tiny")
    values = {
        "model": some_model,
        "from": some_model,
        "to": some_model,
        "family": "bert",
        "ref": "google/bert-tiny",
    }
    for name, query in all_queries().items():
        if name.startswith(("write/", "admin/clear")):
            continue
        params = {
            p.name: values.get(p.name, p.coerce(p.default) if p.default else None) for p in query.params
        }
        store.query(query.text, params, name=name)  # raises QueryError on any failure


def test_cli_query_lineage_related_family(kb: tuple[GraphStore, IngestReport]) -> None:
    store, _ = kb
    if not isinstance(store, FalkorStore):
        pytest.skip("the CLI test reads the embedded store's data dir")
    home = str(Path(store.server.home))
    runner = CliRunner()
    env = {**os.environ, "MODELGENES_HOME": home}
    result = runner.invoke(app, ["lineage", "acme/bert-tiny-sst2-int8", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert "google/bert-tiny" in result.output
    declared = runner.invoke(
        app, ["lineage", "google/bert-tiny", "--sources", "declared", "-f", "json"], env=env
    )
    assert declared.exit_code == 0, declared.output
    assert {row["sources"][0] for row in json.loads(declared.stdout)} == {"declared"}
    result = runner.invoke(app, ["related", "bert", "--format", "csv"], env=env)
    assert result.exit_code == 0 and "bart" in result.output
    result = runner.invoke(app, ["family", "bert", "--format", "json"], env=env)
    assert result.exit_code == 0 and "acme/bert-tiny-sst2" in result.output
    result = runner.invoke(app, ["query", "explore/find_model", "-p", "ref=google/bert-tiny"], env=env)
    assert result.exit_code == 0 and "google/bert-tiny" in result.output
    result = runner.invoke(app, ["query", "explore/find_model", "-p", "nope=1"], env=env)
    assert result.exit_code != 0


def test_bad_files_become_ingest_errors_and_the_batch_goes_on(
    tmp_path: Path, embedded_store: FalkorStore
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    source = next(HUB.glob("models--google--bert-tiny/snapshots/*/model.onnx"))
    (folder / "truncated.onnx").write_bytes(source.read_bytes()[:500])
    (folder / "empty.onnx").write_bytes(b"")
    good = next(ONNX_ZOO.glob("light_squeezenet.onnx"))
    report = ingest_paths(embedded_store, [folder, good], batch_name="mixed", workers=1)
    assert report.new == 1 and report.failed == 2
    errors = _run(embedded_store, "explore/batches")[0]["errors"]
    assert len(errors) == 2 and all("onnx" in e for e in errors)  # type: ignore[union-attr]


def test_cli_ingest_exits_non_zero_when_a_file_failed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model at all")
    env = {**os.environ, "MODELGENES_HOME": str(home)}
    try:
        result = CliRunner().invoke(
            app, ["ingest", str(bad), str(ONNX_ZOO / "light_squeezenet.onnx"), "--format", "json"], env=env
        )
        assert result.exit_code == 1
        assert '"new": 1' in result.output and '"failed": 1' in result.output
    finally:
        EmbeddedServer(home).stop()


def test_a_killed_batch_run_again_leaves_no_duplicates(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "MODELGENES_HOME": str(home)}
    cmd = [sys.executable, "-m", "modelgenes", "ingest", str(DATA), "--workers", "2", "--batch-name", "crash"]
    try:
        # Its own process group, so that the kill takes its worker processes too, as a job kill does.
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        # Let it write some models, then kill it without warning.
        deadline = time.monotonic() + 60
        with FalkorStore(home) as store:
            while time.monotonic() < deadline and proc.poll() is None:
                if store.query("MATCH (m:Model) RETURN count(m) AS n")[0]["n"] >= 5:
                    break
                time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        with FalkorStore(home) as store:
            models = store.query("MATCH (m:Model) RETURN count(m) AS n, count(DISTINCT m.id) AS d")[0]
            assert models["n"] == models["d"] > 5
            dup_edges = store.query(
                "MATCH (a)-[r]->(b) WITH a, b, type(r) AS t, count(r) AS n WHERE n > 1 "
                "AND t <> 'DERIVED_FROM' RETURN t, n LIMIT 5"
            )
            assert dup_edges == []
            matches = store.query("MATCH (x:Match) RETURN count(x) AS n, count(DISTINCT x.id) AS d")[0]
            assert matches["n"] == matches["d"]
    finally:
        EmbeddedServer(home).stop()


_STDIN_INGEST = """
import sys
from pathlib import Path
from modelgenes.kb.batch import ingest_paths
from modelgenes.kb.falkor import FalkorStore
store = FalkorStore(Path(sys.argv[1]))
store.ensure_schema()
report = ingest_paths(store, [sys.argv[2]], workers=2)
print(report.new, report.failed)
"""


def test_workers_that_cannot_start_do_not_lose_the_batch(tmp_path: Path) -> None:
    # A program read from stdin cannot be re-imported by forkserver workers: ingest reads in-process.
    home = tmp_path / "home"
    try:
        done = subprocess.run(
            [sys.executable, "-", str(home), str(HUB)],
            input=_STDIN_INGEST,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        new, failed = map(int, done.stdout.split())
        assert failed == 0 and new == len(list(HUB.glob("*/snapshots/*/model.onnx")))
    finally:
        EmbeddedServer(home).stop()
