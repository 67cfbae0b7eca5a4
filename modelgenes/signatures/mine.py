"""Mining draft signatures (``signatures suggest``): subgraphs that recur in every given model of a
family and occur in no graph of any other family the library knows.

Each node gets a hashed, direction-aware neighbourhood label (Weisfeiler-Lehman style, ``radius``
rounds over canonical ops). Labels present in all given models and absent from every other family's
sample graphs and named corpus models are candidates; the best (most distinct ops around it) is cut
out of the first model as a pattern — the root, its producers and consumers up to ``radius`` hops,
data-flow edges among them — checked to match every given model, and written as signature YAML.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from modelgenes.errors import ModelgenesError
from modelgenes.ingest.graph import ModelGraph
from modelgenes.signatures.match import GraphIndex, match_signature
from modelgenes.signatures.model import Library, parse_signature
from modelgenes.signatures.samples import sample_graph

__all__ = ["Suggestion", "neighbourhood_labels", "suggest"]

# Ops that carry no architecture by themselves: a neighbourhood made only of them is not a signature.
_PLUMBING = frozenset(
    {"Reshape", "Transpose", "Cast", "Unsqueeze", "Squeeze", "Shape", "Gather", "Concat", "Slice", "Expand"}
)
_MAX_NODES = 10


@dataclass(frozen=True)
class Suggestion:
    """A draft signature: its YAML text, the label it came from and how many candidates there were."""

    yaml_text: str
    label: str
    candidates: int
    nodes: int


def _h(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def neighbourhood_labels(graph: ModelGraph, radius: int = 2) -> list[str]:
    """Per node, a hash of its ops neighbourhood after ``radius`` rounds (producers and consumers apart)."""
    index = GraphIndex(graph)
    labels = [n.op for n in graph.nodes]
    for _ in range(radius):
        labels = [
            _h(
                labels[i]
                + "<"
                + ",".join(sorted(labels[p] for p in set(index.pred[i])))
                + ">"
                + ",".join(sorted(labels[s] for s in set(index.succ[i])))
            )
            for i in range(len(labels))
        ]
    return labels


def _region(index: GraphIndex, root: int, radius: int) -> list[int]:
    """The root and nodes up to ``radius`` hops upstream or downstream, nearest first, capped."""
    seen = {root: 0}
    frontier = [root]
    for hop in range(1, radius + 1):
        nxt = []
        for f in frontier:
            for j in [*index.pred[f], *index.succ[f]]:
                if j not in seen and len(seen) < _MAX_NODES:
                    seen[j] = hop
                    nxt.append(j)
        frontier = nxt
    return list(seen)


def _pattern_yaml(
    family: str, name: str, graph: ModelGraph, region: Sequence[int], sources: Sequence[str]
) -> str:
    index = GraphIndex(graph)
    ids = {g: f"n{k}" for k, g in enumerate(region)}
    nodes = []
    for g in region:
        node: dict[str, object] = {"id": ids[g], "op": graph.nodes[g].op}
        if graph.nodes[g].op == "Conv":
            kernel = index.prop(g, "kernel")
            if kernel is not None:
                node["where"] = {"kernel": list(kernel), "depthwise": bool(index.prop(g, "depthwise"))}
        nodes.append(node)
    region_set = set(region)
    edges = [[ids[a], ids[b]] for a, b in graph.edges if a in region_set and b in region_set]
    doc = {
        "id": f"{family}/{name}@1",
        "family": family,
        "specificity": "family",
        "description": (
            f"DRAFT mined by 'modelgenes signatures suggest' from {len(sources)} model(s): a subgraph "
            "recurring in all of them and absent from every other family in the library. Review the "
            "ops and edges, describe the structure it stands for, add samples, then run 'signatures test'."
        ),
        "references": [],
        "weight": 0.8,
        "min_repetitions": 1,
        "pattern": {"nodes": nodes, "edges": edges},
        "samples": {"positive": [], "negative": []},
        "corpus": {"match": list(sources)},
    }
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


def _other_family_graphs(library: Library, family: str, extra: Iterable[ModelGraph]) -> list[ModelGraph]:
    graphs = list(extra)
    names = {
        name
        for sig in library.signatures
        if sig.family != family and not sig.is_broad
        for name in sig.samples.positive
    }
    for name in sorted(names):
        try:
            graphs.append(sample_graph(name))
        except ModelgenesError:
            continue
    return graphs


def suggest(
    graphs: Sequence[ModelGraph],
    family: str,
    library: Library,
    sources: Sequence[str] = (),
    others: Iterable[ModelGraph] = (),
    radius: int = 2,
) -> Suggestion:
    """A draft signature for ``family`` from ``graphs``; ``others`` adds graphs of other families (e.g.
    labelled corpus models) to the library's own samples. Raises when nothing is distinctive."""
    if not graphs:
        raise ModelgenesError("suggest needs at least one model")
    per_model = [neighbourhood_labels(g, radius) for g in graphs]
    common = set(per_model[0]).intersection(*map(set, per_model[1:]))
    other_graphs = _other_family_graphs(library, family, others)
    foreign: set[str] = set()
    for g in other_graphs:
        foreign.update(neighbourhood_labels(g, radius))
    candidates = common - foreign
    first, labels = graphs[0], per_model[0]
    index = GraphIndex(first)
    ranked: list[tuple[int, int, int]] = []  # (-distinct ops, -region size, root)
    for i, label in enumerate(labels):
        if label not in candidates:
            continue
        region = _region(index, i, 1)
        ops = {first.nodes[j].op for j in region} - _PLUMBING
        if ops:
            ranked.append((-len(ops), -len(region), i))
    ranked.sort()
    name = f"suggested-{_h(family + ''.join(sorted(candidates)))[:8]}"
    for _, _, root in ranked[:50]:
        for r in (1, 2):
            region = _region(index, root, r)
            text = _pattern_yaml(family, name, first, region, sources)
            sig = parse_signature(yaml.safe_load(text), Path(f"{name}.yaml"))
            if all(match_signature(g, sig).count for g in graphs) and not any(
                match_signature(g, sig).count for g in other_graphs
            ):
                return Suggestion(text, labels[root], len(candidates), len(region))
    raise ModelgenesError(
        f"no subgraph recurs in all {len(graphs)} model(s) while being absent from the other families "
        f"({len(candidates)} candidate neighbourhood(s) found, none usable as a pattern)"
    )
