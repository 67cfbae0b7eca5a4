"""``ModelRecord``: everything modelgenes learned about one model file, ready to be stored.

A record is what batch ingest's workers return (extraction is a pure function path → record) and
what the knowledge-base writer stores; it holds plain, picklable values only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from modelgenes.ingest.graph import ModelInfo

__all__ = ["ComponentFact", "FamilyFact", "MatchFact", "ModelRecord"]


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

    @property
    def id(self) -> str:
        """The model's identity in the knowledge base: its file's sha256."""
        return self.info.sha256
