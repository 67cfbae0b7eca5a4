"""Scoring: from signature matches to families, components and ``unknown``.

- A family's score is the noisy-or of the weights of its *specific* signatures that matched at least
  ``min_repetitions`` times: ``1 - Π(1 - weight)``. Broad signatures never name a family; they are
  relatedness evidence only.
- A family is claimed when its score reaches the library threshold (``families.yaml``). When a family
  and a curated variant of it (``variant_of``) are both claimed, the variant wins (RoBERTa refines BERT).
- Claimed families are ranked by coverage (share of graph nodes their instances explain), then score:
  every claimed family already passed the threshold, and the one explaining most of the graph is what
  the model is (a CRNN is a ResNet backbone with an LSTM head).
- Components: one per claimed family, ordered along the data flow by the median topological position
  of its instances' nodes (CRNN: resnet → lstm).
- Nothing claimed → ``unknown``: never a forced guess.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from modelgenes.ingest.graph import ModelGraph
from modelgenes.signatures.match import GraphIndex, Match, match_all
from modelgenes.signatures.model import Library, Signature, load_library

__all__ = ["Component", "FamilyScore", "Identification", "identify", "score_matches"]


@dataclass(frozen=True)
class FamilyScore:
    """One claimed family: score in [0, 1], evidence lines, coverage and instance count."""

    name: str
    score: float
    evidence: tuple[str, ...]
    coverage: float
    instances: int


@dataclass(frozen=True)
class Component:
    """A family's part of the graph: node count, first and last node (topological), mean position."""

    family: str
    nodes: int
    first: str
    last: str
    position: float


@dataclass(frozen=True)
class Identification:
    """What the graph is: claimed families (best first), components (data-flow order), signature counts,
    broad (relatedness) evidence, and whether the answer is ``unknown``."""

    families: tuple[FamilyScore, ...]
    components: tuple[Component, ...]
    signatures: dict[str, int]
    broad: tuple[str, ...]
    matches: tuple[Match, ...]
    candidates: tuple[FamilyScore, ...]  # every family with any specific evidence, claimed or not

    @property
    def unknown(self) -> bool:
        return not self.families

    @property
    def top(self) -> str | None:
        return self.families[0].name if self.families else None

    def to_json(self, path: str) -> dict[str, object]:
        """The ``identify --format json`` object for one file."""
        return {
            "path": path,
            "families": [
                {"name": f.name, "score": round(f.score, 4), "evidence": list(f.evidence)}
                for f in self.families
            ],
            "components": [
                {"family": c.family, "nodes": c.nodes, "first": c.first, "last": c.last}
                for c in self.components
            ],
            "signatures": dict(self.signatures),
            "unknown": self.unknown,
        }


def _family_scores(
    library: Library, matches: Iterable[Match], n_nodes: int
) -> tuple[dict[str, FamilyScore], dict[str, set[int]]]:
    by_id: dict[str, Signature] = {s.id: s for s in library.signatures}
    matches = list(matches)
    present = {m.signature_id for m in matches if m.count >= by_id[m.signature_id].min_repetitions}
    miss: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    nodes: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for m in matches:
        sig = by_id[m.signature_id]
        if sig.is_broad or m.count < sig.min_repetitions:
            continue
        if any(other in present for other in sig.unless):
            continue  # e.g. an encoder-only signature in a graph that has a cross-attention decoder
        miss[sig.family] = miss.get(sig.family, 1.0) * (1.0 - sig.weight)
        evidence.setdefault(sig.family, []).append(f"{sig.id} ×{m.count} (weight {sig.weight:g})")
        covered = nodes.setdefault(sig.family, set())
        for inst in m.instances:
            covered.update(inst)
        counts[sig.family] = counts.get(sig.family, 0) + m.count
    scores = {
        fam: FamilyScore(
            fam,
            1.0 - miss[fam],
            tuple(evidence[fam]),
            len(nodes[fam]) / n_nodes if n_nodes else 0.0,
            counts[fam],
        )
        for fam in miss
    }
    return scores, nodes


def score_matches(library: Library, index: GraphIndex, matches: Iterable[Match]) -> Identification:
    """Families, components and ``unknown`` from the matches of every library signature on one graph."""
    matches = tuple(matches)
    n_nodes = len(index.graph.nodes)
    scores, nodes = _family_scores(library, matches, n_nodes)
    claimed = {f for f, s in scores.items() if s.score >= library.threshold - 1e-9}
    for fam in list(claimed):
        parent = library.families[fam].variant_of if fam in library.families else None
        while parent is not None:
            claimed.discard(parent)
            parent = library.families[parent].variant_of
    ranked = sorted((scores[f] for f in claimed), key=lambda s: (-s.coverage, -s.score, s.name))
    candidates = sorted(scores.values(), key=lambda s: (-round(s.score, 6), -s.coverage, s.name))
    rank = index.topo_rank
    graph_nodes = index.graph.nodes
    components = []
    for fam in claimed:
        members = sorted(nodes[fam], key=lambda i: rank[i])
        components.append(
            Component(
                fam,
                len(members),
                graph_nodes[members[0]].name,
                graph_nodes[members[-1]].name,
                float(statistics.median(rank[i] for i in members)),
            )
        )
    components.sort(key=lambda c: (c.position, c.family))
    by_id = {s.id: s for s in library.signatures}
    broad = tuple(m.signature_id for m in matches if by_id[m.signature_id].is_broad and m.count)
    return Identification(
        families=tuple(ranked),
        components=tuple(components),
        signatures={m.signature_id: m.count for m in matches if m.count},
        broad=broad,
        matches=matches,
        candidates=tuple(candidates),
    )


def identify(graph: ModelGraph | GraphIndex, library: Library | None = None) -> Identification:
    """Match every signature of the library (default: the shipped one) and score the result."""
    library = library or load_library()
    index = graph if isinstance(graph, GraphIndex) else GraphIndex(graph)
    return score_matches(library, index, match_all(index, library.signatures))
