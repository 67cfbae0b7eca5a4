"""Derivation inference at scale: candidates come from index look-ups, so a batch costs the same whether
the store holds 5,000 or 50,000 models, while reading every stored sketch (what comparing all pairs
needs) grows with the store.

Fills an embedded store (temporary data dir, its own server) with synthetic models: clusters of
``--cluster`` models sharing a weight-shape hash (each a noisy copy of its cluster's weights), every
model stored with its weight sketch as ingest stores it and marked as already inferred. Then, at each
size, it adds ``--batch`` new models (each a near copy of a random cluster's weights) and times
``kb.derivations.infer_derivations`` for them (candidate look-ups, sketch comparisons, edge writes),
against the time to read the probe of every stored model (the floor of any all-pairs search).

    python benchmarks/derivation_scale.py [--sizes 5000,50000] [--cluster 20] [--batch 32]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from modelgenes.cypher.catalog import get_query
from modelgenes.genealogy.weights import WeightSketch, sketch_arrays
from modelgenes.kb.derivations import INFERENCE_VERSION, infer_derivations
from modelgenes.kb.falkor import EmbeddedServer, FalkorStore

# Benchmark-only read: every stored probe, what an all-pairs candidate search would have to fetch.
_READ_ALL = "MATCH (m:Model) RETURN m.id AS id, m.weightProbe AS probe"


def _cluster_sketch(cluster: int) -> WeightSketch:
    rng = np.random.default_rng(cluster)
    return sketch_arrays([rng.normal(0, 0.05, (64, 64)) for _ in range(6)])


def _variant(base: WeightSketch, rng: np.random.Generator, noise: float) -> WeightSketch:
    tensors = []
    for t in base.tensors:
        samples = np.asarray(t.samples) + rng.normal(0, noise * t.std, len(t.samples))
        tensors.append(dataclasses.replace(t, samples=tuple(float(np.float32(v)) for v in samples)))
    return dataclasses.replace(base, tensors=tuple(tensors))


def _row(i: int, cluster: int, sketch: WeightSketch, inferred: bool) -> dict[str, Any]:
    return {
        "id": f"{i:064x}",
        "props": {
            "name": f"model-{i}",
            "format": "onnx",
            "params": 6 * 64 * 64,
            "archHash": f"{cluster % 97:064x}",  # architectures are shared by many clusters
            "quantised": False,
            "ingestedAt": "2025-01-01T00:00:00+00:00",
            "derivationsInferred": INFERENCE_VERSION if inferred else None,
            **sketch.to_props(),
            # one weight-shape hash per cluster (the synthetic tensors all have one shape)
            "shapesHash": f"{cluster:016x}",
        },
    }


def _fill(store: FalkorStore, start: int, stop: int, cluster_size: int) -> None:
    rng = np.random.default_rng(start)
    bases: dict[int, WeightSketch] = {}
    rows = []
    for i in range(start, stop):
        cluster = i // cluster_size
        base = bases.setdefault(cluster, _cluster_sketch(cluster))
        rows.append(_row(i, cluster, _variant(base, rng, 0.3), inferred=True))
    store.write_rows(get_query("write/upsert_models").text, rows, batch_size=5_000)


def _one_size(
    store: FalkorStore, size: int, cluster_size: int, batch: int, next_id: int
) -> tuple[float, float]:
    rng = np.random.default_rng(size)
    clusters = size // cluster_size
    rows = []
    for j in range(batch):
        cluster = int(rng.integers(0, clusters))
        rows.append(_row(next_id + j, cluster, _variant(_cluster_sketch(cluster), rng, 0.05), inferred=False))
    store.write_rows(get_query("write/upsert_models").text, rows)
    started = time.perf_counter()
    report = infer_derivations(store, [r["id"] for r in rows])
    inferred = time.perf_counter() - started
    assert report.models == batch and report.edges >= batch, report
    started = time.perf_counter()
    every = store.query(_READ_ALL)
    read_all = time.perf_counter() - started
    assert len(every) >= size
    return inferred, read_all


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="5000,50000", help="store sizes, ascending, comma-separated")
    parser.add_argument("--cluster", type=int, default=20, help="models per weight-shape hash")
    parser.add_argument("--batch", type=int, default=32, help="new models per inference run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        try:
            with FalkorStore(server.home, graph="bench_derivation") as store:
                store.ensure_schema()
                stored = 0
                for k, size in enumerate(sizes):
                    filled = time.perf_counter()
                    _fill(store, stored, size, args.cluster)
                    filled = time.perf_counter() - filled
                    stored = size
                    inferred, read_all = _one_size(store, size, args.cluster, args.batch, 10**9 * (k + 1))
                    results.append((size, filled, inferred, read_all))
        finally:
            server.stop()
    print(f"batch: {args.batch} new models; clusters of {args.cluster} models per weight-shape hash")
    for size, filled, inferred, read_all in results:
        print(
            f"{size:>7,} stored (filled in {filled:5.1f} s): inference {inferred * 1000:7.1f} ms "
            f"({inferred / args.batch * 1000:5.2f} ms/model)   read every probe {read_all * 1000:7.1f} ms"
        )
    (small, _, inf_small, all_small), (large, _, inf_large, all_large) = results[0], results[-1]
    print(
        f"{large // small}x the models: inference {inf_large / inf_small:.2f}x, "
        f"reading every stored probe {all_large / all_small:.2f}x"
    )


if __name__ == "__main__":
    main()
