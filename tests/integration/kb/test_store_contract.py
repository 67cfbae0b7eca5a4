"""The GraphStore contract, run against the embedded store always and Neo4j where Docker answers."""

from __future__ import annotations

import pytest

from modelgenes.errors import QueryError
from modelgenes.kb.store import GraphStore

MERGE_MODELS = "UNWIND $rows AS r MERGE (m:Model {id: r.id}) SET m += r.props"
COUNT_MODELS = "MATCH (m:Model) RETURN count(m) AS n"


def test_schema_creation_twice_is_harmless(any_store: GraphStore) -> None:
    any_store.ensure_schema()
    any_store.ensure_schema()
    any_store.write_rows(MERGE_MODELS, [{"id": "a", "props": {"name": "x"}}])
    assert any_store.query(COUNT_MODELS)[0]["n"] == 1


def test_ten_thousand_rows_in_one_write(any_store: GraphStore) -> None:
    rows = [{"id": f"m{i}", "props": {"name": f"model {i}", "params": i}} for i in range(10_000)]
    assert any_store.write_rows(MERGE_MODELS, rows) == 10_000
    assert any_store.query(COUNT_MODELS)[0]["n"] == 10_000
    found = any_store.query("MATCH (m:Model {id: $id}) RETURN m.params AS p", {"id": "m9999"})
    assert found == [{"p": 9999}]


def test_merge_is_idempotent(any_store: GraphStore) -> None:
    rows = [{"id": f"m{i}", "props": {"name": f"v{i}"}} for i in range(100)]
    any_store.write_rows(MERGE_MODELS, rows, batch_size=7)
    any_store.write_rows(MERGE_MODELS, rows, batch_size=7)
    assert any_store.query(COUNT_MODELS)[0]["n"] == 100


NASTY_VALUES = {
    "list": [1, 2.5, "three", None, True],
    "map": {"nested": {"deeper": ["a", {"b": 1}]}, "empty": {}},
    "none": None,
    "unicode": "ünïcødé ✓ 模型 🧬",
    "quotes": 'it\'s a "quoted" `name` } RETURN 1 //',
    "backslashes": "C:\\models\\new\\x.onnx \\' \\\"",
    "newlines": "line1\nline2\r\n\ttabbed",
    "cypher": "x'}) DETACH DELETE m WITH 1 AS y MATCH (n) RETURN n //",
    "braces": "{$rows} ${id} {{}}",
    "big": 2**53,
    "negative_float": -1.5e-12,
}


@pytest.mark.parametrize("key", sorted(NASTY_VALUES))
def test_parameters_round_trip(any_store: GraphStore, key: str) -> None:
    value = NASTY_VALUES[key]
    assert any_store.query("RETURN $v AS v", {"v": value}) == [{"v": value}]


def test_stored_strings_round_trip_verbatim(any_store: GraphStore) -> None:
    strings = [v for v in NASTY_VALUES.values() if isinstance(v, str)]
    rows = [{"id": s, "props": {"name": s}} for s in strings]
    any_store.write_rows(MERGE_MODELS, rows)
    stored = any_store.query("MATCH (m:Model) RETURN m.id AS id, m.name AS name")
    assert sorted(r["id"] for r in stored) == sorted(strings)
    assert all(r["id"] == r["name"] for r in stored)


def test_a_failing_batch_leaves_none_of_its_rows(any_store: GraphStore) -> None:
    # The second batch divides by zero on its last row: its first rows must not stay behind.
    statement = "UNWIND $rows AS r CREATE (m:Model {id: r.id}) SET m.ratio = 1 / r.d"
    rows = [{"id": f"ok{i}", "d": 1} for i in range(5)] + [{"id": f"bad{i}", "d": 1} for i in range(4)]
    rows.append({"id": "bad-last", "d": 0})
    with pytest.raises(QueryError) as caught:
        any_store.write_rows(statement, rows, batch_size=5, name="ratio writer")
    assert "ratio writer" in str(caught.value)
    ids = {r["id"] for r in any_store.query("MATCH (m:Model) RETURN m.id AS id")}
    assert ids == {f"ok{i}" for i in range(5)}


def test_query_error_carries_store_message_and_query_name(any_store: GraphStore) -> None:
    with pytest.raises(QueryError) as caught:
        any_store.query("MATCH (n RETURN n", name="broken-query")
    assert caught.value.query_name == "broken-query"
    assert caught.value.store_message  # the store's own words, e.g. "Invalid input ..."
    assert "broken-query" in str(caught.value)


def test_unique_key_refuses_a_duplicate_model(any_store: GraphStore) -> None:
    any_store.query("CREATE (:Model {id: $id})", {"id": "dup"})
    with pytest.raises(QueryError):
        any_store.query("CREATE (:Model {id: $id})", {"id": "dup"})
    assert any_store.query(COUNT_MODELS)[0]["n"] == 1


def test_nodes_relationships_and_paths_come_back_as_plain_values(any_store: GraphStore) -> None:
    any_store.query(
        "CREATE (:Model {id: 'c', name: 'child'})-[:DERIVED_FROM {relation: 'finetune'}]->"
        "(:Model {id: 'p', name: 'parent'})"
    )
    row = any_store.query(
        "MATCH p = (c:Model {id: $id})-[r:DERIVED_FROM]->(a:Model) RETURN c, r, p", {"id": "c"}
    )[0]
    assert row["c"] == {"id": "c", "name": "child"}
    assert row["r"] == {"relation": "finetune"}
    assert [n["id"] for n in row["p"]] == ["c", "p"]
