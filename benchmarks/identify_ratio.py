"""Identify time over parse time per corpus model, and identify time against graph size (1k/5k/20k nodes).

Run: .venv/bin/python benchmarks/identify_ratio.py [CORPUS_DIR]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from modelgenes.ingest.formats import read_model
from modelgenes.ingest.graph import ModelGraph
from modelgenes.signatures.eval import read_labels, resolve_corpus_path
from modelgenes.signatures.model import load_library
from modelgenes.signatures.samples import sample_graph
from modelgenes.signatures.score import identify


def _stack(block: ModelGraph, nodes: int) -> ModelGraph:
    """``block`` repeated until ``nodes``, each copy's last node feeding the next copy's first."""
    copies = max(1, nodes // len(block.nodes))
    out_nodes, edges = [], []
    n = len(block.nodes)
    for c in range(copies):
        out_nodes.extend(
            type(node)(**{**{f: getattr(node, f) for f in node.__slots__}, "name": f"{c}/{node.name}"})
            for node in block.nodes
        )
        edges.extend((a + c * n, b + c * n) for a, b in block.edges)
        if c:
            edges.append((c * n - 1, c * n))
    return ModelGraph(nodes=tuple(out_nodes), edges=tuple(sorted(set(edges))))


def main() -> None:
    library = load_library()
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tests/data/zoo")
    labels = corpus / "labels.csv"
    if labels.exists():
        ratios = []
        for row in read_labels(labels):
            path = resolve_corpus_path(corpus, row.path)
            t0 = time.perf_counter()
            graph, _ = read_model(path)
            t1 = time.perf_counter()
            identify(graph, library)
            t2 = time.perf_counter()
            ratios.append((t2 - t1) / (t1 - t0))
            print(
                f"{row.path:60s} nodes={len(graph.nodes):5d} parse={1e3 * (t1 - t0):7.1f}ms "
                f"identify={1e3 * (t2 - t1):7.1f}ms ratio={ratios[-1]:.2f}"
            )
        ratios.sort()
        print(f"identify/parse: median {ratios[len(ratios) // 2]:.2f}, max {ratios[-1]:.2f} ({len(ratios)})")
    block = sample_graph("bert_encoder")
    for size in (1000, 5000, 20000):
        graph = _stack(block, size)
        t0 = time.perf_counter()
        identify(graph, library)
        print(f"deep stack: nodes={len(graph.nodes):6d} identify={1e3 * (time.perf_counter() - t0):8.1f}ms")


if __name__ == "__main__":
    main()
