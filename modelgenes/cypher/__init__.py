"""Named, parameterised Cypher queries (``.cypher`` files) and their catalog."""

from modelgenes.cypher.catalog import NamedQuery, Param, all_queries, get_query, parse_query

__all__ = ["NamedQuery", "Param", "all_queries", "get_query", "parse_query"]
