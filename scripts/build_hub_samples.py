"""Build Hugging-Face-cache-style sample folders (model + model card + config) for lineage tests and the demo.

    python scripts/build_hub_samples.py [--out tests/data/hub]

Needs only onnx and numpy (no torch): each sample is made from a model of the corpus in
tests/data/zoo. A "fine-tune" is its base with every float weight moved by small seeded noise (new
weights, same architecture); a "quantised" copy is the corpus's own onnxruntime quantisation of the
base export. Every file gets its hub id in the ONNX metadata, so no two samples share a sha256 with
each other or with the corpus file they came from. Deterministic: the same inputs give the same bytes.

The samples after the first four make the audit's fixture knowledge base (tests/integration/report):
a mislicensed derivative chain, a model under a publisher-specific license with and without lineage
to that publisher, a vision model declared text-generation, a two-family model and a model of no
known family. After rebuilding, refresh the audit golden file (see tests/integration/report).
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "tests" / "data" / "zoo"


@dataclass(frozen=True)
class Sample:
    hub_id: str
    source: str  # corpus file, relative to tests/data/zoo
    card: dict[str, object]
    config: dict[str, object] = field(default_factory=dict)
    noise: float = 0.0  # relative weight noise: a stand-in for fine-tuning
    seed: int = 0
    # For a quantised copy: the hub id of the sample whose weights it quantises (its float parent);
    # ``source`` is then the corpus's onnxruntime-quantised export, used as the graph template.
    weights_of: str = ""


SAMPLES = (
    Sample(
        "google/bert-tiny",
        "bert/bert-h32-ts-op17.onnx",
        {
            "license": "apache-2.0",
            "pipeline_tag": "fill-mask",
            "datasets": ["wikipedia"],
            "library_name": "onnx",
        },
        {"architectures": ["BertForMaskedLM"], "model_type": "bert"},
    ),
    Sample(
        "acme/bert-tiny-sst2",
        "bert/bert-h32-ts-op17.onnx",
        {
            "license": "apache-2.0",
            "pipeline_tag": "text-classification",
            "datasets": ["sst2"],
            "base_model": "google/bert-tiny",
            "base_model_relation": "finetune",
        },
        {"architectures": ["BertForSequenceClassification"], "model_type": "bert"},
        noise=0.01,
        seed=1,
    ),
    Sample(
        "acme/bert-tiny-sst2-int8",
        "bert/bert-h32-ts-op17-qdyn.onnx",
        {
            "license": "apache-2.0",
            "pipeline_tag": "text-classification",
            "base_model": "acme/bert-tiny-sst2",
            "base_model_relation": "quantized",
            "tags": ["int8", "onnxruntime"],
        },
        {"architectures": ["BertForSequenceClassification"], "model_type": "bert"},
        weights_of="acme/bert-tiny-sst2",
    ),
    Sample(
        "facebook/bart-tiny",
        "bart/bart-h32-ts-op17.onnx",
        {"license": "mit", "pipeline_tag": "summarization", "datasets": ["cnn_dailymail"]},
        {"architectures": ["BartForConditionalGeneration"], "model_type": "bart"},
    ),
    # --- the audit's fixture KB (tests/integration/report): one sample per finding, and look-alikes
    # that must not be flagged.
    # A non-commercial base, a fine-tune of it relicensed MIT (license-conflict) and a quantised
    # copy of that fine-tune, still MIT (license-conflict through a chain of two edges).
    Sample(
        "research-lab/gpt2-tiny-nc",
        "gpt2/gpt2-h32-ts-op17.onnx",
        {"license": "cc-by-nc-4.0", "pipeline_tag": "text-generation", "datasets": ["openwebtext"]},
        {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"},
    ),
    Sample(
        "acme/gpt2-tiny-chat",
        "gpt2/gpt2-h32-ts-op17.onnx",
        {
            "license": "mit",
            "pipeline_tag": "text-generation",
            "base_model": "research-lab/gpt2-tiny-nc",
            "base_model_relation": "finetune",
        },
        {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"},
        noise=0.01,
        seed=2,
    ),
    Sample(
        "acme/gpt2-tiny-chat-int8",
        "gpt2/gpt2-h32-ts-op17-qdyn.onnx",
        {
            "license": "mit",
            "pipeline_tag": "text-generation",
            "base_model": "acme/gpt2-tiny-chat",
            "base_model_relation": "quantized",
        },
        {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"},
        weights_of="acme/gpt2-tiny-chat",
    ),
    # Meta's own llama3.1 model and a fine-tune declaring it as base: traceable, no finding.
    Sample(
        "meta-llama/llama-tiny",
        "llama/llama-h32-dynamo-op18.onnx",
        {"license": "llama3.1", "pipeline_tag": "text-generation"},
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama"},
    ),
    Sample(
        "acme/llama-tiny-instruct",
        "llama/llama-h32-dynamo-op18.onnx",
        {
            "license": "llama3.1",
            "pipeline_tag": "text-generation",
            "base_model": "meta-llama/llama-tiny",
            "base_model_relation": "finetune",
        },
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama"},
        noise=0.01,
        seed=3,
    ),
    # llama3.1 on a model with no lineage to Meta (a Qwen2-style export): untraceable-license.
    Sample(
        "acme/tiny-chat-llama31",
        "llama/qwen2-h32-s3-ts-op17.onnx",
        {"license": "llama3.1", "pipeline_tag": "text-generation"},
        {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"},
    ),
    # A ResNet declared text-generation: task-mismatch.
    Sample(
        "acme/resnet-tiny-textgen",
        "resnet/resnet-basic-h16-ts-op17.onnx",
        {"license": "apache-2.0", "pipeline_tag": "text-generation"},
        {"architectures": ["ResNetForImageClassification"], "model_type": "resnet"},
    ),
    # A CRNN (ResNet-style CNN feeding an LSTM) declared image-to-text: multi-family, task fits.
    Sample(
        "acme/crnn-ocr-tiny",
        "resnet/crnn-w6-h24-ts-op17.onnx",
        {"license": "apache-2.0", "pipeline_tag": "image-to-text"},
    ),
    # A plain MLP: no family, no declared base: unknown-genealogy.
    Sample(
        "acme/mystery-regressor",
        "none/mlp-d4-s1-ts-op17.onnx",
        {"license": "mit", "pipeline_tag": "tabular-regression"},
    ),
)


def _front_matter(card: dict[str, object], hub_id: str) -> str:
    lines = ["---"]
    for key, value in card.items():
        lines.append(f"{key}: {json.dumps(value)}")
    lines += [
        "---",
        "",
        f"# {hub_id}",
        "",
        "A tiny sample model built by scripts/build_hub_samples.py (random weights).",
        "",
    ]
    return "\n".join(lines)


def _perturb(model: onnx.ModelProto, noise: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype.kind != "f" or array.size < 2:
            continue
        scale = float(np.abs(array).mean()) or 1.0
        moved = array + rng.normal(0.0, noise * scale, array.shape).astype(array.dtype)
        init.CopyFrom(numpy_helper.from_array(moved, init.name))


def _float_model(sample: Sample) -> onnx.ModelProto:
    model = onnx.load(str(ZOO / sample.source))
    if sample.noise:
        _perturb(model, sample.noise, sample.seed)
    return model


def _requantise(template: onnx.ModelProto, parent: onnx.ModelProto) -> None:
    """Put the parent's weights into an onnxruntime dynamic-int8 template of the same export.

    onnxruntime names a quantised weight ``W_quantized`` with ``W_scale`` and ``W_zero_point``
    beside it (symmetric int8: zero point 0, scale max|W|/127); every other initializer keeps its
    name. The template was quantised from the same export as the parent, so the names match.
    """
    weights = {init.name: numpy_helper.to_array(init) for init in parent.graph.initializer}
    by_name = {init.name: init for init in template.graph.initializer}
    for init in template.graph.initializer:
        if init.name in weights:
            init.CopyFrom(numpy_helper.from_array(weights[init.name], init.name))
        elif init.name.endswith("_quantized"):
            stem = init.name[: -len("_quantized")]
            w = weights[stem].astype(np.float32)
            scale = np.float32(max(float(np.abs(w).max()), 1e-12) / 127.0)
            q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
            init.CopyFrom(numpy_helper.from_array(q, init.name))
            by_name[stem + "_scale"].CopyFrom(numpy_helper.from_array(np.asarray(scale), stem + "_scale"))


def build(sample: Sample, out: Path) -> Path:
    org, name = sample.hub_id.split("/")
    folder = out / f"models--{org}--{name}" / "snapshots" / "0000000000000000000000000000000000000001"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    if sample.weights_of:
        model = onnx.load(str(ZOO / sample.source))
        parent = next(s for s in SAMPLES if s.hub_id == sample.weights_of)
        _requantise(model, _float_model(parent))
    else:
        model = _float_model(sample)
    entry = model.metadata_props.add()
    entry.key, entry.value = "hub_id", sample.hub_id
    onnx.save(model, str(folder / "model.onnx"))
    (folder / "README.md").write_text(_front_matter(sample.card, sample.hub_id))
    if sample.config:
        (folder / "config.json").write_text(json.dumps(sample.config, indent=2) + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "hub")
    args = parser.parse_args()
    for sample in SAMPLES:
        print(
            build(sample, args.out).relative_to(REPO)
            if args.out.is_relative_to(REPO)
            else build(sample, args.out)
        )


if __name__ == "__main__":
    main()
