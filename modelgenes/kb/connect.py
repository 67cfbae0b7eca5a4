"""The one place that opens a store from a ``--store`` value."""

from __future__ import annotations

from pathlib import Path

from modelgenes.errors import StoreUnavailable
from modelgenes.kb.store import GraphStore

__all__ = ["open_store"]


def open_store(spec: str = "embedded", *, home: Path | None = None, ensure_schema: bool = True) -> GraphStore:
    """Open ``embedded`` (starting the server on demand) or a Neo4j URI; create the schema."""
    from modelgenes.kb.neo4j import NEO4J_SCHEMES

    store: GraphStore
    if spec in ("", "embedded"):
        from modelgenes.kb.falkor import FalkorStore

        store = FalkorStore(home)
    elif spec.startswith(NEO4J_SCHEMES):
        from modelgenes.kb.neo4j import Neo4jStore

        store = Neo4jStore(spec)
    else:
        raise StoreUnavailable(spec, "expected 'embedded' or a neo4j://, neo4j+s:// or bolt:// URI")
    if ensure_schema:
        try:
            store.ensure_schema()
        except BaseException:
            store.close()
            raise
    return store
