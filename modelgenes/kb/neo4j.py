"""The production store: Neo4j 5 through the official driver.

Connection settings come from options or the environment: ``MODELGENES_STORE`` (URI),
``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import neo4j
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

from modelgenes.errors import QueryError, StoreUnavailable
from modelgenes.kb.schema import neo4j_statements
from modelgenes.kb.store import Row, StoreBase
from modelgenes.kb.values import plain

__all__ = ["NEO4J_SCHEMES", "Neo4jStore"]

NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")


class Neo4jStore(StoreBase):
    """``GraphStore`` over a Neo4j 5 server."""

    kind = "neo4j"

    def __init__(
        self,
        uri: str,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        *,
        connection_timeout: float = 10.0,
    ) -> None:
        self._uri = uri
        user = user if user is not None else os.environ.get("NEO4J_USERNAME", "neo4j")
        password = password if password is not None else os.environ.get("NEO4J_PASSWORD", "")
        self._database = database or os.environ.get("NEO4J_DATABASE") or None
        try:
            self._driver = GraphDatabase.driver(
                uri,
                auth=(user, password),
                connection_timeout=connection_timeout,
                max_transaction_retry_time=5.0,
            )
            self._driver.verify_connectivity()
        except (ServiceUnavailable, AuthError, DriverError, ValueError, OSError) as e:
            raise StoreUnavailable(uri, _cause(e)) from e

    @property
    def uri(self) -> str:
        return self._uri

    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, name: str = "query"
    ) -> list[Row]:
        try:
            records, _summary, keys = self._driver.execute_query(
                neo4j.Query(cypher),
                dict(params) if params else None,
                database_=self._database,
            )
        except ServiceUnavailable as e:
            raise StoreUnavailable(self._uri, _cause(e)) from e
        except (Neo4jError, DriverError) as e:
            raise QueryError(name, _cause(e)) from e
        return [{k: plain(r[k]) for k in keys} for r in records]

    def ensure_schema(self) -> None:
        for statement in neo4j_statements():
            self.query(statement, name="schema")

    def close(self) -> None:
        self._driver.close()


def _cause(e: BaseException) -> str:
    message = getattr(e, "message", None) or str(e) or type(e).__name__
    code = getattr(e, "code", None)
    return f"{code}: {message}" if code else str(message)
