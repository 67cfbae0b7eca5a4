"""The one writer: turns ``ModelRecord`` values into rows for the ``cypher/write/*`` statements.

Every statement is a catalog query; this module only shapes parameters. Models are written in
batches with one statement each (so a model is never half written); when a batch fails, its models
are retried one by one so that one bad record cannot sink its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelgenes.cypher.catalog import get_query
from modelgenes.errors import QueryError
from modelgenes.genealogy.record import ModelRecord
from modelgenes.genealogy.weights import SKETCH_PROPS
from modelgenes.kb.store import GraphStore

__all__ = [
    "FamilyRow",
    "SignatureRow",
    "WriteFailure",
    "finish_batch",
    "known_model_ids",
    "link_declared_bases",
    "link_unchanged",
    "model_row",
    "record_errors",
    "start_batch",
    "sync_library",
    "sync_licenses",
    "write_records",
]

# Instance node names kept per match: enough to find the instances again, bounded for huge graphs.
_MAX_MATCH_NODES = 64


@dataclass(frozen=True)
class FamilyRow:
    name: str
    modality: str
    display_name: str = ""
    variant_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignatureRow:
    id: str
    family: str
    specificity: str
    description: str = ""


@dataclass(frozen=True)
class WriteFailure:
    """A record the store refused, with the store's message."""

    record: ModelRecord
    path: str
    message: str


def _run(store: GraphStore, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    query = get_query(name)
    return store.query(query.text, params, name=query.name)


def model_row(record: ModelRecord, path: str, ingested_at: str) -> dict[str, Any]:
    """The parameter map ``write/upsert_model_records`` expects for one model."""
    info = record.info
    props: dict[str, Any] = {
        "name": info.name or info.hub_id or _stem(path),
        "format": info.format,
        "producer": info.producer,
        "opset": info.opset,
        "sizeBytes": info.size_bytes,
        "params": info.params,
        "archHash": record.arch_hash,
        "nodes": record.node_count,
        "quantised": record.quantised,
        "unknown": record.unknown,
        "families": [f.name for f in record.families],
        "task": info.task or None,
        "hubId": info.hub_id or None,
        "license": info.license or None,
        "licenseName": info.license_name or None,
        "licenseLink": info.license_link or None,
        "baseModels": list(info.base_models) or None,
        "baseModelRelation": info.base_model_relation or None,
        "libraryName": info.library_name or None,
        "tags": list(info.tags) or None,
        "architectures": list(info.architectures) or None,
        "modelType": info.model_type or None,
        "metadataSources": list(info.metadata_sources) or None,
        # weight sketch (genealogy.weights): shapesHash finds derivation candidates through its index
        **(record.weights.to_props() if record.weights is not None else dict.fromkeys(SKETCH_PROPS)),
    }
    return {
        "id": record.id,
        "path": path,
        "ingestedAt": ingested_at,
        "props": props,
        "ops": [{"name": op, "count": n} for op, n in sorted(record.op_counts.items())],
        "matches": [
            {
                "signature": m.signature_id,
                "count": m.count,
                "coverage": m.coverage,
                "nodes": list(m.nodes[:_MAX_MATCH_NODES]),
            }
            for m in record.matches
        ],
        "families": [
            {"name": f.name, "score": f.score, "evidence": list(f.evidence)} for f in record.families
        ],
        "components": [
            {"index": c.index, "family": c.family, "first": c.first, "last": c.last, "nodes": c.nodes}
            for c in record.components
        ],
        "licenses": [info.license] if info.license else [],
        "publishers": [info.publisher] if info.publisher else [],
        "datasets": list(info.datasets),
    }


def _stem(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def write_records(
    store: GraphStore,
    records: Sequence[tuple[ModelRecord, str]],
    batch_id: str,
    ingested_at: str,
) -> tuple[int, list[WriteFailure]]:
    """Write (record, path) pairs in one statement; on failure retry each alone.

    Returns the number of models written and the records the store refused.
    """
    if not records:
        return 0, []
    query = get_query("write/upsert_model_records")
    rows = [model_row(r, p, ingested_at) for r, p in records]
    try:
        store.query(query.text, {"rows": rows, "batchId": batch_id}, name=query.name)
        return len(rows), []
    except QueryError:
        if len(rows) == 1:
            raise
    written, failures = 0, []
    for (record, path), row in zip(records, rows, strict=True):
        try:
            store.query(query.text, {"rows": [row], "batchId": batch_id}, name=query.name)
            written += 1
        except QueryError as e:
            failures.append(WriteFailure(record, path, e.store_message))
    return written, failures


def sync_library(
    store: GraphStore, families: Iterable[FamilyRow], signatures: Iterable[SignatureRow]
) -> None:
    """Store the families (with curated VARIANT_OF) and the signature library."""
    family_rows = [
        {
            "name": f.name,
            "modality": f.modality,
            "displayName": f.display_name or f.name,
            "variantOf": list(f.variant_of),
        }
        for f in families
    ]
    signature_rows = [
        {"id": s.id, "family": s.family, "specificity": s.specificity, "description": s.description}
        for s in signatures
    ]
    if family_rows:
        _run(store, "write/upsert_families", {"rows": family_rows})
    if signature_rows:
        _run(store, "write/upsert_signatures", {"rows": signature_rows})


def sync_licenses(store: GraphStore) -> None:
    """Store the license rules (genealogy/licenses.yaml) on License nodes: every license the rules
    list, and every license id already stored (expressions and unlisted ids get theirs too)."""
    from modelgenes.genealogy.licenses import load_rules

    stored = [r["license"] for r in _run(store, "license/licenses", {}) if r["license"]]
    _run(store, "write/upsert_licenses", {"rows": load_rules().license_rows(stored)})


def start_batch(store: GraphStore, batch_id: str, source: str, started_at: str) -> None:
    _run(store, "write/start_batch", {"batchId": batch_id, "source": source, "startedAt": started_at})


def finish_batch(
    store: GraphStore, batch_id: str, finished_at: str, *, ok: int, unchanged: int, failed: int
) -> None:
    _run(
        store,
        "write/finish_batch",
        {"batchId": batch_id, "finishedAt": finished_at, "ok": ok, "unchanged": unchanged, "failed": failed},
    )


def record_errors(store: GraphStore, batch_id: str, errors: Sequence[Mapping[str, str]]) -> None:
    """Store ``{path, sha256, kind, message}`` maps as IngestError nodes of the batch."""
    if not errors:
        return
    rows = [{"id": f"{batch_id}|{e['path']}", **e} for e in errors]
    _run(store, "write/record_errors", {"rows": rows, "batchId": batch_id})


def known_model_ids(store: GraphStore, ids: Iterable[str]) -> set[str]:
    """The subset of ``ids`` already stored as models."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return {r["id"] for r in _run(store, "write/known_models", {"ids": wanted})}


def link_unchanged(store: GraphStore, batch_id: str, seen: Sequence[tuple[str, str]]) -> None:
    """Link already-stored models, as (sha256, path), to this batch."""
    if seen:
        rows = [{"id": i, "path": p} for i, p in seen]
        _run(store, "write/link_unchanged", {"rows": rows, "batchId": batch_id})


def link_declared_bases(store: GraphStore) -> list[dict[str, Any]]:
    """DERIVED_FROM edges from declared base models whose hub ids are stored; returns the links."""
    return _run(store, "write/link_declared_bases", {})
