"""``modelgenes inspect`` end to end through typer's CliRunner, on the onnx package's zoo graphs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import onnx
import pytest
from typer.testing import CliRunner

from modelgenes.cli.app import app

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
RESNET = LIGHT / "light_resnet50.onnx"
SQUEEZENET = LIGHT / "light_squeezenet.onnx"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def test_inspect_prints_json_objects_for_every_file(runner: CliRunner) -> None:
    result = runner.invoke(app, ["inspect", "--format", "json", str(RESNET), str(SQUEEZENET)])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["path"] for r in records] == [str(RESNET), str(SQUEEZENET)]
    resnet = records[0]
    assert resnet["format"] == "onnx" and resnet["producer"] == "onnx-caffe2" and resnet["opset"] == 9
    assert resnet["nodesBefore"] > resnet["nodesAfter"] > 0
    assert resnet["ops"]["Conv"] == 53 and resnet["ops"]["Relu"] == 49
    assert 25_000_000 < resnet["params"] < 26_000_000
    assert len(resnet["archHash"]) == 64 and len(resnet["sha256"]) == 64
    assert resnet["archHash"] != records[1]["archHash"]
    assert resnet["metadata"] == {} and resnet["warnings"] == []


def test_inspect_table_shows_the_fields(runner: CliRunner) -> None:
    result = runner.invoke(app, ["inspect", str(SQUEEZENET)])
    assert result.exit_code == 0, result.output
    for field in ("format", "producer", "opset", "nodes", "ops", "params", "archHash", "sha256", "Conv×26"):
        assert field in result.stdout


def test_inspect_csv_has_one_row_per_file(runner: CliRunner) -> None:
    result = runner.invoke(app, ["inspect", "-f", "csv", str(RESNET), str(SQUEEZENET)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2 and rows[1]["ops"].startswith("Conv=26;Relu=26")


def test_a_bad_file_is_reported_and_the_others_still_inspected(runner: CliRunner, tmp_path: Path) -> None:
    text = tmp_path / "notes.onnx"
    text.write_text("not a model\n")
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    result = runner.invoke(
        app, ["inspect", "--format", "json", str(text), str(RESNET), str(folder), str(tmp_path / "gone.onnx")]
    )
    assert result.exit_code == 1
    records = json.loads(result.stdout)
    assert [r["path"] for r in records] == [str(RESNET)]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert any("notes.onnx" in e and "text file" in e for e in errors)
    assert any("folder.onnx" in e and "is a directory" in e for e in errors)
    assert any("gone.onnx" in e and "no such file" in e for e in errors)


def test_inspect_shows_metadata_from_a_card_and_a_manifest(runner: CliRunner, tmp_path: Path) -> None:
    snapshot = tmp_path / "models--acme--squeeze" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    model = snapshot / "model.onnx"
    model.write_bytes(SQUEEZENET.read_bytes())
    (snapshot / "README.md").write_text("---\nlicense: apache-2.0\npipeline_tag: image-classification\n---\n")
    manifest = tmp_path / "rows.jsonl"
    manifest.write_text(json.dumps({"path": str(model), "datasets": ["imagenet"]}) + "\n")
    result = runner.invoke(app, ["inspect", "--format", "json", "--manifest", str(manifest), str(model)])
    assert result.exit_code == 0, result.output
    metadata = json.loads(result.stdout)[0]["metadata"]
    assert metadata["hubId"] == "acme/squeeze" and metadata["publisher"] == "acme"
    assert metadata["license"] == "Apache-2.0" and metadata["task"] == "image-classification"
    assert metadata["datasets"] == ["imagenet"]


def test_a_bad_manifest_stops_inspect_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    manifest = tmp_path / "rows.csv"
    manifest.write_text("path,licence\nm.onnx,mit\n")
    result = runner.invoke(app, ["inspect", "--manifest", str(manifest), str(RESNET)])
    assert result.exit_code != 0
    assert "rows.csv, line 2" in str(result.exception) + result.output
