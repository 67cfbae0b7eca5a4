"""Fixtures shared by every test: a real embedded store, and Neo4j through testcontainers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelgenes.kb.falkor import EmbeddedServer, FalkorStore
from modelgenes.kb.store import GraphStore

NEO4J_IMAGE = "neo4j:5.26-community"


@pytest.fixture(scope="session")
def embedded_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir with a running embedded server, stopped at the end of the session."""
    home = tmp_path_factory.mktemp("modelgenes-home")
    server = EmbeddedServer(home)
    server.start()
    yield home
    server.stop()


@pytest.fixture()
def embedded_store(embedded_home: Path) -> Iterator[FalkorStore]:
    """The session's embedded store, emptied before the test, schema in place."""
    store = FalkorStore(embedded_home)
    store.clear()
    store.ensure_schema()
    yield store
    store.close()


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers, else why not (printed as the skip reason)."""
    try:
        import docker

        docker.from_env().ping()
    except Exception as e:
        return f"no Docker engine answers ({type(e).__name__}: {str(e)[:120]}); Neo4j container tests skipped"
    return None


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    """A Neo4j 5 server from testcontainers; skips with the reason when Docker is not there."""
    reason = docker_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from testcontainers.community.neo4j import Neo4jContainer

    with Neo4jContainer(NEO4J_IMAGE, password="modelgenes-test") as container:
        os.environ["NEO4J_USERNAME"] = container.username
        os.environ["NEO4J_PASSWORD"] = container.password
        yield container.get_connection_url()


@pytest.fixture()
def neo4j_store(neo4j_uri: str) -> Iterator[GraphStore]:
    from modelgenes.kb.neo4j import Neo4jStore

    store = Neo4jStore(neo4j_uri)
    store.clear()
    store.ensure_schema()
    yield store
    store.close()


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def any_store(request: pytest.FixtureRequest) -> GraphStore:
    """The store contract runs against both stores."""
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]
