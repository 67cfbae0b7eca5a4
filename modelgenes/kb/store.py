"""The ``GraphStore`` protocol every store (embedded FalkorDB, Neo4j) implements.

A store runs parameterised Cypher and returns rows as plain dicts; it writes many rows with one
``UNWIND $rows`` statement per batch, each batch in its own transaction; it creates the schema
idempotently. User values always travel as parameters, never spliced into the query text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

__all__ = ["DEFAULT_BATCH_SIZE", "GraphStore", "Row", "StoreBase", "batches"]

Row = dict[str, Any]

# Measured (DESIGN.md): 10,000 rows per UNWIND batch keeps FalkorDB's MERGE near its best rate.
DEFAULT_BATCH_SIZE = 10_000


@runtime_checkable
class GraphStore(Protocol):
    """What the rest of modelgenes needs from a graph database."""

    @property
    def uri(self) -> str:
        """Where the store lives, for messages (``embedded:/path`` or ``neo4j://host:7687``)."""
        ...

    @property
    def kind(self) -> str:
        """``embedded`` or ``neo4j``."""
        ...

    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, name: str = "query"
    ) -> list[Row]:
        """Run one statement in its own transaction; return its rows as dicts keyed by column.

        ``name`` identifies the statement in a ``QueryError``.
        """
        ...

    def write_rows(
        self,
        cypher: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        name: str = "write",
    ) -> int:
        """Run ``cypher`` (which reads ``$rows``) once per batch of rows, one transaction per batch.

        A batch that fails leaves none of its rows. Returns the number of rows written.
        """
        ...

    def ensure_schema(self) -> None:
        """Create the indexes and constraints of ``kb.schema``; harmless when they exist."""
        ...

    def clear(self) -> None:
        """Delete every node and relationship (the schema stays)."""
        ...

    def close(self) -> None:
        """Release connections (an embedded server keeps running for the next call)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def batches(rows: Sequence[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    """Consecutive slices of ``rows`` of at most ``size`` items."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


class StoreBase(ABC):
    """What both stores share: batched writes over ``query``, ``clear``, and the context manager.

    A subclass provides ``uri``, ``query``, ``ensure_schema`` and ``close``.
    """

    @abstractmethod
    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, name: str = "query"
    ) -> list[Row]:
        """Run one statement in its own transaction (see ``GraphStore.query``)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def write_rows(
        self,
        cypher: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        name: str = "write",
    ) -> int:
        # Each query is one transaction in both stores: a failing batch leaves none of its rows.
        written = 0
        for batch in batches(rows, batch_size):
            self.query(cypher, {"rows": batch}, name=name)
            written += len(batch)
        return written

    def clear(self) -> None:
        from modelgenes.cypher.catalog import get_query

        query = get_query("admin/clear")
        self.query(query.text, name=query.name)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
