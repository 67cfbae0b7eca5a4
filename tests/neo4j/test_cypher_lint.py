"""Every Cypher statement the project sends to Neo4j passes Neo4j's own linter, with no server.

The schema DDL of ``kb.schema`` and every query of the ``cypher/`` catalog are linted against the
schema's labels and relationship types and the parameters each header declares: no error and no
warning may remain.
"""

from __future__ import annotations

from typing import Any

from modelgenes.cypher.catalog import NamedQuery, all_queries
from modelgenes.kb.schema import LABELS, RELATIONSHIP_TYPES, neo4j_statements
from tests.support.neo4j_lint import lint_cypher

_SAMPLE_VALUES: dict[str, Any] = {
    "string": "x",
    "integer": 1,
    "float": 0.5,
    "boolean": True,
    "list": ["x"],
    "list[string]": ["x"],
    "model": "0" * 64,
    "map": {"k": "v"},
}


def _sample_params(query: NamedQuery) -> dict[str, Any]:
    return {p.name: _SAMPLE_VALUES[p.type] for p in query.params}


def test_schema_ddl_lints_clean_for_neo4j() -> None:
    statements = [(f"schema {i}", s, {}) for i, s in enumerate(neo4j_statements())]
    assert lint_cypher(statements, labels=LABELS, relationship_types=RELATIONSHIP_TYPES) == []


def test_every_catalog_query_lints_clean_for_neo4j() -> None:
    queries = [(q.name, q.text, _sample_params(q)) for q in all_queries().values()]
    assert queries
    assert lint_cypher(queries, labels=LABELS, relationship_types=RELATIONSHIP_TYPES) == []


def test_a_misspelt_label_in_a_catalog_style_query_is_caught() -> None:
    # Guards the guard: the lint above would be worthless if it let this through.
    found = lint_cypher(
        [("typo", "MATCH (m:Modle) RETURN m.id AS id", {})],
        labels=LABELS,
        relationship_types=RELATIONSHIP_TYPES,
    )
    assert found and found[0].query_name == "typo"
