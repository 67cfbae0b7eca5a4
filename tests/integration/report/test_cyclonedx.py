"""``modelgenes export --format cyclonedx`` over the fixture KB (tests/data/hub): CycloneDX 1.6 ML-BOMs
that the library's strict JSON schema validator accepts, with model cards, licenses and pedigree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from typer.testing import CliRunner

from modelgenes.cli.app import app
from modelgenes.errors import ModelgenesError
from modelgenes.kb.lookup import resolve_model
from modelgenes.report.cyclonedx import build_bom, validate_bom
from tests.integration.report.conftest import HubKB


def _valid(document: dict[str, Any]) -> bool:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    assert error is None, str(error)[:2000]
    return True


def _props(component: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in component.get("properties", []):
        out.setdefault(p["name"], []).append(p["value"])
    return out


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "bom-ref" in node:
            yield node["bom-ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _bom(kb: HubKB, hub_id: str) -> dict[str, Any]:
    return build_bom(kb.store, [resolve_model(kb.store, hub_id)])


def test_a_model_bom_is_valid_cyclonedx_1_6_with_one_ml_component(hub_kb: HubKB) -> None:
    bom = _bom(hub_kb, "acme/gpt2-tiny-chat")
    assert _valid(bom)
    assert bom["specVersion"] == "1.6" and bom["bomFormat"] == "CycloneDX"
    (component,) = bom["components"]
    sha = resolve_model(hub_kb.store, "acme/gpt2-tiny-chat")
    assert component["type"] == "machine-learning-model"
    assert component["name"] == "acme/gpt2-tiny-chat"
    assert component["hashes"] == [{"alg": "SHA-256", "content": sha}]
    assert component["licenses"] == [{"license": {"id": "MIT", "acknowledgement": "declared"}}]
    assert component["publisher"] == "acme" and component["supplier"] == {"name": "acme"}
    assert component["purl"] == "pkg:huggingface/acme/gpt2-tiny-chat"
    props = _props(component)
    assert props["modelgenes:family"] == ["gpt2"] and props["modelgenes:format"] == ["onnx"]
    assert props["modelgenes:opset"] == ["17"] and len(props["modelgenes:archHash"][0]) == 64
    assert component["modelCard"]["modelParameters"] == {
        "task": "text-generation",
        "architectureFamily": "gpt2",
        "modelArchitecture": "GPT2LMHeadModel",
    }
    tools = bom["metadata"]["tools"]["components"]
    assert any(t["name"] == "modelgenes" for t in tools)


def test_pedigree_lists_ancestors_with_each_edges_evidence(hub_kb: HubKB) -> None:
    bom = _bom(hub_kb, "acme/gpt2-tiny-chat-int8")
    assert _valid(bom)
    (component,) = bom["components"]
    ancestors = {a["name"]: a for a in component["pedigree"]["ancestors"]}
    assert set(ancestors) == {"acme/gpt2-tiny-chat", "research-lab/gpt2-tiny-nc"}
    parent = _props(ancestors["acme/gpt2-tiny-chat"])
    assert parent["modelgenes:depth"] == ["1"]
    edges = {
        (parent[f"modelgenes:derivation.{n}.relation"][0], parent[f"modelgenes:derivation.{n}.source"][0])
        for n in range(1, 10)
        if f"modelgenes:derivation.{n}.relation" in parent
    }
    assert ("quantized", "declared") in edges
    assert parent["modelgenes:derivation.1.child"] == ["acme/gpt2-tiny-chat-int8"]
    assert parent["modelgenes:derivation.1.confidence"] and parent["modelgenes:derivation.1.evidence"]
    base = ancestors["research-lab/gpt2-tiny-nc"]
    assert base["licenses"] == [{"license": {"id": "CC-BY-NC-4.0", "acknowledgement": "declared"}}]
    base_props = _props(base)
    declared = [
        n
        for n in range(1, 10)
        if base_props.get(f"modelgenes:derivation.{n}.source") == ["declared"]
        and base_props.get(f"modelgenes:derivation.{n}.child") == ["acme/gpt2-tiny-chat"]
    ]
    assert declared, base_props
    n = declared[0]
    assert base_props[f"modelgenes:derivation.{n}.relation"] == ["finetune"]
    assert base_props[f"modelgenes:derivation.{n}.confidence"] == ["0.9"]
    assert base_props[f"modelgenes:derivation.{n}.evidence"] == [
        "declared base_model research-lab/gpt2-tiny-nc (metadata)"
    ]
    assert base["modelCard"]["modelParameters"]["datasets"] == [{"type": "dataset", "name": "openwebtext"}]


def test_a_quantised_model_card_notes_its_limitation(hub_kb: HubKB) -> None:
    (component,) = _bom(hub_kb, "acme/gpt2-tiny-chat-int8")["components"]
    assert _props(component)["modelgenes:quantised"] == ["true"]
    assert component["modelCard"]["considerations"]["technicalLimitations"]


def test_all_models_in_one_valid_bom_with_unique_refs(hub_kb: HubKB) -> None:
    bom = build_bom(hub_kb.store)
    assert _valid(bom)
    names = {c["name"] for c in bom["components"]}
    assert len(bom["components"]) == 13 and "acme/tiny-chat-llama31" in names
    refs = list(_refs(bom))
    assert len(refs) == len(set(refs))
    by_name = {c["name"]: c for c in bom["components"]}
    # A hub license id is not on the SPDX list: it goes by name.
    assert by_name["acme/tiny-chat-llama31"]["licenses"] == [
        {"license": {"name": "llama3.1", "acknowledgement": "declared"}}
    ]
    assert "pedigree" not in by_name["acme/tiny-chat-llama31"]  # no lineage
    assert "pedigree" not in by_name["acme/mystery-regressor"]


def test_the_validator_rejects_what_the_schema_does_not_allow(hub_kb: HubKB) -> None:
    bom = _bom(hub_kb, "acme/gpt2-tiny-chat")
    bom["components"][0]["modelCard"]["colour"] = "blue"
    with pytest.raises(ModelgenesError, match=r"not valid CycloneDX 1\.6"):
        validate_bom(bom)


def test_an_unknown_model_id_is_an_error(hub_kb: HubKB) -> None:
    with pytest.raises(ModelgenesError, match="no stored model has id"):
        build_bom(hub_kb.store, ["0" * 64])


# -- the command ------------------------------------------------------------------------------------------
def _cli(kb: HubKB, *args: str) -> Any:
    return CliRunner().invoke(app, ["export", *args], env={"MODELGENES_HOME": str(kb.home)})


def test_export_command_writes_a_valid_bom(hub_kb: HubKB, tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    result = _cli(hub_kb, "--format", "cyclonedx", "acme/bert-tiny-sst2-int8", "--out", str(out))
    assert result.exit_code == 0, result.output
    bom = json.loads(out.read_text())
    assert _valid(bom) and [c["name"] for c in bom["components"]] == ["acme/bert-tiny-sst2-int8"]
    ancestors = {a["name"] for a in bom["components"][0]["pedigree"]["ancestors"]}
    assert {"acme/bert-tiny-sst2", "google/bert-tiny"} <= ancestors


def test_export_all_to_stdout_and_argument_errors(hub_kb: HubKB) -> None:
    result = _cli(hub_kb, "--all")
    assert result.exit_code == 0 and _valid(json.loads(result.stdout))
    both = _cli(hub_kb, "--all", "google/bert-tiny")
    assert both.exit_code != 0 and "give one MODEL or --all" in str(both.exception)
    unknown = _cli(hub_kb, "no/such-model")
    assert unknown.exit_code != 0 and "no stored model matches" in str(unknown.exception)
