#!/usr/bin/env python3
"""Build the labelled ONNX test corpus under tests/data/zoo (tiny random-weight models).

Usage (independent of any Makefile target; run with the zoo venv, not the project venv):

    python3 -m venv .venv-zoo
    .venv-zoo/bin/pip install torch==2.13.0 transformers onnx onnxruntime onnxscript numpy
    .venv-zoo/bin/python scripts/build_zoo.py --out tests/data/zoo            # build what is missing
    .venv-zoo/bin/python scripts/build_zoo.py --out tests/data/zoo --force    # rebuild everything
    .venv-zoo/bin/python scripts/build_zoo.py --out tests/data/zoo --only 'bert|gru'   # a subset
    .venv-zoo/bin/python scripts/build_zoo.py --out tests/data/zoo --check    # load/check/run all

(never install an unpinned torch: torch==2.13.0 is the local CPU wheel; torchvision does not work with it.)

Deterministic (a rebuild is byte-identical): every model is built from a config with a fixed seed,
calibration data for the static quantiser comes from a seeded generator, and the script re-executes
itself with PYTHONHASHSEED=0. Rerunnable: files that exist are kept (and still listed
in labels.csv) unless --force. A model whose export fails is logged with the reason and skipped; the
build goes on. labels.csv is generated from the specs below (never edit it by hand); its columns:

    path,family,architecture,components,exporter,opset,variant,seed,size

The ONNX Model Zoo "light" graphs shipped inside the onnx package are not copied: they are listed with
the path prefix ``onnx-light:``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import onnx
import torch
from torch import nn
from torch.nn import functional as F

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import transformers as T  # noqa: E402  (after the environment is set)

T.logging.set_verbosity_error()

LABEL_COLUMNS = [
    "path",
    "family",
    "architecture",
    "components",
    "exporter",
    "opset",
    "variant",
    "seed",
    "size",
]
FAMILIES = {
    "alexnet_vgg",
    "resnet",
    "inception",
    "densenet",
    "squeezenet",
    "shufflenet",
    "mobilenet_v1",
    "mobilenet_v2",
    "mobilenet_v3",
    "efficientnet",
    "convnext",
    "yolo",
    "unet",
    "lstm",
    "gru",
    "bert",
    "roberta",
    "bart",
    "t5",
    "gpt2",
    "llama",
    "modernbert",
    "vit",
    "whisper",
    "wav2vec2",
    "none",
}

# ONNX Model Zoo light graphs in the onnx package: file -> (family, architecture)
ONNX_LIGHT = {
    "light_bvlc_alexnet.onnx": ("alexnet_vgg", "alexnet"),
    "light_zfnet512.onnx": ("alexnet_vgg", "zfnet512"),
    "light_vgg19.onnx": ("alexnet_vgg", "vgg19"),
    "light_densenet121.onnx": ("densenet", "densenet121"),
    "light_inception_v1.onnx": ("inception", "inception-v1"),
    "light_inception_v2.onnx": ("inception", "inception-v2"),
    "light_resnet50.onnx": ("resnet", "resnet50"),
    "light_shufflenet.onnx": ("shufflenet", "shufflenet"),
    "light_squeezenet.onnx": ("squeezenet", "squeezenet"),
}

# export recipes: (exporter, opset, variant)
TS13 = ("torchscript", 13, "float")
TS17 = ("torchscript", 17, "float")
DY18 = ("dynamo", 18, "float")
BN17 = ("torchscript", 17, "bn-unfused")
EXP_SHORT = {"torchscript": "ts", "dynamo": "dynamo"}
VOCAB = 64  # token vocabulary of the text models (keeps embeddings and LM heads small)

Inputs = tuple[torch.Tensor, ...]
Built = tuple[nn.Module, Inputs]


@dataclass
class Spec:
    family: str
    arch: str
    size: str
    make: Callable[[], Built]
    inputs: list[str]
    exports: list[tuple[str, int, str]] = field(default_factory=lambda: [TS17])
    quant: list[str] = field(default_factory=list)  # "qdyn" / "qdq", made from the ts-op17 float file
    seed: int = 0
    components: str | None = None  # default: the family (empty for none)
    dynamic: dict[str, dict[int, str]] | None = None  # dynamic axes for the ts-op17 export
    outputs: list[str] | None = None

    @property
    def comp(self) -> str:
        if self.components is not None:
            return self.components
        return "" if self.family == "none" else self.family

    def stem(self) -> str:
        s = f"{self.arch}-{self.size}"
        return s if self.seed == 0 else f"{s}-s{self.seed}"

    def file_for(self, exporter: str, opset: int, variant: str) -> str:
        v = "" if variant == "float" else f"-{variant}"
        return f"{self.family}/{self.stem()}-{EXP_SHORT[exporter]}-op{opset}{v}.onnx"

    def quant_file(self, variant: str) -> str:
        return self.file_for("torchscript", 17, "float")[: -len(".onnx")] + f"-{variant}.onnx"


# --------------------------------------------------------------------------- wrappers and inputs
def ids(vocab: int, seq: int = 16, batch: int = 1, lo: int = 4) -> torch.Tensor:
    return torch.randint(lo, vocab, (batch, seq), dtype=torch.long)


def mask(seq: int = 16, batch: int = 1, pad: int = 3) -> torch.Tensor:
    m = torch.ones(batch, seq, dtype=torch.long)
    if pad:
        m[:, -pad:] = 0
    return m


class Encoder(nn.Module):
    """(input_ids, attention_mask) -> first output of a transformers model, as a tuple-free tensor."""

    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.m(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)[0]


class CausalLM(nn.Module):
    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, return_dict=False)[
            0
        ]


class Seq2Seq(nn.Module):
    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, decoder_input_ids: torch.Tensor
    ) -> torch.Tensor:
        return self.m(
            input_ids=input_ids,
            attention_mask=attention_mask,
            decoder_input_ids=decoder_input_ids,
            use_cache=False,
            return_dict=False,
        )[0]


class Whisper(nn.Module):
    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, input_features: torch.Tensor, decoder_input_ids: torch.Tensor) -> torch.Tensor:
        # an explicit decoder mask keeps transformers off its packed-sequence check
        # (that check uses aten::diff, which has no ONNX export)
        return self.m(
            input_features=input_features,
            decoder_input_ids=decoder_input_ids,
            decoder_attention_mask=torch.ones_like(decoder_input_ids),
            use_cache=False,
            return_dict=False,
        )[0]


class Pixels(nn.Module):
    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.m(pixel_values=pixel_values, return_dict=False)[0]


class Audio(nn.Module):
    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.m = m

    def forward(self, input_values: torch.Tensor) -> torch.Tensor:
        return self.m(input_values=input_values, return_dict=False)[0]


TEXT_IN = ["input_ids", "attention_mask"]
S2S_IN = ["input_ids", "attention_mask", "decoder_input_ids"]
TEXT_DYN = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}}
S2S_DYN = {**TEXT_DYN, "decoder_input_ids": {0: "batch", 1: "dec_seq"}}
IMG_DYN = {"pixel_values": {0: "batch"}}


def img(size: int, ch: int = 3, h: int | None = None) -> Inputs:
    return (torch.randn(1, ch, h or size, size),)


# --------------------------------------------------------------------------- transformers builders
def tf_text(model_cls: Any, cfg: Any, wrap: type[nn.Module] = Encoder, seq: int = 16) -> Callable[[], Built]:
    def make() -> Built:
        m = model_cls(cfg).eval()
        return wrap(m), (ids(cfg.vocab_size, seq), mask(seq))

    return make


def tf_s2s(model_cls: Any, cfg: Any, seq: int = 16, dec: int = 8) -> Callable[[], Built]:
    def make() -> Built:
        m = model_cls(cfg).eval()
        return Seq2Seq(m), (ids(cfg.vocab_size, seq), mask(seq), ids(cfg.vocab_size, dec))

    return make


def tf_image(model_cls: Any, cfg: Any, size: int) -> Callable[[], Built]:
    def make() -> Built:
        return Pixels(model_cls(cfg).eval()), img(size)

    return make


def bert_cfg(h: int, heads: int, layers: int = 2, **kw: Any) -> Any:
    return T.BertConfig(
        vocab_size=VOCAB,
        hidden_size=h,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * h,
        max_position_embeddings=64,
        **kw,
    )


def distilbert_cfg(h: int, heads: int) -> Any:
    return T.DistilBertConfig(
        vocab_size=VOCAB,
        dim=h,
        n_layers=2,
        n_heads=heads,
        hidden_dim=2 * h,
        max_position_embeddings=64,
    )


def roberta_cfg(h: int, heads: int, **kw: Any) -> Any:
    return T.RobertaConfig(
        vocab_size=VOCAB,
        hidden_size=h,
        num_hidden_layers=2,
        num_attention_heads=heads,
        intermediate_size=2 * h,
        max_position_embeddings=64,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        **kw,
    )


def bart_cfg(h: int, heads: int, ffn: int = 2) -> Any:
    return T.BartConfig(
        vocab_size=VOCAB,
        d_model=h,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn * h,
        decoder_ffn_dim=ffn * h,
        max_position_embeddings=64,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        forced_eos_token_id=2,
    )


def t5_cfg(h: int, heads: int, ff: str = "relu", ffn: int = 2) -> Any:
    return T.T5Config(
        vocab_size=VOCAB,
        d_model=h,
        d_kv=h // heads,
        d_ff=ffn * h,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=heads,
        feed_forward_proj=ff,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
    )


def gpt2_cfg(h: int, heads: int) -> Any:
    return T.GPT2Config(
        vocab_size=VOCAB,
        n_embd=h,
        n_layer=2,
        n_head=heads,
        n_positions=64,
        n_inner=2 * h,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )


def llama_like_cfg(cls: Any, h: int, heads: int, kv: int, **kw: Any) -> Any:
    return cls(
        vocab_size=VOCAB,
        hidden_size=h,
        intermediate_size=2 * h,
        num_hidden_layers=2,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        max_position_embeddings=64,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        tie_word_embeddings=False,
        **kw,
    )


def modernbert_cfg(h: int, heads: int, layers: int = 2) -> Any:
    return T.ModernBertConfig(
        vocab_size=VOCAB,
        hidden_size=h,
        intermediate_size=2 * h,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        max_position_embeddings=64,
        local_attention=8,
        global_attn_every_n_layers=2,
        pad_token_id=0,
        eos_token_id=2,
        bos_token_id=1,
        cls_token_id=1,
        sep_token_id=2,
    )


def vit_cfg(h: int, heads: int, image: int, patch: int) -> Any:
    return T.ViTConfig(
        hidden_size=h,
        num_hidden_layers=2,
        num_attention_heads=heads,
        intermediate_size=2 * h,
        image_size=image,
        patch_size=patch,
        num_labels=10,
    )


def whisper_cfg(h: int, heads: int, mels: int = 16, frames: int = 32, ffn: int = 2) -> Any:
    return T.WhisperConfig(
        vocab_size=VOCAB,
        num_mel_bins=mels,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn * h,
        decoder_ffn_dim=ffn * h,
        d_model=h,
        max_source_positions=frames // 2,
        max_target_positions=32,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=3,
        suppress_tokens=[],
        begin_suppress_tokens=[],
    )


def whisper_make(cfg: Any, frames: int = 32) -> Callable[[], Built]:
    def make() -> Built:
        m = T.WhisperModel(cfg).eval()
        return Whisper(m), (torch.randn(1, cfg.num_mel_bins, frames), ids(cfg.vocab_size, 6))

    return make


def wav2vec2_cfg(h: int, heads: int, stable: bool = False) -> Any:
    return T.Wav2Vec2Config(
        vocab_size=32,
        hidden_size=h,
        num_hidden_layers=2,
        num_attention_heads=heads,
        intermediate_size=2 * h,
        conv_dim=(16, 16, 16),
        conv_stride=(5, 2, 2),
        conv_kernel=(10, 3, 3),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
        do_stable_layer_norm=stable,
        feat_extract_norm="layer" if stable else "group",
    )


def audio_make(model_cls: Any, cfg: Any, samples: int = 1600) -> Callable[[], Built]:
    def make() -> Built:
        return Audio(model_cls(cfg).eval()), (torch.randn(1, samples),)

    return make


def resnet_cfg(layer: str, emb: int, hidden: list[int], depths: list[int]) -> Any:
    return T.ResNetConfig(
        num_channels=3,
        embedding_size=emb,
        hidden_sizes=hidden,
        depths=depths,
        layer_type=layer,
        num_labels=10,
    )


def mnv1_cfg(mult: float, image: int, tf_padding: bool = True) -> Any:
    return T.MobileNetV1Config(
        num_channels=3,
        image_size=image,
        depth_multiplier=mult,
        min_depth=4,
        num_labels=10,
        tf_padding=tf_padding,
    )


def mnv2_cfg(mult: float, image: int, tf_padding: bool = True) -> Any:
    return T.MobileNetV2Config(
        num_channels=3,
        image_size=image,
        depth_multiplier=mult,
        min_depth=4,
        finegrained_output=False,
        num_labels=10,
        depth_divisible_by=4,
        tf_padding=tf_padding,
    )


def convnext_cfg(hidden: list[int], depths: list[int], image: int) -> Any:
    return T.ConvNextConfig(
        num_channels=3,
        patch_size=4,
        num_stages=len(hidden),
        hidden_sizes=hidden,
        depths=depths,
        image_size=image,
        num_labels=10,
    )


def effnet_cfg(image: int, cin: list[int], cout: list[int], depth: float) -> Any:
    # transformers hard-codes the stem (32 channels) and the top conv (1280): in_channels[0] must be 32 and
    # hidden_dim 1280 (width_coefficient < 1 breaks the same way, so smaller lists it is).
    return T.EfficientNetConfig(
        num_channels=3,
        image_size=image,
        width_coefficient=1.0,
        depth_coefficient=depth,
        in_channels=cin,
        out_channels=cout,
        hidden_dim=1280,
        num_labels=10,
    )


# --------------------------------------------------------------------------- small torch.nn models
def cbr(
    cin: int,
    cout: int,
    k: int = 3,
    s: int = 1,
    act: type[nn.Module] | None = nn.ReLU,
    groups: int = 1,
    bn: bool = True,
) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


def randomise_bn(m: nn.Module) -> nn.Module:
    """Give BatchNorm layers non-trivial running statistics (as a trained model has)."""
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm1d | nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.1, 0.1)
    return m.eval()


# ---- MobileNetV3
class SqueezeExcite(nn.Module):
    def __init__(self, c: int, r: int = 4) -> None:
        super().__init__()
        mid = max(8, c // r)
        self.fc1 = nn.Conv2d(c, mid, 1)
        self.fc2 = nn.Conv2d(mid, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        s = F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s


class InvertedResidualV3(nn.Module):
    def __init__(self, cin: int, k: int, exp: int, cout: int, se: bool, hs: bool, s: int) -> None:
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        self.use_res = s == 1 and cin == cout
        layers: list[nn.Module] = []
        if exp != cin:
            layers.append(cbr(cin, exp, 1, act=act))
        layers.append(cbr(exp, exp, k, s, act=act, groups=exp))
        if se:
            layers.append(SqueezeExcite(exp))
        layers.append(cbr(exp, cout, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.use_res else y


class MobileNetV3(nn.Module):
    # (kernel, expansion, out, squeeze-excite, hard-swish, stride)
    SMALL: ClassVar[list[tuple[int, int, int, bool, bool, int]]] = [
        (3, 16, 16, True, False, 2),
        (3, 32, 16, False, False, 2),
        (3, 48, 16, False, False, 1),
        (5, 48, 24, True, True, 2),
        (5, 96, 24, True, True, 1),
        (5, 64, 32, True, True, 1),
    ]
    LARGE: ClassVar[list[tuple[int, int, int, bool, bool, int]]] = [
        (3, 16, 16, False, False, 1),
        (3, 32, 16, False, False, 2),
        (3, 40, 16, False, False, 1),
        (5, 40, 24, True, False, 2),
        (5, 48, 24, True, False, 1),
        (3, 64, 24, False, True, 2),
        (3, 56, 24, False, True, 1),
        (3, 64, 32, True, True, 1),
        (5, 80, 32, True, True, 2),
        (5, 96, 32, True, True, 1),
    ]

    def __init__(
        self, cfg: list[tuple[int, int, int, bool, bool, int]], last: int, classes: int = 10
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [cbr(3, 16, 3, 2, act=nn.Hardswish)]
        c = 16
        for k, e, o, se, hs, s in cfg:
            layers.append(InvertedResidualV3(c, k, e, o, se, hs, s))
            c = o
        layers.append(cbr(c, 6 * c, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Linear(6 * c, last), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(last, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)
        return self.head(x)


# ---- YOLO-style detector
class YConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int = 1, s: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class YBottleneck(nn.Module):
    def __init__(self, c: int, shortcut: bool = True, k1: int = 3) -> None:
        super().__init__()
        self.cv1 = YConv(c, c, k1)
        self.cv2 = YConv(c, c, 3)
        self.add = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, cin: int, cout: int, n: int = 1, shortcut: bool = False) -> None:
        super().__init__()
        self.c = cout // 2
        self.cv1 = YConv(cin, 2 * self.c, 1)
        self.cv2 = YConv((2 + n) * self.c, cout, 1)
        self.m = nn.ModuleList(YBottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class C3(nn.Module):
    def __init__(self, cin: int, cout: int, n: int = 1, shortcut: bool = True) -> None:
        super().__init__()
        c = cout // 2
        self.cv1 = YConv(cin, c, 1)
        self.cv2 = YConv(cin, c, 1)
        self.cv3 = YConv(2 * c, cout, 1)
        self.m = nn.Sequential(*(YBottleneck(c, shortcut, k1=1) for _ in range(n)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat((self.m(self.cv1(x)), self.cv2(x)), 1))


class SPPF(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        c = cin // 2
        self.cv1 = YConv(cin, c, 1)
        self.cv2 = YConv(4 * c, cout, 1)
        self.m = nn.MaxPool2d(5, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.m(x)
        y2 = self.m(y1)
        return self.cv2(torch.cat((x, y1, y2, self.m(y2)), 1))


class Yolo(nn.Module):
    def __init__(self, w: int = 8, block: str = "c2f", classes: int = 4, anchor_free: bool = True) -> None:
        super().__init__()
        B: Any = C2f if block == "c2f" else C3
        self.b0 = nn.Sequential(YConv(3, w, 3, 2), YConv(w, 2 * w, 3, 2), B(2 * w, 2 * w, 1, True))
        self.b1 = nn.Sequential(YConv(2 * w, 4 * w, 3, 2), B(4 * w, 4 * w, 1, True))  # P3 /8
        self.b2 = nn.Sequential(YConv(4 * w, 8 * w, 3, 2), B(8 * w, 8 * w, 1, True))  # P4 /16
        self.b3 = nn.Sequential(YConv(8 * w, 8 * w, 3, 2), B(8 * w, 8 * w, 1, True), SPPF(8 * w, 8 * w))  # P5
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.n1 = B(16 * w, 8 * w, 1, False)
        self.n2 = B(12 * w, 4 * w, 1, False)
        self.d1 = YConv(4 * w, 4 * w, 3, 2)
        self.n3 = B(12 * w, 8 * w, 1, False)
        self.d2 = YConv(8 * w, 8 * w, 3, 2)
        self.n4 = B(16 * w, 8 * w, 1, False)
        self.anchor_free = anchor_free
        self.no = (4 * 4 + classes) if anchor_free else 3 * (5 + classes)
        self.heads = nn.ModuleList()
        for c in (4 * w, 8 * w, 8 * w):
            if anchor_free:  # decoupled box / class branches (v8 style)
                box = nn.Sequential(YConv(c, 2 * w, 3), YConv(2 * w, 2 * w, 3), nn.Conv2d(2 * w, 16, 1))
                cls = nn.Sequential(YConv(c, 2 * w, 3), YConv(2 * w, 2 * w, 3), nn.Conv2d(2 * w, classes, 1))
                self.heads.append(nn.ModuleList([box, cls]))
            else:  # single anchor-based conv per scale (v5 style)
                self.heads.append(nn.ModuleList([nn.Conv2d(c, self.no, 1)]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p3 = self.b1(self.b0(x))
        p4 = self.b2(p3)
        p5 = self.b3(p4)
        h4 = self.n1(torch.cat((self.up(p5), p4), 1))
        o3 = self.n2(torch.cat((self.up(h4), p3), 1))
        o4 = self.n3(torch.cat((self.d1(o3), h4), 1))
        o5 = self.n4(torch.cat((self.d2(o4), p5), 1))
        outs = []
        for feat, head in zip((o3, o4, o5), self.heads, strict=True):
            y = torch.cat([h(feat) for h in head], 1) if self.anchor_free else head[0](feat).sigmoid()
            outs.append(y.flatten(2))
        return torch.cat(outs, 2)


# ---- U-Net and FPN
class DoubleConv(nn.Sequential):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cbr(cin, cout), cbr(cout, cout))


class UNet(nn.Module):
    def __init__(
        self, base: int = 8, depth: int = 3, up: str = "convt", cin: int = 3, classes: int = 2
    ) -> None:
        super().__init__()
        chans = [base * 2**i for i in range(depth + 1)]
        self.downs = nn.ModuleList()
        c = cin
        for ch in chans[:-1]:
            self.downs.append(DoubleConv(c, ch))
            c = ch
        self.bottom = DoubleConv(chans[-2], chans[-1])
        self.ups = nn.ModuleList()
        self.decs = nn.ModuleList()
        for ch in reversed(chans[:-1]):
            if up == "convt":
                self.ups.append(nn.ConvTranspose2d(ch * 2, ch, 2, 2))
            else:
                self.ups.append(
                    nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(ch * 2, ch, 1))
                )
            self.decs.append(DoubleConv(ch * 2, ch))
        self.out = nn.Conv2d(base, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for d in self.downs:
            x = d(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottom(x)
        for up, dec, skip in zip(self.ups, self.decs, reversed(skips), strict=True):
            x = dec(torch.cat((up(x), skip), 1))
        return self.out(x)


class FPNSeg(nn.Module):
    """Strided conv encoder, FPN top-down path (lateral 1x1 + upsample-add), merged segmentation head."""

    def __init__(self, base: int = 8, classes: int = 2) -> None:
        super().__init__()
        c = [base, 2 * base, 3 * base, 4 * base]
        self.stem = nn.Sequential(cbr(3, c[0], 3, 2), cbr(c[0], c[0]))
        self.enc = nn.ModuleList([cbr(c[i], c[i + 1], 3, 2) for i in range(3)])
        p = 2 * base
        self.lat = nn.ModuleList([nn.Conv2d(ch, p, 1) for ch in c])
        self.smooth = nn.ModuleList([cbr(p, p) for _ in c])
        self.head = nn.Sequential(cbr(4 * p, p), nn.Conv2d(p, classes, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [self.stem(x)]
        for e in self.enc:
            feats.append(e(feats[-1]))
        top = self.lat[3](feats[3])
        pyramid = [top]
        for i in (2, 1, 0):
            top = self.lat[i](feats[i]) + F.interpolate(top, scale_factor=2.0, mode="nearest")
            pyramid.insert(0, top)
        size = pyramid[0].shape[-2:]
        merged = [
            F.interpolate(s(p), size=size, mode="bilinear") if i else s(p)
            for i, (s, p) in enumerate(zip(self.smooth, pyramid, strict=True))
        ]
        y = self.head(torch.cat(merged, 1))
        return F.interpolate(y, scale_factor=2.0, mode="bilinear")


# ---- AlexNet / VGG
class AlexNetMini(nn.Module):
    def __init__(self, w: int = 16, lrn: bool = True, image: int = 96, classes: int = 10) -> None:
        super().__init__()
        norm: Callable[[], nn.Module] = (
            (lambda: nn.LocalResponseNorm(5, 1e-4, 0.75, 1.0)) if lrn else nn.Identity
        )
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 11, 4, 2),
            nn.ReLU(),
            norm(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(w, 2 * w, 5, padding=2),
            nn.ReLU(),
            norm(),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(2 * w, 3 * w, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(3 * w, 2 * w, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2),
        )
        with torch.no_grad():
            flat = self.features(torch.zeros(1, 3, image, image)).numel()
        self.classifier = nn.Sequential(
            nn.Dropout(),
            nn.Linear(flat, 8 * w),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(8 * w, 8 * w),
            nn.ReLU(),
            nn.Linear(8 * w, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class VGGMini(nn.Module):
    def __init__(self, cfg: list[int | str], bn: bool = False, classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                assert isinstance(v, int)
                layers += [nn.Conv2d(c, v, 3, padding=1)] + ([nn.BatchNorm2d(v)] if bn else []) + [nn.ReLU()]
                c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(c * 4, 2 * c),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(2 * c, 2 * c),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(2 * c, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 2)
        return self.classifier(torch.flatten(x, 1))


# ---- SqueezeNet
class Fire(nn.Module):
    def __init__(self, cin: int, sq: int, e1: int, e3: int) -> None:
        super().__init__()
        self.squeeze = nn.Conv2d(cin, sq, 1)
        self.e1 = nn.Conv2d(sq, e1, 1)
        self.e3 = nn.Conv2d(sq, e3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.squeeze(x))
        return torch.cat((F.relu(self.e1(x)), F.relu(self.e3(x))), 1)


class SqueezeNetMini(nn.Module):
    def __init__(self, version: str = "1_1", w: int = 4, classes: int = 10) -> None:
        super().__init__()
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 24, 7, 2),
                nn.ReLU(),
                nn.MaxPool2d(3, 2, ceil_mode=True),
                Fire(24, w, 4 * w, 4 * w),
                Fire(8 * w, w, 4 * w, 4 * w),
                Fire(8 * w, 2 * w, 8 * w, 8 * w),
                nn.MaxPool2d(3, 2, ceil_mode=True),
                Fire(16 * w, 2 * w, 8 * w, 8 * w),
                Fire(16 * w, 3 * w, 12 * w, 12 * w),
            )
        else:
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, 3, 2),
                nn.ReLU(),
                nn.MaxPool2d(3, 2, ceil_mode=True),
                Fire(16, w, 4 * w, 4 * w),
                Fire(8 * w, w, 4 * w, 4 * w),
                nn.MaxPool2d(3, 2, ceil_mode=True),
                Fire(8 * w, 2 * w, 8 * w, 8 * w),
                Fire(16 * w, 2 * w, 8 * w, 8 * w),
                nn.MaxPool2d(3, 2, ceil_mode=True),
                Fire(16 * w, 3 * w, 12 * w, 12 * w),
            )
        cout = 24 * w
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Conv2d(cout, classes, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.classifier(self.features(x)), 1)


# ---- ShuffleNet v2
def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    b, c, h, w = x.shape
    x = x.view(b, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(b, c, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        bf = cout // 2
        if stride > 1:
            self.branch1 = nn.Sequential(cbr(cin, cin, 3, stride, act=None, groups=cin), cbr(cin, bf, 1))
        else:
            self.branch1 = nn.Sequential()
        c2 = cin if stride > 1 else bf
        self.branch2 = nn.Sequential(
            cbr(c2, bf, 1), cbr(bf, bf, 3, stride, act=None, groups=bf), cbr(bf, bf, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), 1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), 1)
        return channel_shuffle(out, 2)


class ShuffleNetV2Mini(nn.Module):
    def __init__(self, widths: list[int], repeats: list[int], classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(cbr(3, widths[0], 3, 2), nn.MaxPool2d(3, 2, 1))
        stages: list[nn.Module] = []
        c = widths[0]
        for w, r in zip(widths[1:-1], repeats, strict=True):
            stages.append(ShuffleUnit(c, w, 2))
            stages += [ShuffleUnit(w, w, 1) for _ in range(r - 1)]
            c = w
        self.stages = nn.Sequential(*stages)
        self.conv5 = cbr(c, widths[-1], 1)
        self.fc = nn.Linear(widths[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv5(self.stages(self.stem(x)))
        return self.fc(x.mean([2, 3]))


# ---- DenseNet
class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int, bn_size: int = 4) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(F.relu(self.norm1(x)))
        y = self.conv2(F.relu(self.norm2(y)))
        return torch.cat((x, y), 1)


class DenseNetMini(nn.Module):
    def __init__(
        self, growth: int = 8, blocks: tuple[int, ...] = (2, 2, 2), init: int = 16, classes: int = 10
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(3, init, 3, 1, 1, bias=False),
            nn.BatchNorm2d(init),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        ]
        c = init
        for i, n in enumerate(blocks):
            for _ in range(n):
                layers.append(DenseLayer(c, growth))
                c += growth
            if i != len(blocks) - 1:
                layers += [
                    nn.BatchNorm2d(c),
                    nn.ReLU(),
                    nn.Conv2d(c, c // 2, 1, bias=False),
                    nn.AvgPool2d(2, 2),
                ]
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.features(x), 1)
        return self.classifier(torch.flatten(x, 1))


# ---- Inception
class InceptionBlock(nn.Module):
    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pp: int, v2: bool) -> None:
        super().__init__()
        bn = v2
        self.b1 = cbr(cin, c1, 1, bn=bn)
        self.b2 = nn.Sequential(cbr(cin, c3r, 1, bn=bn), cbr(c3r, c3, 3, bn=bn))
        if v2:  # 5x5 factorised into two 3x3 (Inception v2 / BN-Inception)
            self.b3 = nn.Sequential(cbr(cin, c5r, 1, bn=bn), cbr(c5r, c5, 3, bn=bn), cbr(c5, c5, 3, bn=bn))
            self.b4 = nn.Sequential(nn.AvgPool2d(3, 1, 1), cbr(cin, pp, 1, bn=bn))
        else:
            self.b3 = nn.Sequential(cbr(cin, c5r, 1, bn=bn), cbr(c5r, c5, 5, bn=bn))
            self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), cbr(cin, pp, 1, bn=bn))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat((self.b1(x), self.b2(x), self.b3(x), self.b4(x)), 1)


class InceptionMini(nn.Module):
    def __init__(self, w: int = 4, v2: bool = False, blocks: int = 3, classes: int = 10) -> None:
        super().__init__()
        bn = v2
        self.stem = nn.Sequential(
            cbr(3, 4 * w, 7, 2, bn=bn),
            nn.MaxPool2d(3, 2, 1),
            cbr(4 * w, 4 * w, 1, bn=bn),
            cbr(4 * w, 8 * w, 3, bn=bn),
            nn.MaxPool2d(3, 2, 1),
        )
        mods: list[nn.Module] = []
        c = 8 * w
        for i in range(blocks):
            mods.append(InceptionBlock(c, 2 * w, 2 * w, 4 * w, w, w, w, v2))
            c = 2 * w + 4 * w + w + w
            if i == 1:
                mods.append(nn.MaxPool2d(3, 2, 1))
        self.blocks = nn.Sequential(*mods)
        self.fc = nn.Sequential(nn.Dropout(0.4), nn.Linear(c, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1)
        return self.fc(torch.flatten(x, 1))


# ---- CRNN (ResNet-like CNN -> BiLSTM -> linear)
class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: tuple[int, int] | int = 1) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.down: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.b1(self.c1(x)))
        return F.relu(self.b2(self.c2(y)) + self.down(x))


class CRNN(nn.Module):
    def __init__(self, w: int = 8, hidden: int = 32, classes: int = 37, layers: int = 1) -> None:
        super().__init__()
        self.cnn = nn.Sequential(
            cbr(1, w),
            BasicBlock(w, w),
            BasicBlock(w, 2 * w, 2),
            BasicBlock(2 * w, 2 * w),
            BasicBlock(2 * w, 4 * w, (2, 1)),
            BasicBlock(4 * w, 4 * w),
            BasicBlock(4 * w, 4 * w, (2, 1)),
        )
        self.rnn = nn.LSTM(4 * w, hidden, num_layers=layers, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(2 * hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.cnn(x)  # b, c, h, w
        f = f.mean(2).permute(0, 2, 1)  # b, w, c
        y, _ = self.rnn(f)
        return self.fc(y).log_softmax(-1)


# ---- LSTM / GRU
class RNNClassifier(nn.Module):
    def __init__(
        self,
        kind: str,
        vocab: int,
        emb: int,
        hidden: int,
        layers: int = 1,
        bidir: bool = False,
        classes: int = 5,
    ) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        rnn = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = rnn(emb, hidden, num_layers=layers, bidirectional=bidir, batch_first=True)
        self.fc = nn.Linear(hidden * (2 if bidir else 1), classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        y, _ = self.rnn(self.emb(tokens))
        return self.fc(y[:, -1])


class RNNTagger(nn.Module):
    """Float feature sequence -> per-step outputs (no embedding)."""

    def __init__(self, kind: str, feat: int, hidden: int, layers: int = 2) -> None:
        super().__init__()
        rnn = nn.LSTM if kind == "lstm" else nn.GRU
        self.rnn = rnn(feat, hidden, num_layers=layers)
        self.fc = nn.Linear(hidden, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # seq, batch, feat
        y, _ = self.rnn(x)
        return self.fc(y)


class UnrolledLSTM(nn.Module):
    """Explicit gate math, a fixed number of time steps (no fused LSTM op)."""

    def __init__(self, feat: int, hidden: int, steps: int, fused_gates: bool = True) -> None:
        super().__init__()
        self.h, self.steps, self.fused = hidden, steps, fused_gates
        if fused_gates:
            self.wx = nn.Linear(feat, 4 * hidden)
            self.wh = nn.Linear(hidden, 4 * hidden, bias=False)
        else:
            self.gx = nn.ModuleList(nn.Linear(feat, hidden) for _ in range(4))
            self.gh = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(4))
        self.out = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # batch, steps, feat
        b = x.shape[0]
        h = torch.zeros(b, self.h)
        c = torch.zeros(b, self.h)
        for t in range(self.steps):
            xt = x[:, t]
            if self.fused:
                i, f, g, o = (self.wx(xt) + self.wh(h)).chunk(4, 1)
            else:
                i, f, g, o = (gx(xt) + gh(h) for gx, gh in zip(self.gx, self.gh, strict=True))
            i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
            c = f * c + i * torch.tanh(g)
            h = o * torch.tanh(c)
        return self.out(h)


class UnrolledGRU(nn.Module):
    def __init__(self, feat: int, hidden: int, steps: int, fused_gates: bool = True) -> None:
        super().__init__()
        self.h, self.steps, self.fused = hidden, steps, fused_gates
        if fused_gates:
            self.wx = nn.Linear(feat, 3 * hidden)
            self.wh = nn.Linear(hidden, 3 * hidden)
        else:
            self.gx = nn.ModuleList(nn.Linear(feat, hidden) for _ in range(3))
            self.gh = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(3))
        self.out = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        h = torch.zeros(b, self.h)
        for t in range(self.steps):
            xt = x[:, t]
            if self.fused:
                xr, xz, xn = self.wx(xt).chunk(3, 1)
                hr, hz, hn = self.wh(h).chunk(3, 1)
            else:
                xr, xz, xn = (g(xt) for g in self.gx)
                hr, hz, hn = (g(h) for g in self.gh)
            r = torch.sigmoid(xr + hr)
            z = torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            h = (1 - z) * n + z * h
        return self.out(h)


class CellLoop(nn.Module):
    """nn.LSTMCell / nn.GRUCell called in a Python loop (the exporter unrolls it)."""

    def __init__(self, kind: str, feat: int, hidden: int, steps: int) -> None:
        super().__init__()
        self.kind, self.hidden, self.steps = kind, hidden, steps
        self.cell = nn.LSTMCell(feat, hidden) if kind == "lstm" else nn.GRUCell(feat, hidden)
        self.out = nn.Linear(hidden, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        h = torch.zeros(b, self.hidden)
        c = torch.zeros(b, self.hidden)
        for t in range(self.steps):
            if self.kind == "lstm":
                h, c = self.cell(x[:, t], (h, c))
            else:
                h = self.cell(x[:, t], h)
        return self.out(h)


# ---- models of no library family
class MLP(nn.Module):
    def __init__(
        self, dims: list[int], act: type[nn.Module] = nn.ReLU, out_act: nn.Module | None = None
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                layers.append(act())
        if out_act is not None:
            layers.append(out_act)
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class AutoEncoder(nn.Module):
    def __init__(self, d: int = 64, z: int = 8) -> None:
        super().__init__()
        self.enc = MLP([d, 32, 16, z], nn.ELU)
        self.dec = MLP([z, 16, 32, d], nn.ELU, nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dec(self.enc(x))


class WideDeep(nn.Module):
    def __init__(self, cats: tuple[int, ...] = (20, 30, 40), emb: int = 8, dense: int = 6) -> None:
        super().__init__()
        self.embs = nn.ModuleList(nn.Embedding(n, emb) for n in cats)
        self.wide = nn.Linear(sum(cats) + dense, 1)
        self.deep = MLP([len(cats) * emb + dense, 32, 16, 1])
        self.offsets = [sum(cats[:i]) for i in range(len(cats))]
        self.total = sum(cats)

    def forward(self, cat: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        onehot = sum(F.one_hot(cat[:, i] + o, self.total).float() for i, o in enumerate(self.offsets))
        wide = self.wide(torch.cat((onehot, dense), 1))
        deep = self.deep(torch.cat([e(cat[:, i]) for i, e in enumerate(self.embs)] + [dense], 1))
        return torch.sigmoid(wide + deep)


class MatrixFactorisation(nn.Module):
    def __init__(self, users: int = 50, items: int = 80, d: int = 16) -> None:
        super().__init__()
        self.u = nn.Embedding(users, d)
        self.i = nn.Embedding(items, d)
        self.ub = nn.Embedding(users, 1)
        self.ib = nn.Embedding(items, 1)

    def forward(self, user: torch.Tensor, item: torch.Tensor) -> torch.Tensor:
        dot = (self.u(user) * self.i(item)).sum(-1)
        return torch.sigmoid(dot + self.ub(user).squeeze(-1) + self.ib(item).squeeze(-1))


class LogReg(nn.Module):
    def __init__(self, d: int = 20, classes: int = 1) -> None:
        super().__init__()
        self.lin = nn.Linear(d, classes)
        self.classes = classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.lin(x)
        return torch.sigmoid(y) if self.classes == 1 else torch.softmax(y, -1)


class TCN(nn.Module):
    """1-D dilated causal convolutions, no residual connections."""

    def __init__(self, cin: int = 4, c: int = 16, levels: int = 4, k: int = 3, classes: int = 3) -> None:
        super().__init__()
        self.k = k
        convs = []
        for i in range(levels):
            convs.append(nn.Conv1d(cin if i == 0 else c, c, k, dilation=2**i))
        self.convs = nn.ModuleList(convs)
        self.fc = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # batch, channels, time
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(F.pad(x, ((self.k - 1) * 2**i, 0))))
        return self.fc(x[:, :, -1])


class GCN(nn.Module):
    """Graph convolution: H' = act(A_hat @ H @ W) with the (normalised) adjacency as an input."""

    def __init__(self, feat: int = 8, hidden: int = 16, layers: int = 2, classes: int = 3) -> None:
        super().__init__()
        dims = [feat] + [hidden] * layers
        self.ws = nn.ModuleList(nn.Linear(dims[i], dims[i + 1], bias=False) for i in range(layers))
        self.fc = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        deg = adj.sum(-1, keepdim=True).clamp(min=1.0)
        a = adj / deg
        for w in self.ws:
            x = F.relu(torch.matmul(a, w(x)))
        return self.fc(x.mean(0, keepdim=True))


class DeepCross(nn.Module):
    """Deep & Cross network: x_{l+1} = x0 * (x_l . w) + b + x_l, beside an MLP."""

    def __init__(self, d: int = 16, cross: int = 3) -> None:
        super().__init__()
        self.w = nn.ParameterList(nn.Parameter(torch.randn(d, 1) * 0.1) for _ in range(cross))
        self.b = nn.ParameterList(nn.Parameter(torch.zeros(d)) for _ in range(cross))
        self.deep = MLP([d, 32, 16])
        self.out = nn.Linear(d + 16, 1)

    def forward(self, x0: torch.Tensor) -> torch.Tensor:
        x = x0
        for w, b in zip(self.w, self.b, strict=True):
            x = x0 * torch.matmul(x, w) + b + x
        return torch.sigmoid(self.out(torch.cat((x, F.relu(self.deep(x0))), 1)))


class FourierMLP(nn.Module):
    """Positional (sin/cos) encoding of coordinates, then an MLP (NeRF-style field)."""

    def __init__(self, coords: int = 3, freqs: int = 6, hidden: int = 32) -> None:
        super().__init__()
        self.register_buffer("scales", 2.0 ** torch.arange(freqs, dtype=torch.float32))
        self.mlp = MLP([coords * 2 * freqs + coords, hidden, hidden, 4], nn.Softplus)

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        z = (p.unsqueeze(-1) * self.scales).flatten(1)
        return self.mlp(torch.cat((p, torch.sin(z), torch.cos(z)), 1))


def simple(
    factory: Callable[[], nn.Module], *inputs: Callable[[], torch.Tensor], bn: bool = False
) -> Callable[[], Built]:
    def make() -> Built:
        m = factory()
        m = randomise_bn(m) if bn else m.eval()
        return m, tuple(f() for f in inputs)

    return make


def randn(*shape: int) -> Callable[[], torch.Tensor]:
    return lambda: torch.randn(*shape)


def randint(hi: int, *shape: int) -> Callable[[], torch.Tensor]:
    return lambda: torch.randint(0, hi, shape, dtype=torch.long)


def ssm_make(model_cls: Any, cfg: Any) -> Callable[[], Built]:
    class LM(nn.Module):
        def __init__(self, m: nn.Module) -> None:
            super().__init__()
            self.m = m

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return self.m(input_ids=input_ids, use_cache=False, return_dict=False)[0]

    def make() -> Built:
        return LM(model_cls(cfg).eval()), (ids(cfg.vocab_size, 6),)

    return make


# --------------------------------------------------------------------------- the catalogue
def catalogue() -> list[Spec]:
    S: list[Spec] = []
    add = S.append
    full = [TS13, TS17, DY18]

    # ---- bert (incl. DistilBERT)
    add(
        Spec(
            "bert",
            "bert",
            "h32",
            tf_text(T.BertModel, bert_cfg(32, 2)),
            TEXT_IN,
            full,
            ["qdyn", "qdq"],
            dynamic=TEXT_DYN,
        )
    )
    add(
        Spec(
            "bert",
            "bert",
            "h64",
            tf_text(T.BertForSequenceClassification, bert_cfg(64, 4, num_labels=3)),
            TEXT_IN,
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "bert",
            "bert",
            "h48-l3",
            tf_text(T.BertModel, bert_cfg(48, 4, layers=3, hidden_act="gelu_new")),
            TEXT_IN,
            [TS13],
            seed=2,
        )
    )
    add(
        Spec(
            "bert",
            "distilbert",
            "h32",
            tf_text(T.DistilBertModel, distilbert_cfg(32, 2)),
            TEXT_IN,
            [TS17, DY18],
            ["qdyn"],
            dynamic=TEXT_DYN,
        )
    )
    add(
        Spec(
            "bert",
            "distilbert",
            "h48",
            tf_text(T.DistilBertForSequenceClassification, distilbert_cfg(48, 4)),
            TEXT_IN,
            [TS17],
            ["qdq"],
            seed=1,
        )
    )
    # ---- roberta
    add(
        Spec(
            "roberta",
            "roberta",
            "h32",
            tf_text(T.RobertaModel, roberta_cfg(32, 2)),
            TEXT_IN,
            full,
            ["qdyn", "qdq"],
            dynamic=TEXT_DYN,
        )
    )
    add(
        Spec(
            "roberta",
            "roberta",
            "h48",
            tf_text(T.RobertaForSequenceClassification, roberta_cfg(48, 4, num_labels=2)),
            TEXT_IN,
            [TS17],
            ["qdyn"],
            seed=1,
        )
    )
    # ---- bart
    add(
        Spec(
            "bart",
            "bart",
            "h32",
            tf_s2s(T.BartModel, bart_cfg(32, 2)),
            S2S_IN,
            full,
            ["qdyn"],
            dynamic=S2S_DYN,
        )
    )
    add(
        Spec(
            "bart",
            "bart",
            "h24",
            tf_s2s(T.BartForConditionalGeneration, bart_cfg(24, 4)),
            S2S_IN,
            [TS17],
            seed=1,
        )
    )
    # ---- t5
    add(Spec("t5", "t5", "h32", tf_s2s(T.T5Model, t5_cfg(32, 2)), S2S_IN, full, ["qdyn"], dynamic=S2S_DYN))
    add(
        Spec(
            "t5",
            "t5-v1_1",
            "h24",
            tf_s2s(T.T5ForConditionalGeneration, t5_cfg(24, 4, "gated-gelu")),
            S2S_IN,
            [TS17],
            seed=1,
        )
    )
    # ---- gpt2
    add(
        Spec(
            "gpt2",
            "gpt2",
            "h32",
            tf_text(T.GPT2LMHeadModel, gpt2_cfg(32, 2), CausalLM),
            TEXT_IN,
            full,
            ["qdyn", "qdq"],
            dynamic=TEXT_DYN,
        )
    )
    add(
        Spec(
            "gpt2",
            "gpt2",
            "h48",
            tf_text(T.GPT2LMHeadModel, gpt2_cfg(48, 4), CausalLM),
            TEXT_IN,
            [TS17],
            ["qdyn"],
            seed=1,
        )
    )
    # ---- llama (incl. Mistral / Qwen2 style)
    add(
        Spec(
            "llama",
            "llama",
            "h32",
            tf_text(T.LlamaForCausalLM, llama_like_cfg(T.LlamaConfig, 32, 4, 2), CausalLM),
            TEXT_IN,
            full,
            ["qdyn", "qdq"],
            dynamic=TEXT_DYN,
        )
    )
    add(
        Spec(
            "llama",
            "llama",
            "h48",
            tf_text(T.LlamaForCausalLM, llama_like_cfg(T.LlamaConfig, 48, 4, 4), CausalLM),
            TEXT_IN,
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "llama",
            "mistral",
            "h32",
            tf_text(
                T.MistralForCausalLM, llama_like_cfg(T.MistralConfig, 32, 4, 2, sliding_window=8), CausalLM
            ),
            TEXT_IN,
            [TS17, DY18],
            seed=2,
        )
    )
    add(
        Spec(
            "llama",
            "qwen2",
            "h32",
            tf_text(T.Qwen2ForCausalLM, llama_like_cfg(T.Qwen2Config, 32, 4, 2), CausalLM),
            TEXT_IN,
            [TS17],
            ["qdyn"],
            seed=3,
        )
    )
    # ---- modernbert
    add(
        Spec(
            "modernbert",
            "modernbert",
            "h32",
            tf_text(T.ModernBertModel, modernbert_cfg(32, 2)),
            TEXT_IN,
            [TS13, TS17, DY18],
            ["qdyn"],
            dynamic=TEXT_DYN,
        )
    )
    add(
        Spec(
            "modernbert",
            "modernbert",
            "h48",
            tf_text(T.ModernBertForSequenceClassification, modernbert_cfg(48, 4)),
            TEXT_IN,
            [TS17],
            ["qdq"],
            seed=1,
        )
    )
    # ---- vit
    add(
        Spec(
            "vit",
            "vit",
            "h32-p8",
            tf_image(T.ViTModel, vit_cfg(32, 2, 32, 8), 32),
            ["pixel_values"],
            full,
            ["qdyn", "qdq"],
            dynamic=IMG_DYN,
        )
    )
    add(
        Spec(
            "vit",
            "vit",
            "h48-p8",
            tf_image(T.ViTForImageClassification, vit_cfg(48, 4, 48, 8), 48),
            ["pixel_values"],
            [TS17],
            seed=1,
        )
    )
    # ---- whisper
    add(
        Spec(
            "whisper",
            "whisper",
            "h32",
            whisper_make(whisper_cfg(32, 2)),
            ["input_features", "decoder_input_ids"],
            [TS13, TS17, DY18],
            ["qdyn"],
        )
    )
    add(
        Spec(
            "whisper",
            "whisper",
            "h24",
            whisper_make(whisper_cfg(24, 4, mels=20)),
            ["input_features", "decoder_input_ids"],
            [TS17],
            seed=1,
        )
    )
    # ---- wav2vec2
    add(
        Spec(
            "wav2vec2",
            "wav2vec2",
            "h32",
            audio_make(T.Wav2Vec2Model, wav2vec2_cfg(32, 2)),
            ["input_values"],
            [TS17, DY18],
            ["qdyn"],
        )
    )
    add(
        Spec(
            "wav2vec2",
            "wav2vec2-stable-ln",
            "h48",
            audio_make(T.Wav2Vec2ForCTC, wav2vec2_cfg(48, 4, stable=True)),
            ["input_values"],
            [TS13, TS17],
            seed=1,
        )
    )

    # ---- CNNs from transformers configs
    pix = ["pixel_values"]
    add(
        Spec(
            "resnet",
            "resnet-basic",
            "h16",
            tf_image(T.ResNetModel, resnet_cfg("basic", 16, [16, 32], [1, 1]), 32),
            pix,
            [TS13, TS17, BN17, DY18],
            ["qdyn", "qdq"],
            dynamic=IMG_DYN,
        )
    )
    add(
        Spec(
            "resnet",
            "resnet-basic",
            "h32",
            tf_image(T.ResNetForImageClassification, resnet_cfg("basic", 16, [16, 24, 48], [2, 2, 1]), 64),
            pix,
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "resnet",
            "resnet-bottleneck",
            "h32",
            tf_image(T.ResNetModel, resnet_cfg("bottleneck", 16, [32, 64], [1, 2]), 32),
            pix,
            [TS17, BN17, DY18],
            ["qdq"],
        )
    )
    add(
        Spec(
            "resnet",
            "resnet-bottleneck",
            "h64",
            tf_image(
                T.ResNetForImageClassification, resnet_cfg("bottleneck", 16, [32, 64, 64], [1, 1, 1]), 64
            ),
            pix,
            [TS13],
            seed=1,
        )
    )
    add(
        Spec(
            "mobilenet_v1",
            "mobilenet_v1",
            "d0.125",
            tf_image(T.MobileNetV1Model, mnv1_cfg(0.125, 32), 32),
            pix,
            [TS17, DY18],
            ["qdq"],
            dynamic=IMG_DYN,
        )
    )
    add(
        Spec(
            "mobilenet_v1",
            "mobilenet_v1",
            "d0.1",
            tf_image(T.MobileNetV1ForImageClassification, mnv1_cfg(0.1, 48, False), 48),
            pix,
            [TS13, TS17],
            ["qdyn"],
            seed=1,
        )
    )
    add(
        Spec(
            "mobilenet_v2",
            "mobilenet_v2",
            "d0.125",
            tf_image(T.MobileNetV2Model, mnv2_cfg(0.125, 32, False), 32),
            pix,
            [TS13, TS17, BN17, DY18],
            ["qdyn"],
            dynamic=IMG_DYN,
        )
    )
    add(
        Spec(
            "mobilenet_v2",
            "mobilenet_v2",
            "d0.1",
            tf_image(T.MobileNetV2ForImageClassification, mnv2_cfg(0.1, 48), 48),
            pix,
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "convnext",
            "convnext",
            "h16",
            tf_image(T.ConvNextModel, convnext_cfg([16, 32], [1, 1], 32), 32),
            pix,
            [TS13, TS17, DY18],
            ["qdyn", "qdq"],
            dynamic=IMG_DYN,
        )
    )
    add(
        Spec(
            "convnext",
            "convnext",
            "h32",
            tf_image(T.ConvNextForImageClassification, convnext_cfg([16, 32, 48], [2, 2, 1], 64), 64),
            pix,
            [TS17],
            seed=1,
        )
    )
    eff_in, eff_out = [32, 8, 8, 8, 8, 16, 16], [8, 8, 8, 8, 16, 16, 16]
    add(
        Spec(
            "efficientnet",
            "efficientnet",
            "c32",
            tf_image(T.EfficientNetModel, effnet_cfg(32, eff_in, eff_out, 0.5), 32),
            pix,
            [TS17, DY18],
            ["qdyn"],
        )
    )
    add(
        Spec(
            "efficientnet",
            "efficientnet",
            "c48",
            tf_image(
                T.EfficientNetForImageClassification,
                effnet_cfg(48, [32, 8, 8, 8, 16, 16, 16], [8, 8, 8, 16, 16, 16, 16], 0.6),
                48,
            ),
            pix,
            [TS13],
            seed=1,
        )
    )

    # ---- small torch.nn re-implementations
    add(
        Spec(
            "mobilenet_v3",
            "mobilenet_v3-small",
            "w16",
            simple(lambda: MobileNetV3(MobileNetV3.SMALL, 64), randn(1, 3, 32, 32), bn=True),
            ["input"],
            [TS13, TS17, BN17, DY18],
            ["qdq"],
        )
    )
    add(
        Spec(
            "mobilenet_v3",
            "mobilenet_v3-large",
            "w16",
            simple(lambda: MobileNetV3(MobileNetV3.LARGE, 64), randn(1, 3, 48, 48), bn=True),
            ["input"],
            [TS17],
            ["qdyn"],
            seed=1,
        )
    )
    add(
        Spec(
            "yolo",
            "yolo-c2f",
            "w3",
            simple(lambda: Yolo(3, "c2f"), randn(1, 3, 64, 64), bn=True),
            ["images"],
            [TS17, BN17, DY18],
            ["qdq"],
        )
    )
    add(
        Spec(
            "yolo",
            "yolo-c2f",
            "w4",
            simple(lambda: Yolo(4, "c2f", classes=2), randn(1, 3, 64, 64), bn=True),
            ["images"],
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "yolo",
            "yolo-c3",
            "w3",
            simple(lambda: Yolo(3, "c3", anchor_free=False), randn(1, 3, 64, 64), bn=True),
            ["images"],
            [TS13, TS17, DY18],
            ["qdyn"],
            seed=2,
        )
    )
    add(
        Spec(
            "unet",
            "unet-convtranspose",
            "b4",
            simple(lambda: UNet(4, 3, "convt"), randn(1, 3, 32, 32), bn=True),
            ["image"],
            [TS17, DY18],
            ["qdq"],
        )
    )
    add(
        Spec(
            "unet",
            "unet-upsample",
            "b4",
            simple(lambda: UNet(4, 3, "bilinear", cin=1), randn(1, 1, 32, 32), bn=True),
            ["image"],
            [TS17, DY18],
            seed=1,
        )
    )
    add(
        Spec(
            "unet",
            "unet-convtranspose",
            "b4-d2",
            simple(lambda: UNet(4, 2, "convt", classes=1), randn(1, 3, 64, 64), bn=True),
            ["image"],
            [TS13, TS17],
            seed=2,
        )
    )
    add(
        Spec(
            "unet",
            "fpn",
            "b8",
            simple(lambda: FPNSeg(8), randn(1, 3, 64, 64), bn=True),
            ["image"],
            [TS17, DY18],
            seed=3,
        )
    )
    add(
        Spec(
            "alexnet_vgg",
            "alexnet-lrn",
            "w12",
            simple(lambda: AlexNetMini(12, True, 96), randn(1, 3, 96, 96)),
            ["data"],
            [TS17, DY18],
            ["qdyn"],
        )
    )
    add(
        Spec(
            "alexnet_vgg",
            "alexnet",
            "w8",
            simple(lambda: AlexNetMini(8, False, 64), randn(1, 3, 64, 64)),
            ["input"],
            [TS13, TS17],
            seed=1,
        )
    )
    vgg_a: list[int | str] = [8, "M", 16, "M", 24, 24, "M", 24, 24, "M"]
    vgg_d: list[int | str] = [8, 8, "M", 16, 16, "M", 24, 24, 24, "M", 24, 24, 24, "M"]
    add(
        Spec(
            "alexnet_vgg",
            "vgg11",
            "w8",
            simple(lambda: VGGMini(vgg_a), randn(1, 3, 32, 32)),
            ["input"],
            [TS17, DY18],
            ["qdq"],
            seed=2,
        )
    )
    add(
        Spec(
            "alexnet_vgg",
            "vgg16-bn",
            "w8",
            simple(lambda: VGGMini(vgg_d, bn=True), randn(1, 3, 32, 32), bn=True),
            ["input"],
            [TS17, BN17],
            seed=3,
        )
    )
    add(
        Spec(
            "squeezenet",
            "squeezenet1_1",
            "w4",
            simple(lambda: SqueezeNetMini("1_1", 4), randn(1, 3, 64, 64)),
            ["data"],
            [TS13, TS17, DY18],
            ["qdyn", "qdq"],
        )
    )
    add(
        Spec(
            "squeezenet",
            "squeezenet1_0",
            "w4",
            simple(lambda: SqueezeNetMini("1_0", 4), randn(1, 3, 64, 64)),
            ["data"],
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "squeezenet",
            "squeezenet1_1",
            "w8",
            simple(lambda: SqueezeNetMini("1_1", 8), randn(1, 3, 48, 48)),
            ["data"],
            [TS17],
            seed=2,
        )
    )
    add(
        Spec(
            "shufflenet",
            "shufflenet_v2",
            "w16",
            simple(lambda: ShuffleNetV2Mini([8, 16, 32, 64, 128], [2, 3, 2]), randn(1, 3, 64, 64), bn=True),
            ["input"],
            [TS13, TS17, BN17, DY18],
            ["qdq"],
        )
    )
    add(
        Spec(
            "shufflenet",
            "shufflenet_v2",
            "w24",
            simple(lambda: ShuffleNetV2Mini([12, 24, 48, 96, 192], [1, 2, 1]), randn(1, 3, 48, 48), bn=True),
            ["input"],
            [TS17],
            ["qdyn"],
            seed=1,
        )
    )
    add(
        Spec(
            "densenet",
            "densenet",
            "g8",
            simple(lambda: DenseNetMini(8, (2, 2, 2)), randn(1, 3, 32, 32), bn=True),
            ["input"],
            [TS13, TS17, BN17, DY18],
            ["qdq"],
        )
    )
    add(
        Spec(
            "densenet",
            "densenet",
            "g6-b3",
            simple(lambda: DenseNetMini(6, (3, 3), init=12), randn(1, 3, 48, 48), bn=True),
            ["input"],
            [TS17],
            ["qdyn"],
            seed=1,
        )
    )
    add(
        Spec(
            "inception",
            "inception-v1",
            "w4",
            simple(lambda: InceptionMini(4, False), randn(1, 3, 64, 64)),
            ["input"],
            [TS13, TS17, DY18],
            ["qdyn"],
        )
    )
    add(
        Spec(
            "inception",
            "inception-v2-bn",
            "w4",
            simple(lambda: InceptionMini(4, True), randn(1, 3, 64, 64), bn=True),
            ["input"],
            [TS17, BN17, DY18],
            ["qdq"],
            seed=1,
        )
    )
    add(
        Spec(
            "inception",
            "inception-v1",
            "w6-b2",
            simple(lambda: InceptionMini(6, False, blocks=2), randn(1, 3, 48, 48)),
            ["input"],
            [TS17],
            seed=2,
        )
    )
    # ---- OCR CRNN: ResNet-like CNN -> BiLSTM -> linear
    add(
        Spec(
            "resnet",
            "crnn",
            "w6-h24",
            simple(lambda: CRNN(6, 24), randn(1, 1, 32, 96), bn=True),
            ["image"],
            [TS13, TS17, DY18],
            ["qdyn"],
            components="resnet>lstm",
        )
    )
    add(
        Spec(
            "resnet",
            "crnn",
            "w4-h16-l2",
            simple(lambda: CRNN(4, 16, layers=2), randn(1, 1, 32, 64), bn=True),
            ["image"],
            [TS17],
            components="resnet>lstm",
            seed=1,
        )
    )

    # ---- LSTM / GRU: fused ops and unrolled cells
    for kind in ("lstm", "gru"):
        add(
            Spec(
                kind,
                f"{kind}-fused",
                "h32",
                simple(
                    lambda k=kind: RNNClassifier(k, 256, 16, 32),  # type: ignore
                    randint(256, 1, 12),
                ),
                ["tokens"],
                [TS13, TS17, DY18],
                ["qdyn"],
            )
        )
        add(
            Spec(
                kind,
                f"{kind}-fused-bidir",
                "h32-l2",
                simple(lambda k=kind: RNNClassifier(k, 256, 24, 32, 2, True), randint(256, 1, 10)),  # type: ignore
                ["tokens"],
                [TS17],
                seed=1,
            )
        )
        add(
            Spec(
                kind,
                f"{kind}-fused-tagger",
                "h24-l2",
                simple(
                    lambda k=kind: RNNTagger(k, 8, 24),  # type: ignore
                    randn(10, 1, 8),
                ),
                ["features"],
                [TS17],
                seed=2,
            )
        )
        cell: Any = UnrolledLSTM if kind == "lstm" else UnrolledGRU
        add(
            Spec(
                kind,
                f"{kind}-unrolled",
                "h32-t4",
                simple(lambda c=cell: c(8, 32, 4), randn(1, 4, 8)),
                ["features"],
                [TS13, TS17, DY18],
                ["qdyn"],
            )
        )
        add(
            Spec(
                kind,
                f"{kind}-unrolled-split",
                "h16-t6",
                simple(lambda c=cell: c(6, 16, 6, False), randn(1, 6, 6)),
                ["features"],
                [TS17],
                seed=1,
            )
        )
        add(
            Spec(
                kind,
                f"{kind}-cell-loop",
                "h24-t5",
                simple(
                    lambda k=kind: CellLoop(k, 8, 24, 5),  # type: ignore
                    randn(2, 5, 8),
                ),
                ["features"],
                [TS17, DY18],
                seed=2,
            )
        )

    # ---- models of no library family
    add(
        Spec(
            "none",
            "mlp",
            "d2",
            simple(lambda: MLP([20, 32, 3]), randn(4, 20)),
            ["x"],
            [TS13, TS17, DY18],
            ["qdyn"],
        )
    )
    add(
        Spec(
            "none",
            "mlp",
            "d4",
            simple(lambda: MLP([32, 64, 64, 32, 10], nn.Tanh), randn(2, 32)),
            ["x"],
            [TS17],
            ["qdq"],
            seed=1,
        )
    )
    add(
        Spec(
            "none",
            "mlp",
            "d6",
            simple(lambda: MLP([16, 48, 48, 48, 48, 48, 2], nn.LeakyReLU), randn(1, 16)),
            ["x"],
            [TS17],
            seed=2,
        )
    )
    add(
        Spec(
            "none",
            "mlp-autoencoder",
            "z8",
            simple(lambda: AutoEncoder(64, 8), randn(2, 64)),
            ["x"],
            [TS17, DY18],
        )
    )
    add(
        Spec(
            "none",
            "wide-deep",
            "e8",
            simple(
                WideDeep,
                lambda: torch.stack([torch.randint(0, n, (4,)) for n in (20, 30, 40)], 1),
                randn(4, 6),
            ),
            ["categorical", "dense"],
            [TS17, DY18],
        )
    )
    add(
        Spec(
            "none",
            "matrix-factorisation",
            "d16",
            simple(MatrixFactorisation, randint(50, 8), randint(80, 8)),
            ["user", "item"],
            [TS13, TS17],
        )
    )
    add(
        Spec(
            "none",
            "logistic-regression",
            "d20",
            simple(lambda: LogReg(20), randn(4, 20)),
            ["x"],
            [TS17, DY18],
        )
    )
    add(
        Spec(
            "none",
            "softmax-regression",
            "d30-c5",
            simple(lambda: LogReg(30, 5), randn(4, 30)),
            ["x"],
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "none",
            "tcn",
            "c16",
            simple(lambda: TCN(4, 16, 4), randn(1, 4, 64)),
            ["series"],
            [TS13, TS17, DY18],
            ["qdyn"],
        )
    )
    add(
        Spec(
            "none",
            "tcn",
            "c8-k5",
            simple(lambda: TCN(2, 8, 3, k=5), randn(1, 2, 48)),
            ["series"],
            [TS17],
            seed=1,
        )
    )
    add(
        Spec(
            "none",
            "gcn",
            "h16",
            simple(lambda: GCN(8, 16), randn(10, 8), lambda: (torch.rand(10, 10) > 0.6).float()),
            ["x", "adj"],
            [TS17, DY18],
        )
    )
    add(
        Spec(
            "none",
            "gcn",
            "h32-l3",
            simple(lambda: GCN(12, 32, 3, 4), randn(16, 12), lambda: (torch.rand(16, 16) > 0.7).float()),
            ["x", "adj"],
            [TS13],
            seed=1,
        )
    )
    add(Spec("none", "deep-cross", "d16", simple(DeepCross, randn(4, 16)), ["x"], [TS17]))
    add(Spec("none", "fourier-mlp", "f6", simple(FourierMLP, randn(8, 3)), ["coords"], [TS17, DY18]))
    mamba = T.MambaConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        state_size=8,
        num_hidden_layers=2,
        expand=2,
        conv_kernel=4,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        use_mambapy=False,
    )
    add(Spec("none", "mamba", "h32", ssm_make(T.MambaForCausalLM, mamba), ["input_ids"], [TS17, DY18]))
    rwkv = T.RwkvConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        attention_hidden_size=32,
        intermediate_size=64,
        context_length=32,
        bos_token_id=0,
        eos_token_id=0,
    )
    add(Spec("none", "rwkv", "h32", ssm_make(T.RwkvForCausalLM, rwkv), ["input_ids"], [TS17, DY18]))
    return S


# --------------------------------------------------------------------------- export + quantise
def clean(model: onnx.ModelProto) -> onnx.ModelProto:
    """Drop per-node debug metadata (stack traces, absolute source paths): size and determinism."""

    def strip(g: onnx.GraphProto) -> None:
        g.doc_string = ""
        for n in g.node:
            del n.metadata_props[:]
            n.doc_string = ""
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    strip(a.g)
                for sg in a.graphs:
                    strip(sg)

    strip(model.graph)
    for fn in model.functions:
        for n in fn.node:
            del n.metadata_props[:]
            n.doc_string = ""
    model.doc_string = ""
    return model


def default_opset(model: onnx.ModelProto) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    return 0


def save_checked(model: onnx.ModelProto, dest: Path) -> None:
    model = clean(model)
    onnx.checker.check_model(model)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".onnx.tmp")
    onnx.save_model(model, str(tmp))
    tmp.replace(dest)


@contextlib.contextmanager
def quiet() -> Any:
    """Silence Python and C++ output (exporters print whole graphs on some errors)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def set_attention(model: nn.Module, impl: str) -> None:
    """Switch every transformers sub-model to the given attention implementation (sdpa needs opset >= 14)."""
    for mod in model.modules():
        if isinstance(mod, T.PreTrainedModel) and hasattr(mod, "set_attn_implementation"):
            with contextlib.suppress(Exception):
                mod.set_attn_implementation(impl)
            return


def export(
    spec: Spec, model: nn.Module, inputs: Inputs, exporter: str, opset: int, variant: str, dest: Path
) -> None:
    with tempfile.TemporaryDirectory() as td:
        f = os.path.join(td, "m.onnx")
        with quiet(), torch.no_grad():
            if exporter == "torchscript" and opset < 14:
                set_attention(model, "eager")
            if exporter == "torchscript":
                kw: dict[str, Any] = {}
                if variant == "bn-unfused":
                    kw = {"do_constant_folding": False, "training": torch.onnx.TrainingMode.PRESERVE}
                dyn = spec.dynamic if (opset == 17 and variant == "float") else None
                torch.onnx.export(
                    model,
                    inputs,
                    f,
                    dynamo=False,
                    opset_version=opset,
                    input_names=spec.inputs,
                    output_names=spec.outputs or ["output"],
                    dynamic_axes=dyn,
                    **kw,
                )
            else:
                torch.onnx.export(
                    model,
                    inputs,
                    f,
                    dynamo=True,
                    opset_version=opset,
                    input_names=spec.inputs,
                    output_names=spec.outputs or ["output"],
                    external_data=False,
                    verbose=False,
                )
            if exporter == "torchscript" and opset < 14:
                set_attention(model, "sdpa")
        m = onnx.load(f)
    if variant == "bn-unfused" and not any(n.op_type == "BatchNormalization" for n in m.graph.node):
        raise RuntimeError("bn-unfused export has no BatchNormalization node")
    save_checked(m, dest)


class RandomReader:
    """Calibration data for quantize_static: a few seeded random batches shaped like the example inputs."""

    def __init__(self, model_path: Path, examples: dict[str, np.ndarray], seed: int, n: int = 4) -> None:
        rng = np.random.default_rng(seed)
        m = onnx.load(str(model_path), load_external_data=False)
        init = {i.name for i in m.graph.initializer}
        self.batches: list[dict[str, np.ndarray]] = []
        for _ in range(n):
            feed = {}
            for vi in m.graph.input:
                if vi.name in init:
                    continue
                ex = examples[vi.name]
                if ex.dtype.kind == "f":
                    feed[vi.name] = rng.standard_normal(ex.shape).astype(ex.dtype)
                else:
                    feed[vi.name] = ex
            self.batches.append(feed)
        self.it = iter(self.batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self.it, None)

    def rewind(self) -> None:
        self.it = iter(self.batches)


def quantise(src: Path, dest: Path, variant: str, examples: dict[str, np.ndarray], seed: int) -> None:
    from onnxruntime import quantization as q

    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "q.onnx"
        with quiet():
            ops = {n.op_type for n in onnx.load(str(src)).graph.node}
            if variant == "qdyn":
                # ORT's ConvInteger kernel takes uint8 weights only; MatMulInteger takes int8.
                wtype = q.QuantType.QUInt8 if "Conv" in ops else q.QuantType.QInt8
                q.quantize_dynamic(
                    str(src), str(out), weight_type=wtype, op_types_to_quantize=["MatMul", "Conv"]
                )
            else:
                q.quantize_static(
                    str(src),
                    str(out),
                    RandomReader(src, examples, seed),
                    quant_format=q.QuantFormat.QDQ,
                    activation_type=q.QuantType.QUInt8,
                    weight_type=q.QuantType.QInt8,
                    op_types_to_quantize=["MatMul", "Conv", "Gemm", "Add", "Mul", "ConvTranspose"],
                )
        m = onnx.load(str(out))
    qops = (
        {"MatMulInteger", "ConvInteger", "DynamicQuantizeLinear"} if variant == "qdyn" else {"QuantizeLinear"}
    )
    if not qops & {n.op_type for n in m.graph.node}:
        raise RuntimeError(f"quantiser left no {sorted(qops)} node")
    save_checked(m, dest)


# --------------------------------------------------------------------------- main
def light_dir() -> Path:
    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("tests/data/zoo"))
    ap.add_argument("--force", action="store_true", help="rebuild files that exist")
    ap.add_argument("--only", default=None, help="regex on the output path: build only the matching files")
    ap.add_argument("--check", action="store_true", help="after building, load/check/run every labelled file")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, (os.cpu_count() or 1)))
    out: Path = args.out
    only = re.compile(args.only) if args.only else None
    t0 = time.time()
    rows: list[dict[str, Any]] = []
    failures: list[tuple[str, str]] = []
    built = skipped = 0

    def label(path: str, spec: Spec, exporter: str, variant: str) -> None:
        m = onnx.load(str(out / path), load_external_data=False)
        rows.append(
            {
                "path": path,
                "family": spec.family,
                "architecture": spec.arch,
                "components": spec.comp,
                "exporter": exporter,
                "opset": default_opset(m),
                "variant": variant,
                "seed": spec.seed,
                "size": spec.size,
            }
        )

    for spec in catalogue():
        assert spec.family in FAMILIES, spec.family
        cache: dict[str, Any] = {}

        def get(spec: Spec = spec, cache: dict[str, Any] = cache) -> Built:
            if "m" not in cache:
                torch.manual_seed(spec.seed)
                np.random.seed(spec.seed)
                with contextlib.redirect_stdout(io.StringIO()):
                    model, inputs = spec.make()
                cache["m"] = (model.eval(), inputs)  # the wrapper too: PRESERVE/dynamo read its mode
            return cache["m"]  # type: ignore[no-any-return]

        jobs: list[tuple[str, str, int, str]] = [
            (spec.file_for(e, o, v), e, o, v) for e, o, v in spec.exports
        ]
        jobs += [(spec.quant_file(v), "ort-quant", 17, v) for v in spec.quant]
        for path, exporter, opset, variant in jobs:
            dest = out / path
            selected = only is None or bool(only.search(path))
            if selected and (args.force or not dest.exists()):
                t = time.time()
                try:
                    model, inputs = get()
                    if exporter == "ort-quant":
                        src = out / spec.file_for("torchscript", 17, "float")
                        if not src.exists():
                            raise RuntimeError(f"no float source {src.name}")
                        ex = {n: x.numpy() for n, x in zip(spec.inputs, inputs, strict=True)}
                        quantise(src, dest, variant, ex, spec.seed)
                    else:
                        export(spec, model, inputs, exporter, opset, variant, dest)
                    built += 1
                    print(
                        f"  built {path}  ({dest.stat().st_size / 1024:.0f} KB, {time.time() - t:.1f}s)",
                        flush=True,
                    )
                except Exception as e:  # log and go on: one bad export must not stop the build
                    reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
                    failures.append((path, reason[:300]))
                    print(f"  FAILED {path}: {reason[:300]}", flush=True)
                    if os.environ.get("ZOO_DEBUG"):
                        traceback.print_exc()
                    continue
            elif dest.exists():
                skipped += 1
            if dest.exists():
                label(path, spec, exporter, variant)

    for fname, (family, arch) in sorted(ONNX_LIGHT.items()):
        src = light_dir() / fname
        opset = default_opset(onnx.load(str(src), load_external_data=False)) if src.exists() else 0
        rows.append(
            {
                "path": f"onnx-light:{fname}",
                "family": family,
                "architecture": arch,
                "components": family,
                "exporter": "onnx-zoo",
                "opset": opset,
                "variant": "float",
                "seed": 0,
                "size": "zoo",
            }
        )

    if only is None:
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "labels.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=LABEL_COLUMNS, lineterminator="\n")
            w.writeheader()
            for r in sorted(rows, key=lambda r: (r["path"].startswith("onnx-light:"), r["path"])):
                w.writerow(r)
    else:
        print("(--only given: labels.csv not rewritten)")

    dt = time.time() - t0
    print(
        f"\nbuilt {built}, kept {skipped}, failed {len(failures)} in {dt:.0f}s; {len(rows)} labelled models"
    )
    print("per family:", dict(sorted(Counter(r["family"] for r in rows).items())))
    print("per exporter:", dict(sorted(Counter(r["exporter"] for r in rows).items())))
    print("per variant:", dict(sorted(Counter(r["variant"] for r in rows).items())))
    if failures:
        print("\nfailed exports (skipped):")
        for p, why in failures:
            print(f"  {p}: {why}")
    if args.check:
        return check(out, rows)
    return 0


def check(out: Path, rows: list[dict[str, Any]]) -> int:
    import onnxruntime as ort

    bad = 0
    ran = 0
    rng = np.random.default_rng(0)
    types = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}
    for r in rows:
        p = r["path"]
        f = light_dir() / p.split(":", 1)[1] if p.startswith("onnx-light:") else out / p
        try:
            m = onnx.load(str(f))
            onnx.checker.check_model(m)
            sess = ort.InferenceSession(str(f), providers=["CPUExecutionProvider"])
            feed = {}
            for i in sess.get_inputs():
                shape = [d if isinstance(d, int) else 1 for d in i.shape]
                vi = next(v for v in m.graph.input if v.name == i.name)
                dt = types[vi.type.tensor_type.elem_type]
                if np.issubdtype(dt, np.integer):
                    feed[i.name] = rng.integers(
                        0, 2 if "mask" in i.name or "adj" in i.name else 8, shape
                    ).astype(dt)
                else:
                    feed[i.name] = rng.standard_normal(shape).astype(dt)
            sess.run(None, feed)
            ran += 1
        except Exception as e:
            bad += 1
            print(f"  CHECK FAILED {p}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
    print(f"check: {len(rows)} files loaded/checked, {ran} ran in onnxruntime, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    # String hashing decides set/dict orders inside some exports (ModernBERT's two rotary tables): pin it,
    # so a rebuild is byte-identical.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    sys.exit(main())
