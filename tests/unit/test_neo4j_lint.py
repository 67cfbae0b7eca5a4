"""The Neo4j Cypher lint check (tests/support/neo4j_lint.py) catches each class of mistake and passes
the kinds of statement the project ships. All cases are linted in one node process per module."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.support.neo4j_lint import CypherDiagnostic, lint_cypher, linter_available

Found = dict[str, list[CypherDiagnostic]]

LABELS = ("Model", "Family")
RELATIONSHIP_TYPES = ("DERIVED_FROM", "IN_FAMILY")

CLEAN: dict[str, tuple[str, Mapping[str, object]]] = {
    "constraint": ("CREATE CONSTRAINT model_id IF NOT EXISTS FOR (m:Model) REQUIRE m.id IS UNIQUE", {}),
    "index": ("CREATE INDEX model_name IF NOT EXISTS FOR (m:Model) ON (m.name)", {}),
    "upsert": ("UNWIND $rows AS r MERGE (m:Model {id: r.id}) SET m += r.props", {"rows": []}),
    "lineage": (
        "MATCH p=(a:Model)-[:DERIVED_FROM*1..8]->(b:Model) WHERE a.id = $id "
        "RETURN [n IN nodes(p) | n.id] AS chain",
        {"id": "bert-base"},
    ),
    "link": (
        "UNWIND $edges AS e\n"
        "MATCH (child:Model {id: e.child})\n"
        "MATCH (parent:Model {id: e.parent})\n"
        "MERGE (child)-[d:DERIVED_FROM]->(parent)\n"
        "SET d.evidence = e.evidence",
        {"edges": [{"child": "a", "parent": "b", "evidence": "config"}]},
    ),
    "family_count": (
        "// header comments are fine\n"
        "MATCH (f:Family)<-[:IN_FAMILY]-(m:Model)\n"
        "RETURN f.name AS family, count(m) AS models, collect(m.id)[..$limit] AS sample\n"
        "ORDER BY models DESC",
        {"limit": 5},
    ),
    "optional_and_exists": (
        "MATCH (m:Model) WHERE m.id IN $ids\n"
        "OPTIONAL MATCH (m)-[:IN_FAMILY]->(f:Family)\n"
        "RETURN m.id AS id, f.name AS family,\n"
        "       EXISTS { (m)-[:DERIVED_FROM]->(:Model) } AS derived, toLower(coalesce(m.name, '')) AS name",
        {"ids": ["a", "b"]},
    ),
    "trailing_semicolon": ("MATCH (m:Model) RETURN m.id AS id;", {}),
}

BROKEN: dict[str, tuple[str, Mapping[str, object]]] = {
    "syntax_error": ("MATCH (m:Model WHERE m.id = $id RETURN m", {"id": "x"}),
    "undefined_variable": ("MATCH (m:Model)\nWHERE m.id = $id\nRETURN n.id AS id", {"id": "x"}),
    "undeclared_parameter": ("MATCH (m:Model) WHERE m.id = $model_id RETURN m.id AS id", {}),
    "unknown_label": ("MATCH (m:Modle) RETURN m.id AS id", {}),
    "unknown_relationship_type": ("MATCH (a:Model)-[:DERIVED_FRM]->(b:Model) RETURN b.id AS id", {}),
    "unknown_label_written_by_merge": (
        "UNWIND $rows AS r MERGE (m:Modle {id: r.id}) SET m += r.props",
        {"rows": []},
    ),
    "unknown_relationship_type_written_by_create": (
        "MATCH (a:Model {id: $a}) MATCH (b:Model {id: $b}) CREATE (a)-[:DERIVED_FRM]->(b)",
        {"a": "x", "b": "y"},
    ),
    "unknown_label_set": ("MATCH (m:Model) SET m:Modle", {}),
    "unknown_label_in_index": ("CREATE INDEX model_name IF NOT EXISTS FOR (m:Modle) ON (m.name)", {}),
    "unknown_function": ("MATCH (m:Model) RETURN nodez(m) AS n", {}),
    "wrong_argument_type": ("RETURN toUpper(1) AS x", {}),
    "unused_parameter": ("MATCH (m:Model) RETURN m.id AS id", {"limit": 5}),
    "two_statements": ("MATCH (m:Model) RETURN m.id AS id;\nMATCH (f:Family) RETURN f.name AS name", {}),
    "empty": ("  \n", {}),
}


@pytest.fixture(scope="module")
def found() -> Found:
    cases = {**CLEAN, **BROKEN}
    diagnostics = lint_cypher(
        [(name, text, parameters) for name, (text, parameters) in cases.items()],
        labels=LABELS,
        relationship_types=RELATIONSHIP_TYPES,
    )
    by_query: Found = {name: [] for name in cases}
    for diagnostic in diagnostics:
        by_query[diagnostic.query_name].append(diagnostic)
    return by_query


def _only(found: Found, name: str) -> CypherDiagnostic:
    assert len(found[name]) == 1, found[name]
    return found[name][0]


def test_linter_is_available_after_npm_ci() -> None:
    assert linter_available() is None


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_statements_the_project_ships_lint_clean(found: Found, name: str) -> None:
    assert found[name] == []


def test_syntax_error_is_an_error(found: Found) -> None:
    diagnostic = _only(found, "syntax_error")
    assert diagnostic.severity == "error"
    assert "Invalid input 'RETURN'" in diagnostic.message


def test_undefined_variable_is_an_error_at_its_one_based_position(found: Found) -> None:
    diagnostic = _only(found, "undefined_variable")
    assert (diagnostic.severity, diagnostic.line, diagnostic.column) == ("error", 3, 8)
    assert diagnostic.message == "Variable `n` not defined"


def test_undeclared_parameter_is_an_error(found: Found) -> None:
    diagnostic = _only(found, "undeclared_parameter")
    assert diagnostic.severity == "error"
    assert diagnostic.message == "Parameter $model_id is not defined."


@pytest.mark.parametrize(
    ("name", "kind", "misspelt"),
    [
        ("unknown_label", "Label", "Modle"),
        ("unknown_relationship_type", "Relationship type", "DERIVED_FRM"),
        ("unknown_label_written_by_merge", "Label", "Modle"),
        ("unknown_relationship_type_written_by_create", "Relationship type", "DERIVED_FRM"),
        ("unknown_label_set", "Label", "Modle"),
        ("unknown_label_in_index", "Label", "Modle"),
    ],
)
def test_label_or_relationship_type_outside_the_schema_is_a_warning(
    found: Found, name: str, kind: str, misspelt: str
) -> None:
    diagnostic = _only(found, name)
    assert diagnostic.severity == "warning"
    assert f"{kind} {misspelt} " in diagnostic.message


def test_unknown_function_is_an_error(found: Found) -> None:
    diagnostic = _only(found, "unknown_function")
    assert diagnostic.severity == "error"
    assert "Function nodez is not present" in diagnostic.message


def test_wrong_argument_type_of_builtin_function_is_an_error(found: Found) -> None:
    assert _only(found, "wrong_argument_type").message == "Type mismatch: expected String but was Integer"


def test_declared_parameter_the_query_does_not_use_is_a_warning(found: Found) -> None:
    diagnostic = _only(found, "unused_parameter")
    assert diagnostic.severity == "warning"
    assert "$limit" in diagnostic.message


def test_two_statements_in_one_query_are_an_error_at_the_second(found: Found) -> None:
    diagnostic = _only(found, "two_statements")
    assert (diagnostic.severity, diagnostic.line) == ("error", 2)


def test_empty_query_is_an_error(found: Found) -> None:
    assert _only(found, "empty").severity == "error"


def test_empty_batch_returns_no_diagnostics() -> None:
    assert lint_cypher([], labels=LABELS, relationship_types=RELATIONSHIP_TYPES) == []
