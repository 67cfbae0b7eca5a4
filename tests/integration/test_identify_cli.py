"""``modelgenes identify`` and ``signatures`` on real files through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import onnx

from modelgenes.signatures.samples import SAMPLES, sample_names


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelgenes", *args], capture_output=True, text=True, timeout=300
    )


def _save(name: str, folder: Path) -> Path:
    sample_names()
    path = folder / f"{name}.onnx"
    onnx.save_model(SAMPLES[name](), path)
    return path


def test_identify_json_lists_families_components_and_signatures(tmp_path: Path) -> None:
    crnn = _save("crnn_resnet_lstm", tmp_path)
    mlp = _save("mlp_three_layers", tmp_path)
    result = _run("identify", str(crnn), str(mlp), "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [o["path"] for o in out] == [str(crnn), str(mlp)]
    assert out[0]["families"][0]["name"] == "resnet" and out[0]["unknown"] is False
    assert [c["family"] for c in out[0]["components"]] == ["resnet", "lstm"]
    assert out[0]["signatures"]["lstm/fused-op@1"] == 1
    assert out[1]["unknown"] is True and out[1]["families"] == []


def test_a_bad_file_is_one_error_line_and_the_others_are_still_identified(tmp_path: Path) -> None:
    good = _save("resnet_basic_blocks", tmp_path)
    bad = tmp_path / "notes.txt"
    bad.write_text("not a model")
    result = _run("identify", str(bad), str(good), "--format", "json")
    assert result.returncode == 1
    assert str(bad) in result.stderr and "Traceback" not in result.stderr
    assert json.loads(result.stdout)[0]["families"][0]["name"] == "resnet"


def test_explain_says_where_a_signature_failed(tmp_path: Path) -> None:
    path = _save("mobilenet_v2_blocks", tmp_path)
    result = _run(
        "identify", str(path), "--format", "json", "--explain", "efficientnet/mbconv-squeeze-excite"
    )
    assert result.returncode == 0, result.stderr
    lines = json.loads(result.stdout)[0]["explain"]
    assert lines[0].endswith("no match") and any(line.startswith("failed at") for line in lines)


def test_signatures_list_and_show() -> None:
    listed = _run("signatures", "list", "--format", "json")
    assert listed.returncode == 0
    ids = {row["id"] for row in json.loads(listed.stdout)}
    assert "resnet/basic-block@1" in ids and "_broad/cross-attention@1" in ids
    shown = _run("signatures", "show", "resnet/basic-block")
    assert "id: resnet/basic-block@1" in shown.stdout


def test_suggest_writes_a_draft_that_signatures_test_can_check(tmp_path: Path) -> None:
    model = _save("shufflenet_unit", tmp_path)
    draft = tmp_path / "draft.yaml"
    result = _run("signatures", "suggest", str(model), "--family", "shufflenet", "--out", str(draft))
    assert result.returncode == 0, result.stderr
    assert draft.exists() and "DRAFT" in draft.read_text()
    # The draft names the model it came from, and 'signatures test' finds it and checks it.
    tested = _run("signatures", "test", "--file", str(draft))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed, 0 failed" in tested.stdout
