"""Knowledge-base stores: the ``GraphStore`` protocol, the embedded FalkorDB store and Neo4j."""

from modelgenes.kb.connect import open_store
from modelgenes.kb.store import DEFAULT_BATCH_SIZE, GraphStore, Row

__all__ = ["DEFAULT_BATCH_SIZE", "GraphStore", "Row", "open_store"]
