"""``modelgenes identify --format json`` on a fixed set of corpus models equals a golden file.

One model per kind of answer: a CNN, a transformer encoder, a decoder-only LM, a seq2seq model,
a quantised copy, a dynamo export, a multi-family CRNN, a recurrent model and a model of no family.
"""

from __future__ import annotations

import json
from pathlib import Path

import onnx
from typer.testing import CliRunner

from modelgenes.cli.app import app
from tests.support.golden import assert_matches_golden

REPO = Path(__file__).resolve().parents[2]
ZOO = REPO / "tests" / "data" / "zoo"
GOLDEN = Path(__file__).parent / "golden" / "identify.json"
ONNX_LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"

MODELS = [
    "resnet/resnet-bottleneck-h32-dynamo-op18.onnx",
    "bert/bert-h32-ts-op17.onnx",
    "bert/bert-h32-ts-op17-qdyn.onnx",
    "gpt2/gpt2-h32-ts-op17.onnx",
    "bart/bart-h32-ts-op17.onnx",
    "resnet/crnn-w6-h24-ts-op17.onnx",
    "gru/gru-unrolled-h32-t4-ts-op17.onnx",
    "mobilenet_v3/mobilenet_v3-small-w16-ts-op17-qdq.onnx",
]


def _existing() -> list[str]:
    found = [m for m in MODELS if (ZOO / m).is_file()]
    missing = sorted(set(MODELS) - set(found))
    assert not missing, f"golden models missing from the corpus: {missing}"
    none_models = sorted(p.relative_to(ZOO).as_posix() for p in (ZOO / "none").glob("mlp*.onnx"))[:1]
    return found + none_models


def test_identify_json_matches_the_golden_file() -> None:
    models = _existing()
    result = CliRunner().invoke(
        app,
        [
            "identify",
            *(str(ZOO / m) for m in models),
            str(ONNX_LIGHT / "light_squeezenet.onnx"),
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)
    for answer in answers:  # paths differ between checkouts: keep them relative to the corpus
        path = Path(answer["path"])
        answer["path"] = path.relative_to(ZOO).as_posix() if path.is_relative_to(ZOO) else path.name
    assert_matches_golden(GOLDEN, answers)
