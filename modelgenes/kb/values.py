"""Turn values a store returns (nodes, relationships, paths, ordered dicts) into plain Python values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """Nodes and relationships become dicts of their properties, paths lists of node dicts."""
    # Duck-typed so that both FalkorDB's and Neo4j's graph objects are handled without isinstance
    # checks against two drivers' class trees.
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    nodes = getattr(value, "nodes", None)
    if nodes is not None and not isinstance(value, Mapping):  # a path
        node_list = nodes() if callable(nodes) else nodes
        return [plain(n) for n in node_list]
    props = getattr(value, "properties", None)
    if isinstance(props, Mapping):  # FalkorDB Node / Edge
        return {str(k): plain(v) for k, v in props.items()}
    items = getattr(value, "items", None)
    if callable(items):  # Neo4j Node / Relationship behave like mappings of their properties
        return {str(k): plain(v) for k, v in items()}
    if hasattr(value, "iso_format"):  # neo4j temporal types
        return value.iso_format()
    return value
