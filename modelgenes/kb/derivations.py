"""Derivation inference after a batch: candidates through index look-ups, ``genealogy.derivation`` decides,
the ``cypher/write`` statements store the edges.

Candidates are found only through the ``shapesHash`` and ``archHash`` indexes, never by comparing all
pairs: a model is compared with the stored models of its weight shapes (and, when the shapes differ a
little, of its architecture). Where a shapes hash is shared by many models, a 64-value probe of each
picks the ``PROBE_TOP`` nearest before their whole sketches are fetched.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from modelgenes.cypher.catalog import get_query
from modelgenes.genealogy.derivation import (
    DerivationPlan,
    ModelFacts,
    check_declared,
    infer,
)
from modelgenes.genealogy.weights import WeightSketch
from modelgenes.kb.store import GraphStore

__all__ = ["CHUNK", "INFERENCE_VERSION", "PROBE_TOP", "DerivationReport", "infer_derivations"]

INFERENCE_VERSION = "d1"  # stored on each model once inference ran for it
PROBE_TOP = 24  # candidates per model whose whole sketch is compared
CHUNK = 256  # models inferred for at a time
ARCHITECTURE_TOP = 8  # models of the same architecture but other shapes compared per model


@dataclass(frozen=True)
class DerivationReport:
    """What one inference run stored."""

    models: int = 0  # models inferred for
    edges: int = 0  # inferred edges written (weights and structure)
    replaced: int = 0  # stored models that got a nearer weights parent
    checked: int = 0  # declared edges checked against the weights
    disagreements: int = 0  # of those, the ones the weights contradict


def _run(store: GraphStore, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    query = get_query(name)
    return store.query(query.text, params, name=query.name)


def _facts(row: Mapping[str, Any]) -> ModelFacts:
    return ModelFacts(
        id=row["id"],
        name=row.get("name") or "",
        hub_id=row.get("hubId") or "",
        arch_hash=row.get("archHash") or "",
        quantised=bool(row.get("quantised")),
        opset=row.get("opset"),
        producer=row.get("producer") or "",
        base_models=tuple(row.get("baseModels") or ()),
        base_model_relation=row.get("baseModelRelation") or "",
        described=bool(row.get("described")),
        ingested_at=row.get("ingestedAt") or "",
        created_at=row.get("createdAt") or "",
        params=int(row.get("params") or 0),
        sketch=WeightSketch.from_props(row),
    )


def _load_facts(store: GraphStore, ids: Iterable[str]) -> dict[str, tuple[ModelFacts, dict[str, Any]]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {r["id"]: (_facts(r), r) for r in _run(store, "write/derivation_facts", {"ids": wanted})}


def _probe(text: str | None) -> np.ndarray | None:
    if not text:
        return None
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float64)


@dataclass
class _Probes:
    """The probes of one shapes hash's models, decoded once, as a matrix (one row per model)."""

    ids: list[str]
    matrix: np.ndarray
    energy: np.ndarray

    @classmethod
    def of(cls, rows: Sequence[Mapping[str, Any]]) -> _Probes:
        decoded = [(r["id"], _probe(r.get("probe"))) for r in rows]
        width = max((p.size for _, p in decoded if p is not None), default=0)
        kept = [(i, p) for i, p in decoded if p is not None and p.size == width]
        matrix = np.stack([p for _, p in kept]) if kept else np.zeros((0, width))
        return cls([i for i, _ in kept], matrix, np.maximum((matrix**2).sum(axis=1), 1e-30))

    def nearest(self, subject: ModelFacts, top: int) -> list[str]:
        """The ``top`` models whose probe is nearest the subject's."""
        if subject.sketch is None:
            return []
        mine = subject.sketch.probe().astype(np.float64)
        if mine.size != self.matrix.shape[1]:
            return []
        score = ((self.matrix - mine) ** 2).sum(axis=1) / self.energy
        order = np.argsort(score, kind="stable")
        return [self.ids[i] for i in order if self.ids[i] != subject.id][:top]


def _nearest_by_probe(
    subject: ModelFacts, rows: Sequence[Mapping[str, Any]], top: int, probes: _Probes | None
) -> list[str]:
    """The ``top`` rows whose probe is nearest the subject's (all of them when there are few)."""
    ids = [r["id"] for r in rows if r["id"] != subject.id]
    if len(ids) <= top or probes is None:
        return ids
    return probes.nearest(subject, top)


def infer_derivations(store: GraphStore, ids: Iterable[str]) -> DerivationReport:
    """Infer structure and weight edges for the models ``ids`` that have not been inferred for yet
    (the models a batch wrote, and those an interrupted batch left), check their declared edges against
    the weights, and store the results, ``CHUNK`` models at a time (memory stays bounded for a batch of
    any size; a later chunk sees the edges of the earlier ones). Returns what was stored."""
    wanted = sorted(set(ids))
    if not wanted:
        return DerivationReport()
    pending = [
        r["id"]
        for r in _run(store, "write/derivations_pending", {"ids": wanted, "version": INFERENCE_VERSION})
    ]
    total = DerivationReport()
    for start in range(0, len(pending), CHUNK):
        done = _infer_chunk(store, pending[start : start + CHUNK])
        total = DerivationReport(
            *(getattr(total, f.name) + getattr(done, f.name) for f in dataclasses.fields(DerivationReport))
        )
    return total


def _infer_chunk(store: GraphStore, ids: Sequence[str]) -> DerivationReport:
    subjects = {i: f for i, (f, _row) in _load_facts(store, ids).items()}
    if not subjects:
        return DerivationReport()
    shapes = sorted({f.shapes_hash for f in subjects.values() if f.shapes_hash})
    archs = sorted({f.arch_hash for f in subjects.values() if f.arch_hash})
    by_shapes: dict[str, list[dict[str, Any]]] = {}
    for r in _run(store, "write/candidates_by_shapes", {"keys": shapes, "limit": 5000}) if shapes else []:
        by_shapes.setdefault(r["key"], []).append(r)
    arch_rows = [
        {"subject": i, "key": f.arch_hash, "shapes": f.shapes_hash or "", "params": f.params}
        for i, f in subjects.items()
        if f.arch_hash and f.params
    ]
    by_arch: dict[str, list[dict[str, Any]]] = {}
    if arch_rows:
        query = {"rows": arch_rows, "limit": ARCHITECTURE_TOP}
        for r in _run(store, "write/candidates_by_architecture", query):
            by_arch.setdefault(r["subject"], []).append(r)
    current: dict[str, tuple[str, float]] = {}
    for rows in (*by_shapes.values(), *by_arch.values()):
        for r in rows:
            for parent, distance in r.get("parents") or ():
                if distance is not None:
                    current[r["id"]] = (parent, float(distance))

    probes = {key: _Probes.of(rows) for key, rows in by_shapes.items() if len(rows) > PROBE_TOP}
    chosen: dict[str, list[str]] = {}
    for sid, subject in subjects.items():
        key = subject.shapes_hash or ""
        picked = _nearest_by_probe(subject, by_shapes.get(key, []), PROBE_TOP, probes.get(key))
        chosen[sid] = picked + [r["id"] for r in by_arch.get(sid, []) if r["id"] not in picked]

    declared_rows = _run(store, "write/declared_derivations", {"ids": sorted(subjects)})
    needed = {i for picked in chosen.values() for i in picked}
    needed |= {r["child"] for r in declared_rows} | {r["parent"] for r in declared_rows}
    facts = {i: f for i, (f, _row) in _load_facts(store, needed - set(subjects)).items()}
    facts.update(subjects)
    candidates = {sid: [facts[i] for i in picked if i in facts] for sid, picked in chosen.items()}
    representatives = {
        r["archHash"]: r["representative"]
        for r in (_run(store, "write/architecture_representatives", {"keys": archs}) if archs else [])
    }
    plan = infer(
        list(subjects.values()),
        candidates,
        current={k: v for k, v in current.items() if k not in subjects},
        representatives=representatives,
        declared_pairs=[(r["child"], r["parent"]) for r in declared_rows],
    )
    checks = [
        check_declared(facts[r["child"]], facts[r["parent"]], r["relation"] or "")
        for r in declared_rows
        if r["child"] in facts and r["parent"] in facts
    ]
    return _store(store, plan, checks, sorted(subjects))


def _store(
    store: GraphStore, plan: DerivationPlan, checks: Sequence[Any], subjects: Sequence[str]
) -> DerivationReport:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if plan.replace:
        _run(store, "write/clear_inferred_parents", {"ids": list(plan.replace)})
    rows = [
        {
            "child": e.child_id,
            "parent": e.parent_id,
            "source": e.source,
            "relation": e.relation,
            "evidence": list(e.evidence),
            "confidence": e.confidence,
            "distance": e.distance,
        }
        for e in plan.edges
    ]
    if rows:
        _run(store, "write/upsert_derivations", {"rows": rows, "inferredAt": now})
    check_rows = [
        {
            "child": c.child_id,
            "parent": c.parent_id,
            "relation": c.relation,
            "distance": c.distance,
            "agrees": c.agrees,
            "evidence": c.evidence,
        }
        for c in checks
    ]
    if check_rows:
        _run(store, "write/check_declared_derivations", {"rows": check_rows})
    _run(store, "write/mark_derivations_inferred", {"ids": list(subjects), "version": INFERENCE_VERSION})
    return DerivationReport(
        models=len(subjects),
        edges=len(rows),
        replaced=len(plan.replace),
        checked=len(check_rows),
        disagreements=sum(1 for c in checks if c.agrees is False),
    )
