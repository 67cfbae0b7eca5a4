"""The graph schema's keys and indexes, in the DDL form each store speaks.

One list of ``IndexSpec`` (DESIGN.md "Graph schema"); each store turns it into its own statements:
FalkorDB has no ``IF NOT EXISTS`` and its unique constraints are a Redis command, Neo4j 5 has both
as Cypher DDL.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FALKOR_CONSTRAINTS_QUERY",
    "FALKOR_INDEXES_QUERY",
    "INDEXES",
    "LABELS",
    "RELATIONSHIP_TYPES",
    "IndexSpec",
    "falkor_index_statement",
    "neo4j_statements",
]


@dataclass(frozen=True)
class IndexSpec:
    label: str
    prop: str
    unique: bool  # identity key of the label: MERGE matches on it

    @property
    def name(self) -> str:
        """A stable, store-safe name for Neo4j (``model_id_key``, ``model_name_idx``)."""
        suffix = "key" if self.unique else "idx"
        return f"{self.label.lower()}_{self.prop.lower()}_{suffix}"


INDEXES: tuple[IndexSpec, ...] = (
    IndexSpec("Model", "id", unique=True),
    IndexSpec("Model", "name", unique=False),
    IndexSpec("Model", "hubId", unique=False),
    IndexSpec("Model", "archHash", unique=False),
    IndexSpec("Model", "shapesHash", unique=False),
    IndexSpec("Operator", "name", unique=True),
    IndexSpec("Signature", "id", unique=True),
    IndexSpec("Match", "id", unique=True),
    IndexSpec("Family", "name", unique=True),
    IndexSpec("Component", "id", unique=True),
    IndexSpec("License", "spdxId", unique=True),
    IndexSpec("Publisher", "name", unique=True),
    IndexSpec("Dataset", "name", unique=True),
    IndexSpec("Batch", "id", unique=True),
    IndexSpec("IngestError", "id", unique=True),
)

LABELS: tuple[str, ...] = (
    "Model",
    "Operator",
    "Signature",
    "Match",
    "Family",
    "Component",
    "License",
    "Publisher",
    "Dataset",
    "Batch",
    "IngestError",
)

RELATIONSHIP_TYPES: tuple[str, ...] = (
    "USES_OP",
    "INDICATES",
    "HAS_MATCH",
    "OF",
    "IDENTIFIED_AS",
    "HAS_COMPONENT",
    "NEXT",
    "VARIANT_OF",
    "DERIVED_FROM",
    "DECLARES_LICENSE",
    "PUBLISHED_BY",
    "TRAINED_ON",
    "INGESTED_IN",
    "HAD_ERROR",
)


def neo4j_statements() -> list[str]:
    """Neo4j 5 DDL for ``INDEXES``: unique constraints for keys, range indexes otherwise."""
    out = []
    for spec in INDEXES:
        if spec.unique:
            out.append(
                f"CREATE CONSTRAINT {spec.name} IF NOT EXISTS "
                f"FOR (n:{spec.label}) REQUIRE n.{spec.prop} IS UNIQUE"
            )
        else:
            out.append(f"CREATE INDEX {spec.name} IF NOT EXISTS FOR (n:{spec.label}) ON (n.{spec.prop})")
    return out


# FalkorDB: no IF NOT EXISTS, so the store asks what exists first; unique constraints are created
# with the GRAPH.CONSTRAINT command (through the client), on top of a range index.
FALKOR_INDEXES_QUERY = "CALL db.indexes() YIELD label, properties RETURN label, properties"
FALKOR_CONSTRAINTS_QUERY = (
    "CALL db.constraints() YIELD type, label, properties, status RETURN type, label, properties, status"
)


def falkor_index_statement(spec: IndexSpec) -> str:
    """FalkorDB's range-index DDL for one spec."""
    return f"CREATE INDEX FOR (n:{spec.label}) ON (n.{spec.prop})"
