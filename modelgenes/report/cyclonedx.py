"""CycloneDX 1.6 ML-BOM export: one ``machine-learning-model`` component per model, its model card,
licenses and lineage (``pedigree.ancestors``), validated against the CycloneDX 1.6 JSON schema.

Built with ``cyclonedx-python-lib``; the library has no model-card classes, so ``modelCard`` is added
to the serialised JSON (by ``bom-ref``) before the schema check.

Each model component carries:

- ``name`` (hub id, else name), ``hashes`` (SHA-256 of the file: the model's identity), ``purl``
  (``pkg:huggingface/org/name`` for hub ids), ``publisher`` and ``supplier``;
- ``licenses`` as declared (acknowledgement ``declared``): an SPDX id, an SPDX expression, or a
  hub license id (``llama3.1``) by name;
- properties ``modelgenes:family`` (one per identified family), ``modelgenes:archHash``,
  ``modelgenes:format``, ``modelgenes:producer``, ``modelgenes:opset``, ``modelgenes:params``,
  ``modelgenes:sizeBytes``, ``modelgenes:quantised``, ``modelgenes:licenseCategory``;
- ``modelCard.modelParameters``: ``task`` (pipeline_tag), ``architectureFamily`` (the best family),
  ``modelArchitecture`` (the config's architecture, else the families), ``datasets``;
  ``modelCard.considerations.technicalLimitations`` for a quantised model;
- ``pedigree.ancestors``: every ancestor along DERIVED_FROM edges of the lineage relations
  (``licenses.yaml`` ``lineage``), nearest first, each a component as above plus
  ``modelgenes:depth`` and, for each edge leading into it, ``modelgenes:derivation.N.child``,
  ``.relation``, ``.source`` (declared, weights, structure), ``.confidence`` and ``.evidence``
  (one property per evidence line), N counting the edges from 1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from modelgenes import __version__
from modelgenes.cypher.catalog import get_query
from modelgenes.errors import ModelgenesError
from modelgenes.genealogy.licenses import LicenseRules, load_rules
from modelgenes.ingest.license_ids import is_spdx
from modelgenes.kb.store import GraphStore

__all__ = ["Ancestor", "Derivation", "bom_json", "build_bom", "export_cyclonedx", "validate_bom"]

_PREFIX = "modelgenes:"


@dataclass(frozen=True)
class Derivation:
    """One DERIVED_FROM edge leading into an ancestor."""

    child: str  # hub id or name of the edge's child
    relation: str
    source: str
    confidence: float | None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ancestor:
    model: str  # sha256
    depth: int
    edges: tuple[Derivation, ...] = field(default_factory=tuple)


def _run(store: GraphStore, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    query = get_query(name)
    return store.query(query.text, params, name=query.name)


def _facts(store: GraphStore, ids: Sequence[str] | None) -> list[dict[str, Any]]:
    return _run(store, "audit/bom_models", {"ids": list(ids or []), "all": ids is None})


def _pedigrees(store: GraphStore, ids: Sequence[str], rules: LicenseRules) -> dict[str, list[Ancestor]]:
    rows = _run(
        store,
        "audit/bom_pedigree",
        {"ids": list(ids), "relations": list(rules.relations), "minConfidence": rules.min_confidence},
    )
    grouped: dict[str, dict[str, tuple[int, list[Derivation]]]] = {}
    for r in rows:
        per_model = grouped.setdefault(r["model"], {})
        depth, edges = per_model.get(r["ancestor"], (int(r["depth"]), []))
        edge = Derivation(
            child=str(r["childName"]),
            relation=str(r["relation"]),
            source=str(r["source"] or "unknown"),
            confidence=None if r["confidence"] is None else float(r["confidence"]),
            evidence=tuple(str(e) for e in r["evidence"] or ()),
        )
        if edge not in edges:
            edges.append(edge)
        per_model[r["ancestor"]] = (min(depth, int(r["depth"])), edges)
    return {
        model: sorted(
            (Ancestor(a, depth, tuple(edges)) for a, (depth, edges) in ancestors.items()),
            key=lambda x: (x.depth, x.model),
        )
        for model, ancestors in grouped.items()
    }


def _licenses(ids: Sequence[str]) -> list[Any]:
    from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement, LicenseExpression

    declared = LicenseAcknowledgement.DECLARED
    out: list[Any] = []
    for license_id in ids:
        if is_spdx(license_id) and " " in license_id:
            out.append(LicenseExpression(license_id, acknowledgement=declared))
        elif is_spdx(license_id):
            out.append(DisjunctiveLicense(id=license_id, acknowledgement=declared))
        else:  # a hub's own id (llama3.1, openrail, other): not on the SPDX list
            out.append(DisjunctiveLicense(name=license_id, acknowledgement=declared))
    # CycloneDX allows several licenses or exactly one expression.
    expressions = [x for x in out if isinstance(x, LicenseExpression)]
    return expressions[:1] if expressions else out


def _purl(hub_id: str | None) -> Any:
    from packageurl import PackageURL

    if not hub_id or "/" not in hub_id:
        return None
    org, name = hub_id.split("/", 1)
    return PackageURL(type="huggingface", namespace=org, name=name)


def _properties(facts: Mapping[str, Any], rules: LicenseRules) -> list[Any]:
    from cyclonedx.model import Property

    props = [Property(name=f"{_PREFIX}family", value=f["name"]) for f in facts["families"] or []]
    for key in ("archHash", "format", "producer", "opset", "params", "sizeBytes", "quantised"):
        value = facts.get(key)
        if value is not None and value != "":
            props.append(
                Property(
                    name=f"{_PREFIX}{key}", value=str(value).lower() if key == "quantised" else str(value)
                )
            )
    for license_id in facts["licenses"] or []:
        props.append(
            Property(name=f"{_PREFIX}licenseCategory", value=f"{license_id}: {rules.category(license_id)}")
        )
    return props


def _component(
    facts: Mapping[str, Any],
    bom_ref: str,
    rules: LicenseRules,
    extra: Sequence[Any] = (),
    pedigree: Any = None,
) -> Any:
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.contact import OrganizationalEntity

    publishers = list(facts["publishers"] or [])
    publisher = ", ".join(publishers) or None
    families = [f["displayName"] for f in facts["families"] or []]
    what = f"{facts['format'] or 'model'} file" + (
        f" identified as {', '.join(families)}" if families else ""
    )
    return Component(
        name=str(facts["hubId"] or facts["name"]),
        type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref=bom_ref,
        description=what,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=str(facts["model"]))],
        licenses=_licenses(list(facts["licenses"] or [])),
        publisher=publisher,
        supplier=OrganizationalEntity(name=publisher) if publisher else None,
        purl=_purl(facts["hubId"]),
        properties=[*_properties(facts, rules), *extra],
        pedigree=pedigree,
    )


def _edge_properties(ancestor: Ancestor) -> list[Any]:
    from cyclonedx.model import Property

    props = [Property(name=f"{_PREFIX}depth", value=str(ancestor.depth))]
    for n, edge in enumerate(ancestor.edges, start=1):
        key = f"{_PREFIX}derivation.{n}."
        props += [
            Property(name=f"{key}child", value=edge.child),
            Property(name=f"{key}relation", value=edge.relation),
            Property(name=f"{key}source", value=edge.source),
        ]
        if edge.confidence is not None:
            props.append(Property(name=f"{key}confidence", value=f"{edge.confidence:g}"))
        props += [Property(name=f"{key}evidence", value=e) for e in edge.evidence]
    return props


def _model_card(facts: Mapping[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if facts["task"]:
        params["task"] = facts["task"]
    families = facts["families"] or []
    if families:
        params["architectureFamily"] = families[0]["name"]
    architecture = (facts["architectures"] or [None])[0] or facts["modelType"]
    if architecture or families:
        params["modelArchitecture"] = architecture or " + ".join(f["name"] for f in families)
    if facts["datasets"]:
        params["datasets"] = [{"type": "dataset", "name": d} for d in facts["datasets"]]
    card: dict[str, Any] = {"modelParameters": params}
    if facts["quantised"]:
        card["considerations"] = {
            "technicalLimitations": [
                "quantised weights: outputs may differ from the float model it was quantised from"
            ]
        }
    return card


def build_bom(
    store: GraphStore,
    model_ids: Sequence[str] | None = None,
    *,
    rules: LicenseRules | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The CycloneDX 1.6 document (as JSON data) for the given model ids, or every model (None).

    Validated against the CycloneDX 1.6 JSON schema; ``ModelgenesError`` when it is not valid.
    """
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType, Pedigree

    rules = rules or load_rules()
    facts = _facts(store, model_ids)
    if model_ids is not None:
        missing = sorted(set(model_ids) - {f["model"] for f in facts})
        if missing:
            raise ModelgenesError(f"no stored model has id {', '.join(missing)}")
    pedigrees = _pedigrees(store, [f["model"] for f in facts], rules)
    wanted_ancestors = sorted({a.model for ancestors in pedigrees.values() for a in ancestors})
    known = {f["model"]: f for f in facts}
    known.update({f["model"]: f for f in _facts(store, [a for a in wanted_ancestors if a not in known])})

    cards: dict[str, dict[str, Any]] = {}
    bom = Bom()
    if now is not None:
        bom.metadata.timestamp = now
    bom.metadata.tools.components.add(
        Component(name="modelgenes", type=ComponentType.APPLICATION, version=__version__)
    )
    for model in facts:
        ancestors = []
        for ancestor in pedigrees.get(model["model"], []):
            ref = f"model-{ancestor.model}-ancestor-of-{model['model'][:16]}"
            ancestors.append(_component(known[ancestor.model], ref, rules, _edge_properties(ancestor)))
            cards[ref] = _model_card(known[ancestor.model])
        ref = f"model-{model['model']}"
        cards[ref] = _model_card(model)
        bom.components.add(
            _component(model, ref, rules, pedigree=Pedigree(ancestors=ancestors) if ancestors else None)
        )
    document = _serialise(bom)
    _add_model_cards(document.get("components", []), cards)
    validate_bom(document)
    return document


def _serialise(bom: Any) -> dict[str, Any]:
    import warnings

    from cyclonedx.output.json import JsonV1Dot6

    with warnings.catch_warnings():
        # The library warns that components have no dependency graph: models depend on nothing.
        warnings.simplefilter("ignore", UserWarning)
        text = JsonV1Dot6(bom).output_as_string()
    data: dict[str, Any] = json.loads(text)
    return data


def _add_model_cards(components: list[dict[str, Any]], cards: Mapping[str, dict[str, Any]]) -> None:
    for component in components:
        card = cards.get(component.get("bom-ref", ""))
        if card is not None:
            component["modelCard"] = card
        _add_model_cards(component.get("pedigree", {}).get("ancestors", []), cards)


def validate_bom(document: Mapping[str, Any]) -> None:
    """Check a document against the CycloneDX 1.6 JSON schema; ``ModelgenesError`` names the problem."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    if error is not None:
        first = str(error).strip().splitlines()[0]
        raise ModelgenesError(f"the CycloneDX document is not valid CycloneDX 1.6: {first}")


def bom_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def export_cyclonedx(store: GraphStore, model_ids: Sequence[str] | None, path: str | Path) -> Path:
    """Write the ML-BOM of the given models (None: all) to ``path``; returns the path."""
    path = Path(path)
    text = bom_json(build_bom(store, model_ids))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ModelgenesError(f"{path}: cannot write the BOM: {e.strerror or e}") from e
    return path
