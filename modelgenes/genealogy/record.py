"""``ModelRecord``: everything modelgenes learned about one model file, ready to be stored.

A record is what batch ingest's workers return (extraction is a pure function path → record) and
what the knowledge-base writer stores; it holds plain, picklable values only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelgenes.genealogy.weights import WeightSketch, sketch_or_none
from modelgenes.ingest.graph import ModelGraph, ModelInfo
from modelgenes.ingest.metadata import ManifestRow
from modelgenes.signatures.model import Library
from modelgenes.signatures.score import Identification

__all__ = ["ComponentFact", "FamilyFact", "MatchFact", "ModelRecord", "extract", "record_from"]


@dataclass(frozen=True)
class MatchFact:
    """One signature that matched: how often, and which share of the graph it explains."""

    signature_id: str
    family: str  # the family the signature indicates ("_broad" for broad signatures)
    specificity: str  # "family" or "broad"
    count: int
    coverage: float
    nodes: tuple[str, ...] = ()  # node names of the instances (first nodes, capped for storage)


@dataclass(frozen=True)
class FamilyFact:
    """An identified family with its score and the evidence (signature ids) behind it."""

    name: str
    modality: str
    score: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComponentFact:
    """One part of a multi-part model, in data-flow order (an OCR model: resnet → lstm)."""

    index: int
    family: str
    first: str
    last: str
    nodes: int


@dataclass(frozen=True)
class ModelRecord:
    """The stored view of one model: identity and metadata, graph facts, identification."""

    info: ModelInfo
    arch_hash: str
    node_count: int
    op_counts: Mapping[str, int] = field(default_factory=dict)
    quantised: bool = False
    matches: tuple[MatchFact, ...] = ()
    families: tuple[FamilyFact, ...] = ()  # best first
    components: tuple[ComponentFact, ...] = ()
    unknown: bool = True
    weights: WeightSketch | None = None  # per-tensor weight sketch (genealogy.weights), when readable

    @property
    def id(self) -> str:
        """The model's identity in the knowledge base: its file's sha256."""
        return self.info.sha256


def record_from(
    graph: ModelGraph,
    info: ModelInfo,
    identification: Identification,
    library: Library,
    weights: WeightSketch | None = None,
) -> ModelRecord:
    """Combine the ingest and signature stages' values for one model into its record."""
    by_id = {s.id: s for s in library.signatures}
    matches = []
    for m in identification.matches:
        if not m.instances:
            continue
        sig = by_id.get(m.signature_id)
        matches.append(
            MatchFact(
                signature_id=m.signature_id,
                family=sig.family if sig else "",
                specificity=sig.specificity if sig else "",
                count=m.count,
                coverage=round(m.coverage, 4),
                nodes=tuple(name for instance in m.names for name in instance[:1]),
            )
        )
    families = tuple(
        FamilyFact(
            name=f.name,
            modality=library.families[f.name].modality if f.name in library.families else "",
            score=round(f.score, 4),
            evidence=f.evidence,
        )
        for f in identification.families
    )
    components = tuple(
        ComponentFact(index=i, family=c.family, first=c.first, last=c.last, nodes=c.nodes)
        for i, c in enumerate(identification.components)
    )
    return ModelRecord(
        info=info,
        arch_hash=graph.wl_hash(),
        node_count=len(graph.nodes),
        op_counts=dict(graph.op_histogram()),
        quantised=any(n.quantised for n in graph.nodes),
        matches=tuple(matches),
        families=families,
        components=components,
        unknown=identification.unknown,
        weights=weights,
    )


def extract(
    path: str | Path, manifest_row: ManifestRow | None = None, *, sha256: str | None = None
) -> ModelRecord:
    """The pure function batch ingest runs in its workers: one model file → its record.
    ``sha256``, when the caller has hashed the file already, spares a second read of it.

    Raises the ingest stage's errors (``UnreadableModel``, ``UnsafeModel``, ...) for a bad file.
    """
    from modelgenes.ingest.metadata import read_model_with_metadata
    from modelgenes.signatures.model import load_library
    from modelgenes.signatures.score import identify

    graph, info = read_model_with_metadata(Path(path), manifest_row, sha256=sha256)
    library = load_library()
    warnings: list[str] = []
    weights = sketch_or_none(path, warnings.append) if info.format == "onnx" else None
    if warnings:
        info = dataclasses.replace(info, warnings=(*info.warnings, *warnings))
    return record_from(graph, info, identify(graph, library), library, weights)
