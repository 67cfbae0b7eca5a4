"""Derivation evidence: which model was made from which, how, and how sure we are.

Edges come from three sources, each kept with its own claims (``DerivationEdge.source``):

- ``declared``: a model card or manifest row names ``base_model`` (and ``base_model_relation``); the
  knowledge base links those by hub id (``cypher/write/link_declared_bases.cypher``). This module checks
  such claims against the weights (``check_declared``).
- ``weights``: per-tensor sketches (``genealogy.weights``) of two models with the same weight shapes are
  compared; near-identical weights are a ``conversion`` (or ``quantized`` when one side is quantised),
  close ones a ``finetune`` (``pruned`` when the child gained exact zeros). Which of the two is the parent
  is decided by ``orient`` (the direction heuristic, below).
- ``structure``: the same architecture hash → ``same-architecture`` (weak, undirected: stored in a stable
  direction and said so in the evidence); a quantised graph over the same weight shapes as a float model
  whose weights cannot be compared → ``quantized``.

Direction heuristic (``orient``): votes, strongest first; the side with the larger total is the parent.

====================  =====  ========================================================================
vote                  weight  the child is the model that ...
====================  =====  ========================================================================
declared              10     declares the other as its ``base_model``
quantised leaf        10     is quantised while the other is float (quantised models are leaves)
precision             3      stores its floats at lower precision (float16/bfloat16 vs float32)
pruning               3      has at least 5 % more exact zeros
creation time         4      was created or uploaded later (``createdAt``, where known)
weight drift          ≤ 2    has the larger weight norm (fine-tuning adds energy to random-looking
                             weights: ‖w+δ‖² ≈ ‖w‖² + ‖δ‖²; votes 2 when the drift is that expected
                             gain, less when smaller; only between float models at finetune-range
                             distances without pruning)
bare file             1      has no model card (nor manifest row) while the other has one
declares a base       0.5    (both with cards, or both without) declares some base model, the other
                             none
ingest order          0.75   was ingested in a later batch
opset                 0.25   uses the newer opset (an export or conversion moves forwards)
stable order          0.01   has the larger id (a fixed tie-break, reported as "undetermined")
====================  =====  ========================================================================

An edge's confidence is the relation's confidence (how clear the weights are) times the direction's
(0.5 when no vote speaks, 1.0 from a margin of 4 on).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from modelgenes.genealogy.weights import WeightComparison, WeightSketch, compare

__all__ = [
    "CONVERSION_MAX",
    "FINETUNE_MAX",
    "QUANTIZED_MAX",
    "RELATIONS",
    "SOURCES",
    "DeclaredCheck",
    "DerivationEdge",
    "DerivationPlan",
    "ModelFacts",
    "Orientation",
    "check_declared",
    "compatible",
    "infer",
    "orient",
    "weight_relation",
]

RELATIONS = (
    "finetune",
    "quantized",
    "adapter",
    "merge",
    "conversion",
    "pruned",
    "distilled",
    "same-architecture",
)
SOURCES = ("declared", "weights", "structure")

CONVERSION_MAX = 2e-3  # relative L2 distance: (near-)identical weights (float16 round-off is ~3e-4)
QUANTIZED_MAX = 0.15  # a quantised copy: int8 round-off is ~0.01, 4-bit ~0.1
FINETUNE_MAX = 0.6  # close enough to be a fine-tune (independent random weights are ~1.4 apart)
PRUNED_ZEROS = 0.05  # share of extra exact zeros that says "pruned"
UNRELATED_SHARE_MAX = 0.05  # a derived model has (almost) no tensor as far off as an independent one
TIE = 0.1  # candidates within 10 % of the nearest distance count as equally near
SAME_ARCHITECTURE_CONFIDENCE = 0.3
STRUCTURE_QUANTIZED_CONFIDENCE = 0.5

# Declared relations, and the weights' relations that agree with them.
_AGREES = {
    "finetune": {"finetune", "pruned"},
    "quantized": {"quantized", "conversion"},
    "conversion": {"conversion"},
    "adapter": {"finetune", "conversion"},
    "merge": {"finetune"},
    "pruned": {"pruned", "finetune"},
    "distilled": {"finetune"},
    "same-architecture": {"finetune", "conversion", "quantized", "pruned"},
}


@dataclass(frozen=True)
class ModelFacts:
    """What derivation needs to know about one model (from its record or its stored node)."""

    id: str
    name: str = ""
    hub_id: str = ""
    arch_hash: str = ""
    quantised: bool = False
    opset: int | None = None
    producer: str = ""
    base_models: tuple[str, ...] = ()  # declared, as hub ids
    base_model_relation: str = ""
    described: bool = False  # published with a model card or manifest row
    ingested_at: str = ""
    created_at: str = ""  # creation or upload time, ISO 8601, where known
    params: int = 0  # parameter count
    sketch: WeightSketch | None = None

    @property
    def label(self) -> str:
        return self.hub_id or self.name or self.id[:12]

    @property
    def shapes_hash(self) -> str | None:
        return self.sketch.shapes_hash if self.sketch is not None else None

    @property
    def low_precision(self) -> bool:
        """All float tensors stored as float16/bfloat16."""
        if self.sketch is None:
            return False
        floats = [t for t in self.sketch.tensors if not t.quantised]
        return bool(floats) and all(t.dtype in ("float16", "bfloat16") for t in floats)


@dataclass(frozen=True)
class DerivationEdge:
    """One claim: ``child_id`` derives from ``parent_id`` by ``relation``, per ``source``."""

    child_id: str
    parent_id: str
    relation: str
    evidence: tuple[str, ...]
    confidence: float
    source: str
    distance: float | None = None  # relative weight distance, where weights were compared


@dataclass(frozen=True)
class DeclaredCheck:
    """What the weights say about a declared edge: the relation they suggest (``unrelated`` when far
    apart, ``not-comparable`` when the sketches cannot be compared), the distance, and whether that
    agrees with the declared relation (None when not comparable)."""

    child_id: str
    parent_id: str
    relation: str
    distance: float | None
    agrees: bool | None
    evidence: str


@dataclass(frozen=True)
class Orientation:
    parent: ModelFacts
    child: ModelFacts
    margin: float  # the winning side's vote total minus the other's
    evidence: tuple[str, ...]

    @property
    def certainty(self) -> float:
        """0.5 (a coin toss) to 1.0 (a margin of 4 or more)."""
        return 0.5 + 0.5 * min(1.0, self.margin / 4.0)


@dataclass(frozen=True)
class DerivationPlan:
    """What one inference run decided: the edges to store, and the children whose earlier inferred
    (``weights``/``structure``) edges these edges replace."""

    edges: tuple[DerivationEdge, ...] = ()
    replace: tuple[str, ...] = ()
    checks: tuple[DeclaredCheck, ...] = ()


# --------------------------------------------------------------------------------------------------
# Pairs
# --------------------------------------------------------------------------------------------------
def orient(a: ModelFacts, b: ModelFacts, comparison: WeightComparison | None = None) -> Orientation:
    """Which of ``a`` and ``b`` is the parent (see the module docstring for the votes).

    ``comparison`` is ``compare(a.sketch, b.sketch)``, when the weights were compared.
    """
    votes: list[tuple[float, str]] = []  # positive: a is the child

    def vote(weight: float, a_is_child: bool, why: str) -> None:
        votes.append((weight if a_is_child else -weight, why))

    for x, y, sign in ((a, b, True), (b, a, False)):
        if y.hub_id and y.hub_id in x.base_models:
            vote(10, sign, f"declared: {x.label} names {y.label} as its base_model")
    if a.quantised != b.quantised:
        child = a if a.quantised else b
        vote(10, a.quantised, f"quantised leaf: {child.label} is quantised (quantised models are leaves)")
    if a.low_precision != b.low_precision:
        child = a if a.low_precision else b
        vote(3, a.low_precision, f"precision: {child.label} stores its weights at lower precision")
    if comparison is not None and comparison.comparable and abs(comparison.zeros_gain) >= PRUNED_ZEROS:
        gain = comparison.zeros_gain
        child = a if gain > 0 else b
        vote(3, gain > 0, f"pruning: {child.label} has {abs(gain):.1%} more exact zeros")
    if a.created_at and b.created_at and a.created_at != b.created_at:
        later = a if a.created_at > b.created_at else b
        vote(4, later is a, f"creation time: {later.label} was created later ({later.created_at})")
    if (
        comparison is not None
        and comparison.comparable
        and CONVERSION_MAX < comparison.distance <= FINETUNE_MAX
        and comparison.norm_drift != 0
        and not a.quantised
        and not b.quantised
        and abs(comparison.zeros_gain) < PRUNED_ZEROS
    ):
        # Fine-tuning moves weights in directions mostly unrelated to them, which adds energy:
        # ‖w+δ‖² ≈ ‖w‖² + ‖δ‖². A drift of that expected size votes 2; smaller ones less.
        expected = comparison.distance**2
        strength = min(2.0, 2.0 * abs(comparison.norm_drift) / expected)
        grown = a if comparison.norm_drift > 0 else b
        vote(
            strength,
            comparison.norm_drift > 0,
            f"weight drift: {grown.label}'s weight norm is {abs(comparison.norm_drift):.2%} larger",
        )
    if a.described != b.described:
        child = a if b.described else b
        vote(1, child is a, f"described: {child.label} is a bare file, the other has a model card")
    elif bool(a.base_models) != bool(b.base_models):
        child = a if a.base_models else b
        vote(0.5, child is a, f"described: {child.label} declares a base model, the other none")
    if a.ingested_at and b.ingested_at and a.ingested_at != b.ingested_at:
        later = a if a.ingested_at > b.ingested_at else b
        vote(0.75, later is a, f"ingest order: {later.label} was ingested later")
    if a.opset is not None and b.opset is not None and a.opset != b.opset:
        newer = a if a.opset > b.opset else b
        vote(0.25, newer is a, f"opset: {newer.label} uses the newer opset ({newer.opset})")
    total = sum(w for w, _ in votes)
    if abs(total) < 0.5:
        total += 0.01 if a.id > b.id else -0.01
        votes.append((0.0, "direction undetermined by the evidence: stable order by id"))
    child, parent = (a, b) if total > 0 else (b, a)
    speaking = tuple(why for w, why in votes if (w > 0) == (total > 0) and w != 0)
    against = tuple(f"against: {why}" for w, why in votes if w != 0 and (w > 0) != (total > 0))
    undetermined = tuple(why for w, why in votes if w == 0)
    return Orientation(parent, child, abs(total), speaking + against + undetermined)


def weight_relation(
    child: ModelFacts, parent: ModelFacts, comparison: WeightComparison
) -> tuple[str, float] | None:
    """The relation the weights suggest with ``child`` as the child, and its confidence; None when the
    weights are too far apart (or not comparable)."""
    if not comparison.comparable or comparison.unrelated_share > UNRELATED_SHARE_MAX:
        return None
    d = comparison.distance
    coverage = min(1.0, comparison.coverage)
    if child.quantised and not parent.quantised and d <= QUANTIZED_MAX:
        return "quantized", round(0.95 * coverage, 3)
    if d <= CONVERSION_MAX:
        return "conversion", round(0.95 * coverage, 3)
    if comparison.zeros_gain >= PRUNED_ZEROS and comparison.nonzero_distance <= FINETUNE_MAX:
        return "pruned", round(0.85 * coverage, 3)
    if d <= FINETUNE_MAX:
        # 0.9 for barely moved weights, down to 0.5 at the edge of the finetune range
        return "finetune", round((0.9 - 0.4 * d / FINETUNE_MAX) * coverage, 3)
    return None


def _weights_evidence(comparison: WeightComparison) -> str:
    unrelated = (
        f"; {comparison.unrelated_share:.0%} of them in tensors as far apart as independent ones"
        if comparison.unrelated_share
        else ""
    )
    return (
        f"weights: relative L2 distance {comparison.distance:.4g} over {comparison.tensors} tensors "
        f"({comparison.elements:,} weights, {comparison.coverage:.0%} of the larger model, "
        f"paired {comparison.paired}{unrelated})"
    )


def _structure_evidence(child: ModelFacts, parent: ModelFacts) -> tuple[str, ...]:
    """What the graphs say beside the weights: the same architecture, in another opset or producer."""
    if not child.arch_hash or child.arch_hash != parent.arch_hash:
        return ("structure: the architecture hashes differ (an exporter or a graph change)",)
    changes = []
    if child.opset != parent.opset and child.opset is not None and parent.opset is not None:
        changes.append(f"opset {parent.opset} → {child.opset}")
    if child.producer and parent.producer and child.producer != parent.producer:
        changes.append(f"producer {parent.producer} → {child.producer}")
    if child.quantised != parent.quantised:
        changes.append("quantised ops" if child.quantised else "quantised ops removed")
    what = f"; {', '.join(changes)}" if changes else ""
    return (f"structure: same architecture (archHash {child.arch_hash[:12]}){what}",)


def compatible(declared: str, by_weights: str) -> bool:
    """True when the weights' relation agrees with a declared one."""
    return by_weights in _AGREES.get(declared or "finetune", {declared})


def check_declared(child: ModelFacts, parent: ModelFacts, declared_relation: str) -> DeclaredCheck:
    """Check a declared edge against the weights."""
    if child.sketch is None or parent.sketch is None:
        return DeclaredCheck(
            child.id, parent.id, "not-comparable", None, None, "weights: no sketch to compare"
        )
    comparison = compare(child.sketch, parent.sketch)
    if not comparison.comparable:
        return DeclaredCheck(
            child.id,
            parent.id,
            "not-comparable",
            None,
            None,
            "weights: different weight shapes, not comparable",
        )
    found = weight_relation(child, parent, comparison)
    relation = found[0] if found else "unrelated"
    agrees = found is not None and compatible(declared_relation, relation)
    return DeclaredCheck(
        child.id, parent.id, relation, round(comparison.distance, 6), agrees, _weights_evidence(comparison)
    )


# --------------------------------------------------------------------------------------------------
# A batch
# --------------------------------------------------------------------------------------------------
@dataclass
class _Verdict:
    """A pair whose weights are related, oriented."""

    child: ModelFacts
    parent: ModelFacts
    relation: str
    confidence: float
    comparison: WeightComparison
    orientation: Orientation

    @property
    def distance(self) -> float:
        return self.comparison.distance

    def edge(self, extra: Sequence[str] = ()) -> DerivationEdge:
        return DerivationEdge(
            child_id=self.child.id,
            parent_id=self.parent.id,
            relation=self.relation,
            evidence=(
                _weights_evidence(self.comparison),
                *_structure_evidence(self.child, self.parent),
                *self.orientation.evidence,
                *extra,
            ),
            confidence=round(self.confidence * self.orientation.certainty, 3),
            source="weights",
            distance=round(self.distance, 6),
        )


@dataclass
class _Pairs:
    """Comparisons, each computed once."""

    cache: dict[tuple[str, str], WeightComparison] = field(default_factory=dict)

    def get(self, a: ModelFacts, b: ModelFacts) -> WeightComparison | None:
        if a.sketch is None or b.sketch is None:
            return None
        key = (a.id, b.id)
        if key not in self.cache:
            self.cache[key] = compare(a.sketch, b.sketch)
        return self.cache[key]


def _verdict(a: ModelFacts, b: ModelFacts, pairs: _Pairs) -> _Verdict | None:
    comparison = pairs.get(a, b)
    if comparison is None or not comparison.comparable or comparison.distance > FINETUNE_MAX:
        return None
    orientation = orient(a, b, comparison)
    child, parent = orientation.child, orientation.parent
    if child is not a:
        comparison = pairs.get(child, parent) or comparison
    found = weight_relation(child, parent, comparison)
    if found is None:
        return None
    return _Verdict(child, parent, found[0], found[1], comparison, orientation)


def _best(child: ModelFacts, verdicts: Sequence[_Verdict], pairs: _Pairs) -> _Verdict | None:
    """The parent among ``verdicts`` (all with ``child`` as the child): float parents first for a
    quantised child, then the nearest; among equally near ones a declared base, then the one the
    others derive from."""
    if not verdicts:
        return None
    pool = list(verdicts)
    if child.quantised:
        floats = [v for v in pool if not v.parent.quantised]
        pool = floats or pool
    nearest = min(v.distance for v in pool)
    tied = [v for v in pool if v.distance <= nearest * (1 + TIE) + 1e-9]
    declared = [v for v in tied if v.parent.hub_id and v.parent.hub_id in child.base_models]
    if declared:
        tied = declared
    best = tied[0]
    for other in tied[1:]:
        if orient(best.parent, other.parent, pairs.get(best.parent, other.parent)).parent is other.parent:
            best = other
    return best


def _structure_quantized(child: ModelFacts, candidates: Iterable[ModelFacts]) -> list[DerivationEdge]:
    """A quantised graph whose float counterpart (same architecture) is stored, weights not comparable."""
    floats = [c for c in candidates if not c.quantised and c.arch_hash == child.arch_hash]
    if not floats or len(floats) > 3:  # several look-alikes: the structure alone cannot tell which
        return []
    return [
        DerivationEdge(
            child_id=child.id,
            parent_id=parent.id,
            relation="quantized",
            evidence=(
                f"structure: quantised graph with the architecture of {parent.label} "
                f"(archHash {child.arch_hash[:12]})",
                "weights: not comparable (no sketch, or weight shapes differ)",
                "quantised leaf: the quantised model is the child",
            ),
            confidence=round(STRUCTURE_QUANTIZED_CONFIDENCE / len(floats), 3),
            source="structure",
        )
        for parent in floats
    ]


def _ancestors(start: str, parents: Mapping[str, str]) -> set[str]:
    seen: set[str] = set()
    node = parents.get(start)
    while node is not None and node not in seen:
        seen.add(node)
        node = parents.get(node)
    return seen


def infer(
    new: Sequence[ModelFacts],
    candidates: Mapping[str, Sequence[ModelFacts]],
    *,
    current: Mapping[str, tuple[str, float]] | None = None,
    representatives: Mapping[str, str] | None = None,
    declared_pairs: Iterable[tuple[str, str]] = (),
) -> DerivationPlan:
    """Inferred edges for the models of a batch.

    ``new``: the batch's models; ``candidates``: for each of them, the stored models found by the index
    look-ups (same shapes hash or architecture hash; new models of the batch included); ``current``: for
    a stored model, its present weights parent and distance; ``representatives``: for an architecture
    hash, the model ``same-architecture`` edges point to (the first stored); ``declared_pairs``:
    (child, parent) pairs a card or manifest already links.

    Each new model gets at most one weights parent (the nearest, see ``_best``); a stored model gets a
    new model as its weights parent when that one is nearer than its present parent (listed in
    ``replace``). Models with no other edge get a ``same-architecture`` edge to their representative.
    """
    current = dict(current or {})
    representatives = representatives or {}
    declared = set(declared_pairs)
    pairs = _Pairs()
    new_ids = {m.id for m in new}
    as_child: dict[str, list[_Verdict]] = {}
    stored_children: dict[str, list[_Verdict]] = {}
    facts: dict[str, ModelFacts] = {m.id: m for m in new}
    for m in new:
        for c in candidates.get(m.id, ()):
            if c.id == m.id:
                continue
            facts.setdefault(c.id, c)
            v = _verdict(m, c, pairs)
            if v is None:
                continue
            if v.child.id == m.id:
                as_child.setdefault(m.id, []).append(v)
            elif c.id not in new_ids:
                stored_children.setdefault(c.id, []).append(v)

    parents: dict[str, str] = {child: parent for child, (parent, _d) in current.items()}
    edges: list[DerivationEdge] = []
    replace: list[str] = []

    def accept(v: _Verdict, extra: Sequence[str] = ()) -> bool:
        if v.child.id in _ancestors(v.parent.id, parents):
            return False  # would close a cycle: keep the edges already there
        parents[v.child.id] = v.parent.id
        edges.append(v.edge(extra))
        return True

    for m in new:
        best = _best(m, as_child.get(m.id, []), pairs)
        if best is not None:
            accept(best)
    for stored_id, verdicts in stored_children.items():
        best = _best(facts[stored_id], verdicts, pairs)
        if best is None:
            continue
        before = current.get(stored_id)
        if before is not None and before[1] <= best.distance * (1 + TIE):
            # The stored parent is nearer, or as near: it stays unless the new model is the more
            # original of the two (the stored parent is a bare copy of it, say).
            stored_parent = facts.get(before[0])
            if before[1] < best.distance * (1 - TIE) or stored_parent is None:
                continue
            between = orient(best.parent, stored_parent, pairs.get(best.parent, stored_parent))
            if between.parent is not best.parent:
                continue
        note: list[str] = []
        if before is not None:
            earlier = facts[before[0]].label if before[0] in facts else before[0][:12]
            note.append(f"replaces the earlier weights parent {earlier} (distance {before[1]:.4g})")
        if accept(best, note):
            replace.append(stored_id)

    direct = {(e.child_id, e.parent_id) for e in edges} | declared
    has_parent = set(parents) | {c for c, _ in declared}
    chosen_rep: dict[str, str] = {}
    for arch, first in representatives.items():
        # The first stored model is the representative; when it came in this batch, a root of the
        # batch (no parent by any source) stands for the architecture instead.
        chosen_rep[arch] = first
        if first in new_ids:
            roots = sorted(
                (m for m in new if m.arch_hash == arch and m.id not in has_parent),
                key=lambda m: (m.quantised, bool(m.base_models), m.id),
            )
            if roots:
                chosen_rep[arch] = roots[0].id
    for m in new:
        others = [c for c in candidates.get(m.id, ()) if c.id != m.id]
        if m.quantised and m.id not in parents and not any(_comparable(m, c, pairs) for c in others):
            found = _structure_quantized(m, others)
            edges.extend(found)
            direct.update((e.child_id, e.parent_id) for e in found)
        rep = chosen_rep.get(m.arch_hash) if m.arch_hash else None
        if rep is None or rep == m.id or (m.id, rep) in direct or (rep, m.id) in direct:
            continue
        edges.append(
            DerivationEdge(
                child_id=m.id,
                parent_id=rep,
                relation="same-architecture",
                evidence=(
                    f"structure: same archHash {m.arch_hash[:12]}",
                    "undirected: points to the first stored model of the architecture",
                ),
                confidence=SAME_ARCHITECTURE_CONFIDENCE,
                source="structure",
            )
        )
    return DerivationPlan(edges=tuple(edges), replace=tuple(replace))


def _comparable(a: ModelFacts, b: ModelFacts, pairs: _Pairs) -> bool:
    comparison = pairs.get(a, b)
    return comparison is not None and comparison.comparable
