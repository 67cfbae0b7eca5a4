"""Knowledge-base scale: end-to-end ingest rate on the corpus, then a 50,000-model synthetic KB.

    python benchmarks/kb_scale.py [--models 50000] [--runs 50] [--skip-corpus]

Part 1 ingests the repo's corpus (tests/data) into a fresh embedded store with the real pipeline
(read, normalise, identify, write) and prints models/s. Part 2 writes synthetic records of realistic
shape (30 families, 3-8 signature matches, components, licenses, publishers, datasets, declared
bases forming DERIVED_FROM chains up to depth 8) with the same writer, then prints rows/s and the
p50/p95 latency of every named read query. Goals: >= 50 models/s end to end; lineage p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from modelgenes.cypher.catalog import NamedQuery, all_queries
from modelgenes.genealogy.record import ComponentFact, FamilyFact, MatchFact, ModelRecord
from modelgenes.ingest.graph import ModelInfo
from modelgenes.kb import write
from modelgenes.kb.batch import ingest_paths
from modelgenes.kb.falkor import EmbeddedServer, FalkorStore
from modelgenes.report.audit import run_audit

REPO = Path(__file__).resolve().parents[1]
FAMILIES = [f"family{i:02d}" for i in range(30)]
BROAD = [f"_broad/b{i}@1" for i in range(8)]
OPS = [
    "Conv",
    "Relu",
    "Add",
    "MatMul",
    "Softmax",
    "LayerNorm",
    "Gelu",
    "Concat",
    "Reshape",
    "Transpose",
    "Gemm",
]
LICENSES = ["Apache-2.0", "MIT", "CC-BY-NC-4.0", "llama3.1", "openrail", "GPL-3.0-only"]
CHAIN = 8


def _synthetic(i: int, rng: random.Random) -> ModelRecord:
    family = FAMILIES[i % len(FAMILIES)]
    # Models come in chains of CHAIN: each declares the previous one of its chain as its base.
    base = (f"org{(i - 1) // 100}/model-{i - 1}",) if i % CHAIN else ()
    info = ModelInfo(
        sha256=f"{i:064x}",
        path=f"/synthetic/model-{i}.onnx",
        format="onnx",
        producer="pytorch",
        opset=17,
        size_bytes=rng.randint(10**5, 10**9),
        params=rng.randint(10**5, 10**9),
        name=f"model-{i}",
        hub_id=f"org{i // 100}/model-{i}",
        publisher=f"org{i // 100}",
        license=rng.choice(LICENSES),
        base_models=base,
        base_model_relation=rng.choice(["finetune", "quantized", "adapter"]) if base else "",
        datasets=(f"dataset{rng.randint(0, 200)}",),
        task="text-classification",
    )
    specific = [f"{family}/sig{k}@1" for k in range(rng.randint(1, 3))]
    broad = rng.sample(BROAD, rng.randint(2, 5))
    matches = tuple(
        MatchFact(
            s,
            family if s in specific else "_broad",
            "family" if s in specific else "broad",
            rng.randint(1, 24),
            0.3,
        )
        for s in specific + broad
    )
    families = (FamilyFact(family, "text", round(rng.uniform(0.6, 1.0), 3), tuple(specific)),)
    if i % 17 == 0:
        other = FAMILIES[(i + 7) % len(FAMILIES)]
        families += (FamilyFact(other, "text", 0.7, (f"{other}/sig0@1",)),)
    components = tuple(ComponentFact(k, f.name, f"n{k}0", f"n{k}9", 50) for k, f in enumerate(families))
    return ModelRecord(
        info=info,
        arch_hash=f"{i % 500:016x}",
        node_count=rng.randint(200, 5000),
        op_counts={op: rng.randint(1, 50) for op in rng.sample(OPS, 6)},
        matches=matches,
        families=families,
        components=components,
        unknown=False,
    )


def _params(query: NamedQuery, rng: random.Random, n: int) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for p in query.params:
        if p.type == "model":
            values[p.name] = f"{rng.randrange(n):064x}"
        elif p.name == "family":
            values[p.name] = rng.choice(FAMILIES)
        elif p.name == "ref":
            values[p.name] = f"model-{rng.randrange(n)}"
        else:
            values[p.name] = p.coerce(p.default) if p.default is not None else 10
    return values


def _corpus_rate(home: Path) -> None:
    sources = [REPO / "tests" / "data"]
    with FalkorStore(home, graph="bench_corpus") as store:
        store.ensure_schema()
        report = ingest_paths(store, sources, batch_name="bench-corpus")
    n = report.new + report.failed
    print(f"end-to-end ingest of the corpus: {report.new} models ({report.failed} failed)")
    print(f"  in {report.seconds:.2f} s")
    print(f"  = {n / report.seconds:,.1f} models/s (goal >= 50)")


def _scale(home: Path, n: int, runs: int) -> None:
    rng = random.Random(7)
    records = [_synthetic(i, rng) for i in range(n)]
    with FalkorStore(home, graph="bench_scale") as store:
        store.ensure_schema()
        signatures = {m.signature_id: m for r in records for m in r.matches}
        write.sync_library(
            store,
            [write.FamilyRow(f, "text") for f in FAMILIES],
            [write.SignatureRow(s, m.family, m.specificity) for s, m in signatures.items()],
        )
        write.start_batch(store, "bench", "synthetic", "now")
        start = time.perf_counter()
        for k in range(0, n, 500):
            group = [(r, r.info.path) for r in records[k : k + 500]]
            _, refused = write.write_records(store, group, "bench", "now")
            assert not refused, refused[:1]
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        links = len(write.link_declared_bases(store))
        link_s = time.perf_counter() - start
        print(f"\nsynthetic KB: {n:,} models written in {write_s:.1f} s = {n / write_s:,.0f} models/s")
        print(f"declared-base DERIVED_FROM edges: {links:,} in {link_s:.1f} s")
        print(f"\n{'query':34} {'p50 ms':>8} {'p95 ms':>8} {'rows':>6}")
        for name, query in sorted(all_queries().items()):
            # Audit and license queries take the license rules as parameters: timed below as the audit.
            if name.startswith(("write/", "admin/", "audit/", "license/")):
                continue
            times, rows = [], 0
            for _ in range(runs):
                params = _params(query, rng, n)
                t0 = time.perf_counter()
                rows = len(store.query(query.text, params, name=name))
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
            print(f"{name:34} {statistics.median(times):8.1f} {p95:8.1f} {rows:6}")
        start = time.perf_counter()
        report = run_audit(store)
        audit_ms = (time.perf_counter() - start) * 1000
        print(f"{'audit (every finding query)':34} {audit_ms:8.1f} {'':>8} {len(report.findings):6}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--skip-corpus", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp))
        try:
            if not args.skip_corpus:
                _corpus_rate(server.home)
            _scale(server.home, args.models, args.runs)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
