"""The Cypher catalog: header format, parameter declarations, and that every shipped file loads."""

from __future__ import annotations

import pytest

from modelgenes.cypher.catalog import all_queries, get_query, parse_query
from modelgenes.errors import QueryError

GOOD = """// question: Which models belong to a family?
// param family: string: the family name
// columns: model
MATCH (m:Model)-[:IDENTIFIED_AS]->(:Family {name: $family}) RETURN m.id AS model
"""


def test_header_is_parsed_into_question_params_and_columns() -> None:
    q = parse_query("explore/models", GOOD)
    assert q.question == "Which models belong to a family?"
    assert [(p.name, p.type) for p in q.params] == [("family", "string")]
    assert q.columns == ("model",)
    assert q.text.startswith("MATCH (m:Model)")


def test_undeclared_parameter_is_refused() -> None:
    with pytest.raises(QueryError, match=r"not declared.*limit"):
        parse_query("x", GOOD.replace("RETURN m.id AS model", "RETURN m.id AS model LIMIT $limit"))


def test_declared_but_unused_parameter_is_refused() -> None:
    with pytest.raises(QueryError, match="declared but not used"):
        parse_query("x", GOOD.replace("{name: $family}", "{name: 'bert'}"))


def test_dollar_inside_a_string_literal_is_not_a_parameter() -> None:
    q = parse_query("x", GOOD.replace("RETURN m.id AS model", "RETURN m.id + '$notparam' AS model"))
    assert [p.name for p in q.params] == ["family"]


@pytest.mark.parametrize("missing", ["question", "columns"])
def test_header_without_required_key_is_refused(missing: str) -> None:
    text = "\n".join(line for line in GOOD.splitlines() if not line.startswith(f"// {missing}"))
    with pytest.raises(QueryError, match=missing):
        parse_query("x", text)


def test_every_shipped_query_loads_and_has_a_header() -> None:
    queries = all_queries()
    assert "admin/store_counts" in queries
    for name, q in queries.items():
        assert q.name == name and q.question and q.columns


def test_unknown_query_name_lists_what_exists() -> None:
    with pytest.raises(QueryError, match="no such query"):
        get_query("nope/nothing")
