"""Metadata beside a model: model cards, config.json, the Hugging Face cache layout, manifests, licenses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelgenes.errors import ModelgenesError
from modelgenes.ingest.license_ids import is_spdx, license_id, license_ids
from modelgenes.ingest.metadata import (
    Metadata,
    folder_metadata,
    hub_id_from_path,
    metadata_beside,
    metadata_from_columns,
    read_manifest,
    read_model_with_metadata,
)
from tests.unit.ingest.onnx_models import model, node, save

CARD = """---
license: apache-2.0
base_model:
  - org/parent-a
  - org/parent-b
base_model_relation: merge
datasets: [squad, glue]
pipeline_tag: text-classification
library_name: transformers
tags:
  - bert
  - onnx
---
# A tiny model

Some prose that is not metadata.
"""


def tiny_model(folder: Path, name: str = "model.onnx") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return save(model([node("Relu", ["x"], ["y"])]), folder / name)


# --- licenses --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("apache-2.0", "Apache-2.0"),
        ("gpl-3.0", "GPL-3.0-only"),
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("mit", "MIT"),
        ("MIT", "MIT"),
        ("Apache 2.0", "Apache-2.0"),
        ("apache-2.0 OR mit", "Apache-2.0 OR MIT"),
        ("llama2", "llama2"),
        ("llama3", "llama3"),
        ("llama3.1", "llama3.1"),
        ("llama3.2", "llama3.2"),
        ("gemma", "gemma"),
        ("openrail", "openrail"),
        ("openrail++", "openrail++"),
        ("creativeml-openrail-m", "creativeml-openrail-m"),
        ("bigscience-openrail-m", "bigscience-openrail-m"),
        ("Other", "other"),
        ("", ""),
    ],
)
def test_license_strings_become_spdx_ids_or_stay_hub_ids(given: str, expected: str) -> None:
    assert license_id(given) == expected


def test_license_lists_and_spdx_check() -> None:
    assert license_ids(["mit", "apache-2.0", "mit"]) == "MIT AND Apache-2.0"
    assert license_ids(None) == ""
    assert is_spdx("Apache-2.0") and not is_spdx("llama3.1") and not is_spdx("")


# --- cards and configs ----------------------------------------------------------------------------------
def test_a_folder_with_card_and_config_gives_its_fields(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(CARD)
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    found = folder_metadata(tmp_path)
    assert found.license == "Apache-2.0"
    assert found.base_models == ("org/parent-a", "org/parent-b")
    assert found.base_model_relation == "merge"
    assert found.datasets == ("squad", "glue")
    assert found.task == "text-classification"
    assert found.library_name == "transformers"
    assert found.tags == ("bert", "onnx")
    assert found.architectures == ("BertModel",)
    assert found.model_type == "bert"
    assert len(found.sources) == 2 and not found.warnings


def test_card_license_name_and_link_for_other_licenses(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text(
        "---\nlicense: other\nlicense_name: acme-research\nlicense_link: https://acme.example/license\n"
        "base_model: org/parent\n---\n"
    )
    found = folder_metadata(tmp_path)
    assert (found.license, found.license_name, found.license_link) == (
        "other",
        "acme-research",
        "https://acme.example/license",
    )
    assert found.base_models == ("org/parent",)


@pytest.mark.parametrize(
    ("card", "warning"),
    [
        ("---\nlicense: [unclosed\n---\n", "not valid YAML"),
        ("---\n- a list\n---\n", "not a mapping"),
        ("---\nbase_model_relation: cousin\n---\n", "unknown base_model_relation"),
    ],
)
def test_a_broken_card_is_a_warning_not_an_error(tmp_path: Path, card: str, warning: str) -> None:
    (tmp_path / "README.md").write_text(card)
    found = folder_metadata(tmp_path)
    assert any(warning in w for w in found.warnings)


def test_a_card_without_front_matter_and_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Just prose\n")
    (tmp_path / "config.json").write_text("{not json")
    found = folder_metadata(tmp_path)
    assert found.license == "" and any("config is not valid JSON" in w for w in found.warnings)


def test_hugging_face_cache_layout_gives_hub_id_and_publisher(tmp_path: Path) -> None:
    snapshot = tmp_path / "hub" / "models--acme--bert-tiny" / "snapshots" / "0123abcd"
    path = tiny_model(snapshot / "onnx")
    (snapshot / "README.md").write_text(CARD)
    assert hub_id_from_path(path) == ("acme/bert-tiny", "acme")
    found = metadata_beside(path)
    assert (found.hub, found.hub_id, found.publisher) == ("huggingface", "acme/bert-tiny", "acme")
    assert found.license == "Apache-2.0"  # the card at the snapshot root, two folders up
    assert hub_id_from_path(tmp_path / "models--gpt2" / "snapshots" / "r" / "m.onnx") == ("gpt2", "")
    assert hub_id_from_path(tmp_path / "plain" / "m.onnx") is None


def test_an_onnx_subfolder_reads_the_card_of_its_parent(tmp_path: Path) -> None:
    path = tiny_model(tmp_path / "repo" / "onnx")
    (tmp_path / "repo" / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    assert metadata_beside(path).model_type == "gpt2"
    assert metadata_beside(tiny_model(tmp_path / "elsewhere")).is_empty()


# --- manifests ------------------------------------------------------------------------------------------
def test_csv_manifest_rows(tmp_path: Path) -> None:
    manifest = tmp_path / "batch.csv"
    manifest.write_text(
        "path,hub,hub_id,publisher,license,architecture,task,datasets,base_model,base_model_relation\n"
        "models/a.onnx,huggingface,org/a,,apache-2.0,BertModel,fill-mask,wiki; books,,\n"
        "b.onnx,,org/b,Org Inc,llama3.1,,,,org/a;org/c,merge\n"
    )
    rows = read_manifest(manifest)
    assert [r.line for r in rows.values()] == [2, 3]
    a, b = rows.values()
    assert a.path == tmp_path / "models" / "a.onnx"
    assert (tmp_path / "models" / "a.onnx").resolve() in rows
    assert a.metadata.publisher == "org"  # from the hub id
    assert a.metadata.license == "Apache-2.0"
    assert a.metadata.datasets == ("wiki", "books")
    assert a.metadata.architectures == ("BertModel",)
    assert b.metadata.base_models == ("org/a", "org/c") and b.metadata.base_model_relation == "merge"
    assert b.metadata.publisher == "Org Inc" and b.metadata.license == "llama3.1"


def test_jsonl_manifest_rows(tmp_path: Path) -> None:
    manifest = tmp_path / "batch.jsonl"
    manifest.write_text(
        json.dumps({"path": "/abs/m.onnx", "hub_id": "org/m", "datasets": ["a;b", "c"], "license": "mit"})
        + "\n\n"
        + json.dumps({"path": "n.onnx", "base_model": "org/m", "base_model_relation": "quantized"})
        + "\n"
    )
    rows = list(read_manifest(manifest).values())
    assert rows[0].path == Path("/abs/m.onnx") and rows[0].metadata.datasets == ("a;b", "c")
    assert rows[1].line == 3 and rows[1].metadata.base_models == ("org/m",)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("bad.csv", "path,licence\nm.onnx,mit\n", "line 2: unknown column 'licence'"),
        ("bad.csv", "hub_id,license\norg/m,mit\n", "line 1: no 'path' column"),
        ("bad.csv", "path,license\n,mit\n", "line 2: the path column is empty"),
        ("bad.csv", "path,base_model_relation\nm.onnx,cousin\n", "line 2: base_model_relation 'cousin'"),
        ("bad.csv", "path\nm.onnx\n./m.onnx\n", "line 3: "),
        ("bad.csv", "path,hub_id\nm.onnx,org/my model\n", "contains whitespace"),
        ("bad.csv", "path,hub\nm.onnx,hf,extra\n", "more values than header columns"),
        ("bad.jsonl", '{"path": "m.onnx"}\n{"path": \n', "line 2: not valid JSON"),
        ("bad.jsonl", '{"path": "m.onnx", "datasets": [1, 2]}\n', "line 1: datasets must be"),
        ("bad.jsonl", '{"path": "m.onnx", "license": 3}\n', "line 1: license must be a string"),
        ("bad.csv", "", "empty manifest"),
    ],
)
def test_a_bad_manifest_names_the_file_line_and_problem(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ModelgenesError) as e:
        read_manifest(path)
    assert name in str(e.value) and problem in str(e.value)


def test_a_missing_manifest_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelgenesError, match=r"nothere\.csv"):
        read_manifest(tmp_path / "nothere.csv")


# --- all together ---------------------------------------------------------------------------------------
def test_manifest_row_wins_over_the_card_which_wins_over_the_path(tmp_path: Path) -> None:
    snapshot = tmp_path / "models--acme--tiny" / "snapshots" / "r1"
    path = tiny_model(snapshot)
    (snapshot / "README.md").write_text(CARD)
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,license,hub_id\n{path},mit,other/name\n")
    row = read_manifest(manifest)[path.resolve()]
    graph, info = read_model_with_metadata(path, row)
    assert info.license == "MIT" and info.hub_id == "other/name" and info.name == "other/name"
    assert info.publisher == "other"  # the row's hub id gives the publisher before the path does
    assert info.task == "text-classification"  # only the card says it
    assert len(graph.nodes) == 1 and info.sha256

    _, from_card = read_model_with_metadata(path)
    assert (
        from_card.license == "Apache-2.0"
        and from_card.hub_id == "acme/tiny"
        and from_card.publisher == "acme"
    )


def test_metadata_can_be_given_as_columns_or_values(tmp_path: Path) -> None:
    path = tiny_model(tmp_path)
    _, info = read_model_with_metadata(path, {"license": "gpl-3.0", "datasets": "a;b"})
    assert info.license == "GPL-3.0-only" and info.datasets == ("a", "b")
    _, info = read_model_with_metadata(path, Metadata(task="image-classification"))
    assert info.task == "image-classification" and info.name == "model"
    with pytest.raises(ModelgenesError, match="unknown column"):
        metadata_from_columns({"licence": "mit"})


HUB = Path(__file__).resolve().parents[2] / "data" / "hub"


@pytest.mark.skipif(not HUB.exists(), reason="no tests/data/hub corpus")
def test_the_hub_corpus_reads_with_its_cards() -> None:
    for path in sorted(HUB.glob("models--*/snapshots/*/model.onnx")):
        _, info = read_model_with_metadata(path)
        org = path.parts[-4].split("--")[1]
        assert info.publisher == org and info.hub_id.startswith(f"{org}/")
