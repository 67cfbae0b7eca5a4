"""Write throughput of the embedded store: UNWIND ... MERGE of Model rows against the raw CREATE floor.

Runs in a temporary data dir with its own server. Prints rows/s for the plain Model-node upsert
(``cypher/write/upsert_models.cypher``: MERGE on the id key, indexes created first as ``ensure_schema``
does; ingest's whole-model statement, ``write/upsert_model_records``, is timed by kb_scale.py) and for a raw
``UNWIND ... CREATE`` of the same rows into an empty graph without indexes, and their ratio.

    python benchmarks/store_write.py [--rows 100000] [--batch 10000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from modelgenes.cypher.catalog import get_query
from modelgenes.kb.falkor import EmbeddedServer, FalkorStore

# The floor: no MERGE lookup, no index maintenance. A benchmark-only statement, never shipped.
_RAW_CREATE = "UNWIND $rows AS r CREATE (m:Model) SET m.id = r.id, m += r.props"


def _rows(n: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"{i:064x}",
            "props": {
                "name": f"model-{i}",
                "format": "onnx",
                "params": i * 17,
                "archHash": f"{i % 997:016x}",
            },
        }
        for i in range(n)
    ]


def _timed_write(store: FalkorStore, statement: str, rows: list[dict[str, object]], batch: int) -> float:
    start = time.perf_counter()
    store.write_rows(statement, rows, batch_size=batch)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    rows = _rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        try:
            with FalkorStore(server.home, graph="bench_floor") as floor:
                create_s = _timed_write(floor, _RAW_CREATE, rows, args.batch)
            with FalkorStore(server.home, graph="bench_merge") as store:
                store.ensure_schema()
                merge_s = _timed_write(store, get_query("write/upsert_models").text, rows, args.batch)
                again_s = _timed_write(store, get_query("write/upsert_models").text, rows, args.batch)
                count = store.query("MATCH (m:Model) RETURN count(m) AS n")[0]["n"]
        finally:
            server.stop()
    assert count == args.rows, f"expected {args.rows} models, found {count}"
    n = args.rows
    print(f"rows: {n:,}  batch: {args.batch:,}")
    print(f"raw UNWIND CREATE (floor): {create_s:6.2f} s  {n / create_s:>10,.0f} rows/s")
    print(f"UNWIND MERGE (new rows):   {merge_s:6.2f} s  {n / merge_s:>10,.0f} rows/s")
    print(f"UNWIND MERGE (unchanged):  {again_s:6.2f} s  {n / again_s:>10,.0f} rows/s")
    print(f"ratio MERGE/CREATE: {merge_s / create_s:.2f}x   (re-MERGE/CREATE: {again_s / create_s:.2f}x)")


if __name__ == "__main__":
    main()
