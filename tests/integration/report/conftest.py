"""The audit's fixture knowledge base: tests/data/hub (Hugging-Face-cache-style folders with model
cards, built by scripts/build_hub_samples.py) ingested into a fresh embedded store of its own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelgenes.kb.batch import ingest_paths
from modelgenes.kb.falkor import EmbeddedServer, FalkorStore

HUB = Path(__file__).resolve().parents[2] / "data" / "hub"


@dataclass(frozen=True)
class HubKB:
    store: FalkorStore
    home: Path  # MODELGENES_HOME of the store, for CLI tests


@pytest.fixture(scope="package")
def hub_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubKB]:
    home = tmp_path_factory.mktemp("hub-kb")
    server = EmbeddedServer(home)
    server.start()
    store = FalkorStore(home)
    store.ensure_schema()
    report = ingest_paths(store, [HUB], batch_name="hub", workers=1)
    assert report.failures == [] and report.new == report.files > 0
    yield HubKB(store, home)
    store.close()
    server.stop()
