"""Build the lineage test models: a tiny BERT and models derived from it, as Hugging Face cache folders.

    .venv-zoo/bin/python scripts/build_lineage.py [--out tests/data/lineage]

Needs torch, transformers and onnxruntime (the .venv-zoo environment; `make test` does not). Writes
``models--ORG--NAME/snapshots/REV/model.onnx`` (+ ``README.md`` with card front matter where a card is
wanted). Every model is made the way its name says, nothing is faked (hub id: how; what its card says):

- lineage-lab/tiny-bert: BERT (hidden 32, 2 layers), seed 1, TorchScript exporter, opset 17; no base.
- lineage-lab/tiny-bert-sst2: the base fine-tuned 40 Adam steps on random data; finetune of the base.
- lineage-lab/tiny-bert-sst2-int8: onnxruntime ``quantize_dynamic`` (int8) of the fine-tune; quantized
  of the fine-tune.
- mirror/tiny-bert-sst2-q8: ``quantize_dynamic`` (uint8, per channel) of the fine-tune; no card.
- mirror/tiny-bert-opset18: the base re-exported at opset 18; no card.
- mirror/tiny-bert-sst2-pruned: the fine-tune with the 40 % smallest weights of each linear layer
  zeroed; no card.
- lineage-lab/tiny-bert-ner: the base fine-tuned on other random data; finetune of
  lineage-lab/tiny-bert-large, a base that is not stored.
- other-lab/tiny-bert-scratch: the same architecture from another random init (seed 2); no base.
- shady/tiny-bert-chat: the scratch model fine-tuned; its card lies: finetune of lineage-lab/tiny-bert.

Deterministic: torch runs single-threaded with fixed seeds (the same bytes on every run here).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import onnx
import torch
import transformers as T
from torch import nn

REPO = Path(__file__).resolve().parents[1]
REVISION = "0000000000000000000000000000000000000001"
SEQ = 16
VOCAB = 96


class Encoder(nn.Module):
    """(input_ids, attention_mask) -> last hidden state."""

    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.m(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)[0]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's quantizer logs advice on the root logger
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.getLogger().setLevel(level)


def tiny_bert(seed: int) -> Encoder:
    torch.manual_seed(seed)
    cfg = T.BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=96,
        max_position_embeddings=48,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = Encoder(T.BertModel(cfg, add_pooling_layer=False))
    model.eval()
    return model


def inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, VOCAB, (1, SEQ), generator=g)
    mask = torch.ones(1, SEQ, dtype=torch.long)
    mask[:, -3:] = 0
    return ids, mask


def fine_tune(base: Encoder, seed: int, steps: int = 40, lr: float = 3e-4) -> Encoder:
    """A copy of ``base`` trained ``steps`` Adam steps to map random token batches to random targets."""
    model = Encoder(T.BertModel(base.m.config, add_pooling_layer=False))
    model.load_state_dict(base.state_dict())
    model.train()
    g = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        ids = torch.randint(4, VOCAB, (8, SEQ), generator=g)
        mask = torch.ones(8, SEQ, dtype=torch.long)
        target = torch.randn(8, SEQ, 32, generator=g)
        loss = nn.functional.mse_loss(model(ids, mask), target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    return model


def prune(model: Encoder, share: float = 0.4) -> Encoder:
    """A copy with the ``share`` smallest-magnitude weights of every linear layer set to zero."""
    pruned = Encoder(T.BertModel(model.m.config, add_pooling_layer=False))
    pruned.load_state_dict(model.state_dict())
    with torch.no_grad():
        for module in pruned.modules():
            if isinstance(module, nn.Linear):
                w = module.weight
                cut = w.abs().flatten().kthvalue(int(share * w.numel())).values
                w[w.abs() <= cut] = 0.0
    pruned.eval()
    return pruned


def export(model: Encoder, dest: Path, opset: int = 17) -> None:
    with quiet(), torch.no_grad():
        torch.onnx.export(
            model,
            inputs(),
            str(dest),
            dynamo=False,
            opset_version=opset,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
        )
    onnx.checker.check_model(str(dest))


def quantise(src: Path, dest: Path, *, per_channel: bool, unsigned: bool) -> None:
    from onnxruntime import quantization as q

    with tempfile.TemporaryDirectory() as td, quiet():
        out = Path(td) / "q.onnx"
        q.quantize_dynamic(
            str(src),
            str(out),
            weight_type=q.QuantType.QUInt8 if unsigned else q.QuantType.QInt8,
            per_channel=per_channel,
            op_types_to_quantize=["MatMul"],
        )
        shutil.copyfile(out, dest)


def folder(out: Path, hub_id: str) -> Path:
    org, name = hub_id.split("/")
    path = out / f"models--{org}--{name}" / "snapshots" / REVISION
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def card(path: Path, hub_id: str, fields: dict[str, object]) -> None:
    lines = ["---", *(f"{k}: {json.dumps(v)}" for k, v in fields.items()), "---", ""]
    lines += [f"# {hub_id}", "", "A tiny model built by scripts/build_lineage.py (see its docstring).", ""]
    (path / "README.md").write_text("\n".join(lines))


def build(out: Path) -> list[Path]:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []

    def model_file(hub_id: str, fields: dict[str, object] | None = None) -> Path:
        path = folder(out, hub_id)
        if fields is not None:
            card(path, hub_id, fields)
        made.append(path / "model.onnx")
        return path / "model.onnx"

    base = tiny_bert(seed=1)
    export(base, model_file("lineage-lab/tiny-bert", {"license": "apache-2.0", "pipeline_tag": "fill-mask"}))

    tuned = fine_tune(base, seed=11)
    tuned_file = model_file(
        "lineage-lab/tiny-bert-sst2",
        {
            "license": "apache-2.0",
            "pipeline_tag": "text-classification",
            "base_model": "lineage-lab/tiny-bert",
            "base_model_relation": "finetune",
        },
    )
    export(tuned, tuned_file)
    quantise(
        tuned_file,
        model_file(
            "lineage-lab/tiny-bert-sst2-int8",
            {
                "license": "apache-2.0",
                "pipeline_tag": "text-classification",
                "base_model": "lineage-lab/tiny-bert-sst2",
                "base_model_relation": "quantized",
            },
        ),
        per_channel=False,
        unsigned=False,
    )
    quantise(tuned_file, model_file("mirror/tiny-bert-sst2-q8"), per_channel=True, unsigned=True)
    export(base, model_file("mirror/tiny-bert-opset18"), opset=18)
    export(prune(tuned), model_file("mirror/tiny-bert-sst2-pruned"))
    export(
        fine_tune(base, seed=12),
        model_file(
            "lineage-lab/tiny-bert-ner",
            {
                "license": "apache-2.0",
                "pipeline_tag": "token-classification",
                "base_model": "lineage-lab/tiny-bert-large",
                "base_model_relation": "finetune",
            },
        ),
    )
    scratch = tiny_bert(seed=2)
    export(
        scratch, model_file("other-lab/tiny-bert-scratch", {"license": "mit", "pipeline_tag": "fill-mask"})
    )
    export(
        fine_tune(scratch, seed=13),
        model_file(
            "shady/tiny-bert-chat",
            {
                "license": "apache-2.0",
                "pipeline_tag": "text-generation",
                "base_model": "lineage-lab/tiny-bert",
                "base_model_relation": "finetune",
            },
        ),
    )
    return made


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "lineage")
    args = parser.parse_args()
    for path in build(args.out):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path, path.stat().st_size)


if __name__ == "__main__":
    main()
