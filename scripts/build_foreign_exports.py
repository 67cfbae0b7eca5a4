#!/usr/bin/env python3
"""Build tiny TensorFlow/Keras (tf2onnx) and PaddlePaddle (paddle2onnx) exports under tests/data/foreign.

Usage (one venv per toolchain, neither is the project venv; both names are gitignored):

    python3 -m venv .venv-tf
    .venv-tf/bin/pip install tensorflow-cpu tf-keras tf2onnx onnx onnxruntime   # tf-keras pulls tensorflow
    .venv-tf/bin/python scripts/build_foreign_exports.py --exporter tf2onnx          # build what is missing

    python3 -m venv .venv-paddle
    .venv-paddle/bin/pip install paddlepaddle paddle2onnx onnx onnxruntime packaging
    .venv-paddle/bin/python scripts/build_foreign_exports.py --exporter paddle2onnx

    # options: --force (rebuild), --only REGEX (on the output path), --check (check_model + run in
    # onnxruntime), --labels-only (rewrite labels.csv from the files present; any venv with onnx)

Checked with tensorflow-cpu 2.21 + Keras 3.15 + tf-keras 2.21 + tf2onnx 1.17 and paddlepaddle 3.3.1 +
paddle2onnx 2.1 (CPU, Python 3.11). paddle2onnx imports ``packaging`` without declaring it.

The same architectures as the PyTorch corpus (tests/data/zoo), written with each framework's own layers
(keras.layers, paddle.nn) and random weights: nothing is downloaded. Keras applications are too big at
any width that keeps a file under 300 KB (their heads and last convolutions have fixed widths), so the
Keras models follow their block code (keras.applications.resnet / mobilenet_v2) at small width.

Deterministic: every model has a fixed seed (Python, NumPy and the framework), layer-name counters
are reset before each model (Keras ``clear_session``, tf2onnx's name counter, Paddle's
``unique_name.guard``), and doc strings and node metadata are stripped, so a rebuild writes the same
bytes. labels.csv is generated from the specs below for every file present, whichever exporter built
it (never edit it by hand); its columns are those of tests/data/zoo/labels.csv:

    path,family,architecture,components,exporter,opset,variant,seed,size
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import heapq
import itertools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

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
EXPORTERS = ("tf2onnx", "paddle2onnx")
OPSETS = (13, 17)
MAX_FILE_BYTES = 300 * 1024
VOCAB = 64  # token vocabulary of the text models (keeps embeddings small)
BERT_HIDDEN = 24  # width of the BERT-style encoders (4 heads of 6)
IMAGE = 32  # pixels per side of the image models


@dataclass(frozen=True)
class Spec:
    """One model: built by ``make`` (a function of the exporter's framework), exported at each opset."""

    family: str
    arch: str
    size: str
    exporter: str
    make: str  # name of the builder function in BUILDERS
    seed: int = 0
    opsets: tuple[int, ...] = OPSETS
    components: str | None = None  # default: the family (empty for none)

    @property
    def comp(self) -> str:
        if self.components is not None:
            return self.components
        return "" if self.family == "none" else self.family

    def file_for(self, opset: int) -> str:
        return f"{self.family}/{self.arch}-{self.size}-{self.exporter}-op{opset}.onnx"


def catalogue() -> list[Spec]:
    """Every model this script builds, for both exporters."""
    specs: list[Spec] = []
    for exporter, short in (("tf2onnx", "keras"), ("paddle2onnx", "paddle")):
        specs += [
            Spec("resnet", "resnet-basic", "w8", exporter, f"{short}_resnet_basic"),
            Spec("resnet", "resnet-bottleneck", "w8", exporter, f"{short}_resnet_bottleneck", seed=1),
            Spec("mobilenet_v2", "mobilenet_v2", "w8", exporter, f"{short}_mobilenet_v2"),
            Spec("mobilenet_v1", "mobilenet_v1", "w8", exporter, f"{short}_mobilenet_v1", seed=1),
            Spec("alexnet_vgg", "vgg", "w8", exporter, f"{short}_vgg"),
            Spec("lstm", "lstm", "h32", exporter, f"{short}_lstm"),
            Spec("lstm", "lstm-bidir", "h16-l2", exporter, f"{short}_lstm_bidir", seed=1),
            Spec("gru", "gru", "h32", exporter, f"{short}_gru"),
            Spec("bert", "bert-encoder", "h24", exporter, f"{short}_bert_encoder"),
            Spec("none", "mlp", "d2", exporter, f"{short}_mlp"),
        ]
    for exporter, short in (("tf2onnx", "keras"), ("paddle2onnx", "paddle")):
        specs += [
            Spec("squeezenet", "squeezenet", "w8", exporter, f"{short}_squeezenet", seed=3),
            Spec("densenet", "densenet", "g8", exporter, f"{short}_densenet", seed=3),
            Spec("inception", "inception", "w8", exporter, f"{short}_inception", seed=3),
            Spec("unet", "unet", "w8", exporter, f"{short}_unet", seed=3),
            Spec("mobilenet_v3", "mobilenet_v3", "w8", exporter, f"{short}_mobilenet_v3", seed=3),
            Spec("efficientnet", "efficientnet", "w8", exporter, f"{short}_efficientnet", seed=3),
        ]
    specs += [
        Spec("lstm", "lstm-keras2", "h32", "tf2onnx", "keras2_lstm", seed=2),
        Spec("gru", "gru-keras2", "h32", "tf2onnx", "keras2_gru", seed=2),
    ]
    return specs


def _trained_like(name: str, shape: tuple[int, ...], seed: int, scale: bool) -> np.ndarray:
    """Values for a 1-D weight (bias, norm scale/shift, running mean/variance) as training leaves them.
    Freshly initialised ones are 0 or 1, and the converters fold those away (a zero bias, a batch norm
    that is the identity, norm scales merged as equal constants), which trained models never show."""
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    if "variance" in name:
        return rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if scale:  # a norm layer's scale
        return (1.0 + rng.normal(0.0, 0.1, shape)).astype(np.float32)
    return rng.normal(0.0, 0.1, shape).astype(np.float32)


# =========================================================================== TensorFlow / Keras
def _keras() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def _keras_image_input(keras: Any) -> Any:
    return keras.Input((IMAGE, IMAGE, 3), batch_size=1, name="pixel_values")


def _keras_conv_bn(x: Any, filters: int, kernel: int, stride: int = 1, relu: bool = True) -> Any:
    layers = _keras().layers
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    return layers.ReLU()(x) if relu else x


def _keras_head(x: Any, classes: int = 10) -> Any:
    layers = _keras().layers
    x = layers.GlobalAveragePooling2D()(x)
    return layers.Dense(classes)(x)


RESNET_BASIC_WIDTHS = (8, 8, 16)  # two basic blocks per stage
RESNET_BOTTLENECK_WIDTHS = (8, 12)  # two bottleneck blocks per stage (4x wider outputs)


def _keras_stem(inp: Any) -> Any:
    """keras.applications.resnet's stem: 7x7/2 convolution, BN, ReLU, 3x3/2 max pool (explicit padding)."""
    layers = _keras().layers
    x = layers.ZeroPadding2D(3)(inp)
    x = layers.Conv2D(8, 7, strides=2)(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.ReLU()(x)
    x = layers.ZeroPadding2D(1)(x)
    return layers.MaxPooling2D(3, strides=2)(x)


def keras_resnet_basic() -> Any:
    """ResNet with basic blocks (3x3 → 3x3, identity or 1x1-projection shortcut), widths 8/8/16: the
    same network as ``paddle_resnet_basic``."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = _keras_stem(inp)
    for stage, width in enumerate(RESNET_BASIC_WIDTHS):
        for block in range(2):
            stride = 2 if stage and not block else 1
            if stride != 1 or x.shape[-1] != width:
                shortcut = _keras_conv_bn(x, width, 1, stride, relu=False)
            else:
                shortcut = x
            y = _keras_conv_bn(x, width, 3, stride)
            y = _keras_conv_bn(y, width, 3, relu=False)
            x = layers.ReLU()(layers.Add()([shortcut, y]))
    return keras.Model(inp, _keras_head(x))


def keras_resnet_bottleneck() -> Any:
    """ResNet with bottleneck blocks as keras.applications.resnet's ``block1`` (1x1 → 3x3 → 1x1 ·4)."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = _keras_stem(inp)
    for stage, width in enumerate(RESNET_BOTTLENECK_WIDTHS):
        for block in range(2):
            stride = 2 if stage and not block else 1
            shortcut = _keras_conv_bn(x, 4 * width, 1, stride, relu=False) if block == 0 else x
            y = _keras_conv_bn(x, width, 1, stride)
            y = _keras_conv_bn(y, width, 3)
            y = _keras_conv_bn(y, 4 * width, 1, relu=False)
            x = layers.ReLU()(layers.Add()([shortcut, y]))
    return keras.Model(inp, _keras_head(x))


# (expansion, channels, repeats, stride) of a cut-down MobileNetV2 (the paper's table, fewer rows)
MBV2_ROWS = ((1, 8, 1, 1), (6, 8, 2, 2), (6, 16, 2, 2), (6, 16, 1, 1))
MBV2_LAST = 32  # width of the last 1x1 convolution


def keras_mobilenet_v2() -> Any:
    """MobileNetV2 as keras.applications.mobilenet_v2 writes it (ZeroPadding before strided depthwise
    convolutions, ReLU(max_value=6)), with fewer and narrower inverted-residual blocks."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = layers.ZeroPadding2D(((0, 1), (0, 1)))(inp)
    x = layers.Conv2D(8, 3, strides=2, use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
    x = layers.ReLU(6.0)(x)
    for t, c, n, s in MBV2_ROWS:
        for i in range(n):
            stride = s if i == 0 else 1
            cin = x.shape[-1]
            y = x
            if t != 1:
                y = layers.Conv2D(cin * t, 1, use_bias=False)(y)
                y = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(y)
                y = layers.ReLU(6.0)(y)
            if stride == 2:
                y = layers.ZeroPadding2D(((0, 1), (0, 1)))(y)
            y = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid")(y)
            y = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(y)
            y = layers.ReLU(6.0)(y)
            y = layers.Conv2D(c, 1, use_bias=False)(y)
            y = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(y)
            x = layers.Add()([x, y]) if stride == 1 and cin == c else y
    x = layers.Conv2D(MBV2_LAST, 1, use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
    x = layers.ReLU(6.0)(x)
    return keras.Model(inp, _keras_head(x))


def keras_mobilenet_v1() -> Any:
    """MobileNet v1 as keras.applications.mobilenet writes it: depthwise 3x3 → BN → ReLU6 → pointwise
    1x1 → BN → ReLU6, repeated, at width 8…64."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    for filters, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1)):
        if stride == 2:
            x = layers.ZeroPadding2D(((0, 1), (0, 1)))(x)
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU(6.0)(x)
        x = layers.Conv2D(filters, 1, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU(6.0)(x)
    return keras.Model(inp, _keras_head(x))


# (width, convolutions) of each VGG stage; each stage ends in a 2x2 max pool (32 px → 4 px)
VGG_STAGES = ((8, 1), (8, 2), (16, 2))


def keras_vgg() -> Any:
    """VGG as keras.applications.vgg16 writes it (conv-conv-pool stages, Flatten, Dense-Dense-Dense)."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = inp
    for width, convs in VGG_STAGES:
        for _ in range(convs):
            x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2, strides=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return keras.Model(inp, layers.Dense(10)(x))


def _keras_sequence(rnn: Callable[[Any], Any], steps: int = 8, features: int = 16) -> Any:
    keras = _keras()
    inp = keras.Input((steps, features), batch_size=1, name="x")
    x = rnn(inp)
    return keras.Model(inp, keras.layers.Dense(8)(x))


def keras_lstm() -> Any:
    layers = _keras().layers
    return _keras_sequence(lambda x: layers.LSTM(32, return_sequences=True)(x))


def keras_lstm_bidir() -> Any:
    layers = _keras().layers

    def rnn(x: Any) -> Any:
        x = layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)
        return layers.Bidirectional(layers.LSTM(16, return_sequences=True))(x)

    return _keras_sequence(rnn)


def keras_gru() -> Any:
    layers = _keras().layers
    return _keras_sequence(lambda x: layers.GRU(32, return_sequences=True)(x))


def keras_bert_encoder() -> Any:
    """A BERT-style post-LN encoder: token + position embeddings → LayerNorm, then 2 blocks of
    keras.layers.MultiHeadAttention → Add → LayerNorm → Dense(gelu) → Dense → Add → LayerNorm."""
    keras = _keras()
    layers = keras.layers
    seq, hidden, heads = 16, BERT_HIDDEN, 4
    ids = keras.Input((seq,), batch_size=1, dtype="int32", name="input_ids")
    tok = layers.Embedding(VOCAB, hidden)(ids)
    pos = layers.Embedding(seq, hidden)(keras.ops.arange(seq))
    x = layers.LayerNormalization(epsilon=1e-12)(tok + pos)
    for _ in range(2):
        att = layers.MultiHeadAttention(heads, hidden // heads)(x, x)  # ends in its output projection
        x = layers.LayerNormalization(epsilon=1e-12)(x + att)
        # tanh GELU: the exact form lowers to Erfc in TF, which tf2onnx cannot convert
        ff = layers.Dense(2 * hidden, activation=lambda v: keras.activations.gelu(v, approximate=True))(x)
        x = layers.LayerNormalization(epsilon=1e-12)(x + layers.Dense(hidden)(ff))
    return keras.Model(ids, x)


def _tf_keras() -> Any:
    """Keras 2 (the tf-keras package): its LSTM/GRU layers trace to the TF graph tf2onnx's rewriters
    turn into fused ONNX LSTM/GRU ops; Keras 3's trace to a while loop (ONNX Loop)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tf_keras

    return tf_keras


def keras2_lstm() -> Any:
    keras = _tf_keras()
    inp = keras.Input((8, 16), batch_size=1, name="x")
    x = keras.layers.LSTM(32, return_sequences=True)(inp)
    return keras.Model(inp, keras.layers.Dense(8)(x))


def keras2_gru() -> Any:
    keras = _tf_keras()
    inp = keras.Input((8, 16), batch_size=1, name="x")
    x = keras.layers.GRU(32, return_sequences=True)(inp)
    return keras.Model(inp, keras.layers.Dense(8)(x))


# ---------------------------------------------------------------- concatenating and gated CNNs (Keras)
FIRE = ((4, 8), (4, 8), (8, 16))  # (squeeze, expand per branch) of each SqueezeNet fire module
DENSE_GROWTH, DENSE_LAYERS = 8, (2, 2)  # DenseNet growth rate and dense layers per block
INCEPTION = ((8, 4, 8, 4, 8, 8), (8, 8, 12, 4, 8, 8))  # 1x1 | 1x1→3x3 | 1x1→3x3→3x3 | pool→1x1 widths
UNET_WIDTHS = (8, 12, 16)  # per level, the last is the bottom
# (expand, out, kernel, stride, squeeze-excite, activation) of the MobileNetV3 blocks
MBV3 = ((16, 8, 3, 2, True, "relu"), (32, 16, 3, 2, False, "relu"), (48, 16, 5, 1, True, "hswish"))
# (expansion, out, kernel, stride) of the EfficientNet MBConv blocks (all with squeeze-excite)
MBCONV = ((1, 8, 3, 1), (4, 16, 3, 2), (4, 16, 5, 1))


def keras_squeezenet() -> Any:
    """SqueezeNet 1.1 as keras-style code writes it: fire modules (squeeze 1x1 → expand 1x1 ‖ 3x3 →
    Concatenate), a 1x1 classifier convolution and global average pooling."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = layers.Conv2D(8, 3, strides=2, activation="relu")(inp)
    x = layers.MaxPooling2D(3, strides=2)(x)
    for k, (squeeze, expand) in enumerate(FIRE):
        if k == 2:
            x = layers.MaxPooling2D(3, strides=2)(x)
        x = layers.Conv2D(squeeze, 1, activation="relu")(x)
        left = layers.Conv2D(expand, 1, activation="relu")(x)
        right = layers.Conv2D(expand, 3, padding="same", activation="relu")(x)
        x = layers.Concatenate()([left, right])
    x = layers.Conv2D(10, 1, activation="relu")(x)
    return keras.Model(inp, layers.GlobalAveragePooling2D()(x))


def keras_densenet() -> Any:
    """DenseNet as keras.applications.densenet writes it (BN → ReLU → 1x1 → BN → ReLU → 3x3, Concatenate
    onto the running features; transitions BN → ReLU → 1x1 → average pool), growth 8."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = _keras_conv_bn(inp, 2 * DENSE_GROWTH, 3)
    for block, n in enumerate(DENSE_LAYERS):
        if block:
            x = layers.BatchNormalization(epsilon=1.001e-5)(x)
            x = layers.ReLU()(x)
            x = layers.Conv2D(x.shape[-1] // 2, 1, use_bias=False)(x)
            x = layers.AveragePooling2D(2, strides=2)(x)
        for _ in range(n):
            y = layers.BatchNormalization(epsilon=1.001e-5)(x)
            y = layers.ReLU()(y)
            y = layers.Conv2D(4 * DENSE_GROWTH, 1, use_bias=False)(y)
            y = layers.BatchNormalization(epsilon=1.001e-5)(y)
            y = layers.ReLU()(y)
            y = layers.Conv2D(DENSE_GROWTH, 3, padding="same", use_bias=False)(y)
            x = layers.Concatenate()([x, y])
    x = layers.ReLU()(layers.BatchNormalization(epsilon=1.001e-5)(x))
    return keras.Model(inp, _keras_head(x))


def keras_inception() -> Any:
    """Inception modules as keras.applications.inception_v3 writes them (conv2d_bn branches: 1x1, 1x1 →
    3x3, 1x1 → 3x3 → 3x3, 3x3 average pool → 1x1; Concatenate on channels)."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = _keras_conv_bn(inp, 8, 3, 2)
    for b1, r3, b3, rd, bd, bp in INCEPTION:
        one = _keras_conv_bn(x, b1, 1)
        three = _keras_conv_bn(_keras_conv_bn(x, r3, 1), b3, 3)
        double = _keras_conv_bn(_keras_conv_bn(_keras_conv_bn(x, rd, 1), bd, 3), bd, 3)
        pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
        x = layers.Concatenate()([one, three, double, _keras_conv_bn(pool, bp, 1)])
    return keras.Model(inp, _keras_head(x))


def keras_unet() -> Any:
    """U-Net: two 3x3 conv + ReLU per level, max pool down; up by Conv2DTranspose (lower level) and
    UpSampling2D (upper level), Concatenate with the skip, two 3x3 conv + ReLU; 1x1 to 2 classes."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)

    def twice(x: Any, width: int) -> Any:
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        return layers.Conv2D(width, 3, padding="same", activation="relu")(x)

    skips = []
    x = inp
    for width in UNET_WIDTHS[:-1]:
        x = twice(x, width)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = twice(x, UNET_WIDTHS[-1])
    for level, (width, skip) in enumerate(zip(UNET_WIDTHS[-2::-1], skips[::-1], strict=True)):
        if level == 0:
            x = layers.Conv2DTranspose(width, 2, strides=2)(x)
        else:
            x = layers.Conv2D(width, 1)(layers.UpSampling2D(2)(x))
        x = twice(layers.Concatenate()([x, skip]), width)
    return keras.Model(inp, layers.Conv2D(2, 1)(x))


def _keras_hard_sigmoid(x: Any) -> Any:
    layers = _keras().layers
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)  # keras.applications.mobilenet_v3's hard_sigmoid


def keras_mobilenet_v3() -> Any:
    """MobileNetV3 blocks as keras.applications.mobilenet_v3 writes them: 1x1 expand → BN → act →
    depthwise → BN → act → squeeze-excite (pool → 1x1 → ReLU → 1x1 → hard sigmoid → Multiply) →
    1x1 project → BN (→ Add); act is ReLU or hard swish (x · hard_sigmoid(x))."""
    keras = _keras()
    layers = keras.layers

    def act(x: Any, kind: str) -> Any:
        return layers.ReLU()(x) if kind == "relu" else layers.Multiply()([x, _keras_hard_sigmoid(x)])

    inp = _keras_image_input(keras)
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp)
    x = act(layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x), "hswish")
    for expand, out, kernel, stride, se, kind in MBV3:
        y = layers.Conv2D(expand, 1, use_bias=False)(x)
        y = act(layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(y), kind)
        if stride == 2:
            y = layers.ZeroPadding2D(((kernel // 2 - 1, kernel // 2), (kernel // 2 - 1, kernel // 2)))(y)
        y = layers.DepthwiseConv2D(kernel, strides=stride, padding="same" if stride == 1 else "valid")(y)
        y = act(layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(y), kind)
        if se:
            g = layers.GlobalAveragePooling2D(keepdims=True)(y)
            g = layers.ReLU()(layers.Conv2D(expand // 4, 1)(g))
            g = _keras_hard_sigmoid(layers.Conv2D(expand, 1)(g))
            y = layers.Multiply()([y, g])
        y = layers.Conv2D(out, 1, use_bias=False)(y)
        y = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(y)
        x = layers.Add()([x, y]) if stride == 1 and x.shape[-1] == out else y
    return keras.Model(inp, _keras_head(x))


def keras_efficientnet() -> Any:
    """EfficientNet MBConv blocks as keras.applications.efficientnet writes them: 1x1 expand → BN →
    swish → depthwise → BN → swish → squeeze-excite (pool → Reshape → 1x1 swish → 1x1 sigmoid →
    multiply) → 1x1 project → BN (→ Add)."""
    keras = _keras()
    layers = keras.layers
    inp = _keras_image_input(keras)
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp)
    x = layers.Activation("swish")(layers.BatchNormalization()(x))
    for t, out, kernel, stride in MBCONV:
        cin = x.shape[-1]
        y = x
        if t != 1:
            y = layers.Conv2D(cin * t, 1, use_bias=False)(y)
            y = layers.Activation("swish")(layers.BatchNormalization()(y))
        y = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False)(y)
        y = layers.Activation("swish")(layers.BatchNormalization()(y))
        g = layers.Reshape((1, 1, cin * t))(layers.GlobalAveragePooling2D()(y))
        g = layers.Conv2D(max(1, cin // 4), 1, activation="swish")(g)
        g = layers.Conv2D(cin * t, 1, activation="sigmoid")(g)
        y = layers.multiply([y, g])
        y = layers.BatchNormalization()(layers.Conv2D(out, 1, use_bias=False)(y))
        x = layers.Add()([x, y]) if stride == 1 and cin == out else y
    return keras.Model(inp, _keras_head(x))


def keras_mlp() -> Any:
    keras = _keras()
    layers = keras.layers
    inp = keras.Input((32,), batch_size=1, name="x")
    x = layers.Dense(32, activation="relu")(inp)
    x = layers.Dense(32, activation="relu")(x)
    return keras.Model(inp, layers.Dense(4)(x))


def export_tf2onnx(spec: Spec, opset: int, dest: Path) -> None:
    keras = _tf_keras() if spec.make.startswith("keras2_") else _keras()
    import tensorflow as tf
    import tf2onnx

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    keras.backend.clear_session()  # layer-name counters start again for every model
    keras.utils.set_random_seed(spec.seed)
    model = BUILDERS[spec.make]()
    for v in model.weights:
        if len(v.shape) == 1:
            name = getattr(v, "path", v.name)
            v.assign(_trained_like(name, tuple(v.shape), spec.seed, "gamma" in name))
    signature = tuple(tf.TensorSpec(tuple(t.shape), t.dtype, name=t.name.split(":")[0]) for t in model.inputs)
    tf2onnx.utils.INTERNAL_NAME = 1  # tf2onnx's own name counter, global to the process
    _hash_tf2onnx_nodes_by_creation()
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset)
    _canonical_names(proto)
    _save(proto, dest)


def _identity_outputs_last(g: onnx.GraphProto) -> None:
    """When a subgraph returns both ``x`` and ``Identity(x)`` (a Loop body's carried state and its
    scan output), put ``x`` in the earlier slot: tf2onnx picks either order from run to run, and the
    two are the same value."""
    made_by_identity = {n.output[0]: n.input[0] for n in g.node if n.op_type == "Identity" and n.input}
    names = [v.name for v in g.output]
    for i, name in enumerate(names):
        src = made_by_identity.get(name)
        if src in names and names.index(src) > i:
            j = names.index(src)
            names[i], names[j] = names[j], names[i]
    for v, name in zip(g.output, names, strict=True):
        v.name = name


def _outer_reads(node: onnx.NodeProto) -> set[str]:
    """Values a node's subgraphs read from the enclosing scopes (not made or given inside them)."""
    free: set[str] = set()
    for a in node.attribute:
        for sub in [a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs:
            inside = {v.name for v in sub.input} | {i.name for i in sub.initializer}
            inside |= {o for n in sub.node for o in n.output}
            for n in sub.node:
                free |= {t for t in (*n.input, *_outer_reads(n)) if t and t not in inside}
            free |= {v.name for v in sub.output if v.name not in inside}
    return free


def _hash_tf2onnx_nodes_by_creation() -> None:
    """Hash tf2onnx's graph nodes by creation order instead of memory address. Its optimizers walk sets
    of nodes, so with address hashes the same model converts to different graphs from run to run (a
    squeeze-excite's 1×1 transpose is sometimes left as a Reshape, sometimes folded away); with this
    each run takes the same one of those paths."""
    from tf2onnx import graph

    if getattr(graph.Node, "_serials", None) is not None:
        return
    serials = itertools.count()
    init = graph.Node.__init__

    def counted_init(self: Any, *args: Any, **kwargs: Any) -> None:
        self._serial = next(serials)
        init(self, *args, **kwargs)

    graph.Node._serials = serials
    graph.Node.__init__ = counted_init
    graph.Node.__hash__ = lambda self: self._serial


def _canonical_order(g: onnx.GraphProto, outer: Callable[[str], str]) -> None:
    """Sort ``g``'s nodes into one topological order that does not depend on the order given: among
    the nodes ready to go, the one with the smallest structural key goes first. A node's key hashes
    its op, its attributes and the keys of what it reads (producer and output index, an initializer's
    contents, or ``outer``'s name for a graph input or outer-scope value), so it names the computation,
    not the node."""
    producers = {o: (k, j) for k, n in enumerate(g.node) for j, o in enumerate(n.output) if o}
    reads = [[*n.input, *sorted(_outer_reads(n))] for n in g.node]  # a Loop body's outer values too
    inits = {}
    for init in g.initializer:
        c = onnx.TensorProto()
        c.CopyFrom(init)
        c.name = ""
        inits[init.name] = hashlib.sha256(c.SerializeToString()).hexdigest()
    keys: dict[int, str] = {}

    def key(k: int) -> str:  # nodes come in some topological order: producers first
        if k not in keys:
            n = g.node[k]
            h = hashlib.sha256(f"{n.domain}::{n.op_type}".encode())
            for a in n.attribute:
                c = onnx.AttributeProto()
                c.CopyFrom(a)
                c.ClearField("g")
                del c.graphs[:]
                h.update(c.SerializeToString())
                for sub in [a.g] if a.type == onnx.AttributeProto.GRAPH else a.graphs:
                    h.update(" ".join(x.op_type for x in sub.node).encode())
            for t in reads[k]:
                if t in producers:
                    h.update(f"{key(producers[t][0])}:{producers[t][1]}".encode())
                else:
                    h.update(inits.get(t, outer(t)).encode())
            keys[k] = h.hexdigest()
        return keys[k]

    for k in range(len(g.node)):  # in the given (topological) order: no deep recursion
        key(k)
    waiting = {k: len({t for t in reads[k] if t in producers}) for k in range(len(g.node))}
    readers: dict[str, list[int]] = {}
    for k in range(len(g.node)):
        for t in set(reads[k]):
            readers.setdefault(t, []).append(k)
    ready = [(key(k), k) for k, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, k = heapq.heappop(ready)
        order.append(k)
        for t in {o for o in g.node[k].output if o}:
            for r in readers.get(t, []):
                waiting[r] -= 1
                if waiting[r] == 0:
                    heapq.heappush(ready, (key(r), r))
    if len(order) != len(g.node):
        raise RuntimeError("graph is not a DAG")
    nodes = [g.node[k] for k in order]
    nodes = [onnx.NodeProto.FromString(n.SerializeToString()) for n in nodes]
    del g.node[:]
    g.node.extend(nodes)


def _canonical_names(proto: onnx.ModelProto) -> None:
    """Rename every node ``<OpType>_<k>`` (its position; ``<parent>/<attr>/`` before names inside a
    subgraph), every tensor ``<node>:<output>``, every subgraph input ``<parent>/<attr>/input<j>`` and
    every initializer after its first consumer (``<node>/input<k>``), stored in that order. The model's
    own inputs and outputs keep their names. tf2onnx names what it makes from counters and sets whose
    order changes from run to run (``Unsqueeze__138`` or ``Unsqueeze__267``), and when it merges equal
    nodes or constants which copy keeps its name varies too; the ops, edges and weights do not."""
    top = proto.graph
    keep = {v.name for v in (*top.input, *top.output)}
    new: dict[str, str] = {}
    scoped: list[tuple[onnx.GraphProto, str]] = []

    def visit(g: onnx.GraphProto, prefix: str) -> None:
        scoped.append((g, prefix))
        if g is not top:
            for j, v in enumerate(g.input):
                new.setdefault(v.name, f"{prefix}input{j}")
        _canonical_order(g, lambda t: new.get(t, t))
        for k, node in enumerate(g.node):
            node.name = f"{prefix}{node.op_type}_{k}"
            if not node.domain:
                node.ClearField("domain")  # "" given or left out: one serialised form
            for j, out in enumerate(node.output):
                if out and out not in keep:
                    new.setdefault(out, f"{node.name}:{j}")
            for attr in node.attribute:
                subs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
                for sub in subs:
                    visit(sub, f"{node.name}/{attr.name}/")

    visit(top, "")
    for g, _ in scoped[1:]:
        _identity_outputs_last(g)
    inits = {i.name for g, _ in scoped for i in g.initializer}
    for g, _ in scoped:
        for node in g.node:
            for k, name in enumerate(node.input):
                if name in inits and name not in keep:
                    new.setdefault(name, f"{node.name}/input{k}")
    order = {name: k for k, name in enumerate(new.values())}
    for g, _ in scoped:
        for node in g.node:
            node.input[:] = [new.get(n, n) for n in node.input]
            node.output[:] = [new.get(n, n) for n in node.output]
        for v in (*g.input, *g.output, *g.value_info):
            v.name = new.get(v.name, v.name)
        for init in g.initializer:
            init.name = new.get(init.name, init.name)
        g.initializer.sort(key=lambda i: order.get(i.name, len(order)))


# =========================================================================== PaddlePaddle
def _paddle() -> Any:
    import paddle

    return paddle


def _paddle_layers() -> dict[str, Any]:
    """Layer classes built on paddle.nn (defined here so that the TF venv never imports paddle)."""
    paddle = _paddle()
    nn = paddle.nn
    F = nn.functional

    class ConvBN(nn.Layer):
        def __init__(
            self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: str | None = "relu"
        ) -> None:
            super().__init__()
            self.conv = nn.Conv2D(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias_attr=False)
            self.bn = nn.BatchNorm2D(cout)
            self.act = {"relu": nn.ReLU(), "relu6": nn.ReLU6(), None: None}[act]

        def forward(self, x: Any) -> Any:
            x = self.bn(self.conv(x))
            return self.act(x) if self.act is not None else x

    class BasicBlock(nn.Layer):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.c1 = ConvBN(cin, cout, 3, stride)
            self.c2 = ConvBN(cout, cout, 3, act=None)
            self.down = ConvBN(cin, cout, 1, stride, act=None) if stride != 1 or cin != cout else None

        def forward(self, x: Any) -> Any:
            short = self.down(x) if self.down is not None else x
            return F.relu(short + self.c2(self.c1(x)))

    class Bottleneck(nn.Layer):
        def __init__(self, cin: int, width: int, stride: int) -> None:
            super().__init__()
            self.c1 = ConvBN(cin, width, 1)
            self.c2 = ConvBN(width, width, 3, stride)
            self.c3 = ConvBN(width, 4 * width, 1, act=None)
            self.down = (
                ConvBN(cin, 4 * width, 1, stride, act=None) if stride != 1 or cin != 4 * width else None
            )

        def forward(self, x: Any) -> Any:
            short = self.down(x) if self.down is not None else x
            return F.relu(short + self.c3(self.c2(self.c1(x))))

    class ResNet(nn.Layer):
        """paddle.vision.models.resnet's layout (7x7 stem, max pool, stages, pool, fc) at small width."""

        def __init__(self, bottleneck: bool, widths: tuple[int, ...]) -> None:
            super().__init__()
            self.stem = ConvBN(3, 8, 7, 2)
            self.pool = nn.MaxPool2D(3, 2, 1)
            blocks = []
            cin = 8
            for stage, width in enumerate(widths):
                for b in range(2):
                    stride = 2 if stage and not b else 1
                    if bottleneck:
                        blocks.append(Bottleneck(cin, width, stride))
                        cin = 4 * width
                    else:
                        blocks.append(BasicBlock(cin, width, stride))
                        cin = width
            self.blocks = nn.Sequential(*blocks)
            self.avg = nn.AdaptiveAvgPool2D(1)
            self.fc = nn.Linear(cin, 10)

        def forward(self, x: Any) -> Any:
            x = self.avg(self.blocks(self.pool(self.stem(x))))
            return self.fc(paddle.flatten(x, 1))

    class InvertedResidual(nn.Layer):
        def __init__(self, cin: int, cout: int, stride: int, t: int) -> None:
            super().__init__()
            hidden = cin * t
            layers = [ConvBN(cin, hidden, 1, act="relu6")] if t != 1 else []
            layers += [ConvBN(hidden, hidden, 3, stride, groups=hidden, act="relu6")]
            layers += [ConvBN(hidden, cout, 1, act=None)]
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x: Any) -> Any:
            return x + self.conv(x) if self.residual else self.conv(x)

    class MobileNetV2(nn.Layer):
        """paddle.vision.models.mobilenetv2's layout with fewer, narrower blocks."""

        def __init__(self) -> None:
            super().__init__()
            layers = [ConvBN(3, 8, 3, 2, act="relu6")]
            cin = 8
            for t, c, n, s in MBV2_ROWS:
                for i in range(n):
                    layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                    cin = c
            layers.append(ConvBN(cin, MBV2_LAST, 1, act="relu6"))
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2D(1)
            self.fc = nn.Linear(MBV2_LAST, 10)

        def forward(self, x: Any) -> Any:
            return self.fc(paddle.flatten(self.pool(self.features(x)), 1))

    class MobileNetV1(nn.Layer):
        """paddle.vision.models.mobilenetv1's depthwise-separable stack at width 8…64."""

        def __init__(self) -> None:
            super().__init__()
            layers = [ConvBN(3, 8, 3, 2)]
            cin = 8
            for cout, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1)):
                layers += [ConvBN(cin, cin, 3, stride, groups=cin), ConvBN(cin, cout, 1)]
                cin = cout
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2D(1)
            self.fc = nn.Linear(64, 10)

        def forward(self, x: Any) -> Any:
            return self.fc(paddle.flatten(self.pool(self.features(x)), 1))

    class VGG(nn.Layer):
        """paddle.vision.models.vgg's layout: conv stages, adaptive pool, three Linear layers."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            cin = 3
            for width, convs in VGG_STAGES:
                for _ in range(convs):
                    layers += [nn.Conv2D(cin, width, 3, padding=1), nn.ReLU()]
                    cin = width
                layers.append(nn.MaxPool2D(2, 2))
            self.features = nn.Sequential(*layers)
            self.avg = nn.AdaptiveAvgPool2D(4)
            self.classifier = nn.Sequential(
                nn.Linear(cin * 16, 16),
                nn.ReLU(),
                nn.Dropout(),
                nn.Linear(16, 16),
                nn.ReLU(),
                nn.Dropout(),
                nn.Linear(16, 10),
            )

        def forward(self, x: Any) -> Any:
            return self.classifier(paddle.flatten(self.avg(self.features(x)), 1))

    class Recurrent(nn.Layer):
        def __init__(self, rnn: Any, width: int) -> None:
            super().__init__()
            self.rnn = rnn
            self.fc = nn.Linear(width, 8)

        def forward(self, x: Any) -> Any:
            y, _ = self.rnn(x)
            return self.fc(y)

    class Encoder(nn.Layer):
        """BERT-style: token + position embeddings → LayerNorm → nn.TransformerEncoder (post-LN)."""

        def __init__(self, hidden: int = BERT_HIDDEN, heads: int = 4, seq: int = 16) -> None:
            super().__init__()
            self.tok = nn.Embedding(VOCAB, hidden)
            self.pos = nn.Embedding(seq, hidden)
            self.norm = nn.LayerNorm(hidden, epsilon=1e-12)
            layer = nn.TransformerEncoderLayer(hidden, heads, 2 * hidden, dropout=0.1, activation="gelu")
            self.encoder = nn.TransformerEncoder(layer, 2)
            self.seq = seq

        def forward(self, input_ids: Any) -> Any:
            pos = paddle.arange(self.seq, dtype="int64").unsqueeze(0)
            return self.encoder(self.norm(self.tok(input_ids) + self.pos(pos)))

    class Fire(nn.Layer):
        def __init__(self, cin: int, squeeze: int, expand: int) -> None:
            super().__init__()
            self.squeeze = nn.Conv2D(cin, squeeze, 1)
            self.e1 = nn.Conv2D(squeeze, expand, 1)
            self.e3 = nn.Conv2D(squeeze, expand, 3, padding=1)

        def forward(self, x: Any) -> Any:
            x = F.relu(self.squeeze(x))
            return paddle.concat([F.relu(self.e1(x)), F.relu(self.e3(x))], axis=1)

    class SqueezeNet(nn.Layer):
        """paddle.vision.models.squeezenet's 1.1 layout with fewer, narrower fire modules."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = [nn.Conv2D(3, 8, 3, stride=2), nn.ReLU(), nn.MaxPool2D(3, 2)]
            cin = 8
            for k, (squeeze, expand) in enumerate(FIRE):
                if k == 2:
                    layers.append(nn.MaxPool2D(3, 2))
                layers.append(Fire(cin, squeeze, expand))
                cin = 2 * expand
            layers += [nn.Conv2D(cin, 10, 1), nn.ReLU(), nn.AdaptiveAvgPool2D(1)]
            self.features = nn.Sequential(*layers)

        def forward(self, x: Any) -> Any:
            return paddle.flatten(self.features(x), 1)

    class DenseLayer(nn.Layer):
        def __init__(self, cin: int) -> None:
            super().__init__()
            self.bn1 = nn.BatchNorm2D(cin)
            self.conv1 = nn.Conv2D(cin, 4 * DENSE_GROWTH, 1, bias_attr=False)
            self.bn2 = nn.BatchNorm2D(4 * DENSE_GROWTH)
            self.conv2 = nn.Conv2D(4 * DENSE_GROWTH, DENSE_GROWTH, 3, padding=1, bias_attr=False)

        def forward(self, x: Any) -> Any:
            y = self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))
            return paddle.concat([x, y], axis=1)

    class DenseNet(nn.Layer):
        """paddle.vision.models.densenet's layout (pre-activation dense layers, transitions) at growth 8."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = [ConvBN(3, 2 * DENSE_GROWTH, 3)]
            cin = 2 * DENSE_GROWTH
            for block, n in enumerate(DENSE_LAYERS):
                if block:
                    layers += [nn.BatchNorm2D(cin), nn.ReLU(), nn.Conv2D(cin, cin // 2, 1, bias_attr=False)]
                    layers.append(nn.AvgPool2D(2, 2))
                    cin //= 2
                for _ in range(n):
                    layers.append(DenseLayer(cin))
                    cin += DENSE_GROWTH
            layers += [nn.BatchNorm2D(cin), nn.ReLU(), nn.AdaptiveAvgPool2D(1)]
            self.features = nn.Sequential(*layers)
            self.fc = nn.Linear(cin, 10)

        def forward(self, x: Any) -> Any:
            return self.fc(paddle.flatten(self.features(x), 1))

    class InceptionModule(nn.Layer):
        def __init__(self, cin: int, b1: int, r3: int, b3: int, rd: int, bd: int, bp: int) -> None:
            super().__init__()
            self.one = ConvBN(cin, b1, 1)
            self.three = nn.Sequential(ConvBN(cin, r3, 1), ConvBN(r3, b3, 3))
            self.three_three = nn.Sequential(ConvBN(cin, rd, 1), ConvBN(rd, bd, 3), ConvBN(bd, bd, 3))
            self.pool = nn.Sequential(nn.AvgPool2D(3, 1, 1, exclusive=True), ConvBN(cin, bp, 1))

        def forward(self, x: Any) -> Any:
            return paddle.concat([self.one(x), self.three(x), self.three_three(x), self.pool(x)], axis=1)

    class Inception(nn.Layer):
        """paddle.vision.models.inceptionv3's module shape (four branches, channel concat), two modules."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = [ConvBN(3, 8, 3, 2)]
            cin = 8
            for widths in INCEPTION:
                layers.append(InceptionModule(cin, *widths))
                b1, _, b3, _, bd, bp = widths
                cin = b1 + b3 + bd + bp
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2D(1)
            self.fc = nn.Linear(cin, 10)

        def forward(self, x: Any) -> Any:
            return self.fc(paddle.flatten(self.pool(self.features(x)), 1))

    class UNet(nn.Layer):
        """U-Net: the Keras model's layout (Conv2DTranspose below, nearest Upsample + 1x1 above)."""

        def __init__(self) -> None:
            super().__init__()

            def twice(cin: int, width: int) -> Any:
                return nn.Sequential(
                    nn.Conv2D(cin, width, 3, padding=1),
                    nn.ReLU(),
                    nn.Conv2D(width, width, 3, padding=1),
                    nn.ReLU(),
                )

            *levels, bottom = UNET_WIDTHS
            self.down = nn.LayerList()
            cin = 3
            for width in levels:
                self.down.append(twice(cin, width))
                cin = width
            self.bottom = twice(cin, bottom)
            self.ups = nn.LayerList()
            self.decode = nn.LayerList()
            cin = bottom
            for level, width in enumerate(levels[::-1]):
                if level == 0:
                    self.ups.append(nn.Conv2DTranspose(cin, width, 2, stride=2))
                else:
                    # a scale_factor fails in paddle2onnx 2.1 ("the 0th elementwise MUST be
                    # ir::FloatAttribute"): give the output size
                    side = IMAGE // 2 ** (len(levels) - 1 - level)
                    self.ups.append(nn.Sequential(nn.Upsample(size=[side, side]), nn.Conv2D(cin, width, 1)))
                self.decode.append(twice(2 * width, width))
                cin = width
            self.out = nn.Conv2D(cin, 2, 1)

        def forward(self, x: Any) -> Any:
            skips = []
            for down in self.down:
                x = down(x)
                skips.append(x)
                x = F.max_pool2d(x, 2)
            x = self.bottom(x)
            for k in range(len(skips)):  # to_static rejects zip(strict=True)
                x = self.decode[k](paddle.concat([self.ups[k](x), skips[-1 - k]], axis=1))
            return self.out(x)

    class SqueezeExcite(nn.Layer):
        def __init__(self, ch: int, squeeze: int, inner: Any, gate: Any) -> None:
            super().__init__()
            self.pool = nn.AdaptiveAvgPool2D(1)
            self.fc1 = nn.Conv2D(ch, squeeze, 1)
            self.fc2 = nn.Conv2D(squeeze, ch, 1)
            self.inner = inner
            self.gate = gate

        def forward(self, x: Any) -> Any:
            return x * self.gate(self.fc2(self.inner(self.fc1(self.pool(x)))))

    class MobileNetV3(nn.Layer):
        """paddle.vision.models.mobilenetv3's blocks (Hardswish, squeeze-excite with Hardsigmoid)."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = [nn.Conv2D(3, 8, 3, 2, 1, bias_attr=False), nn.BatchNorm2D(8), nn.Hardswish()]
            cin = 8
            for expand, out, kernel, stride, se, kind in MBV3:
                act = nn.ReLU if kind == "relu" else nn.Hardswish
                body: list[Any] = [nn.Conv2D(cin, expand, 1, bias_attr=False), nn.BatchNorm2D(expand), act()]
                body += [
                    nn.Conv2D(expand, expand, kernel, stride, kernel // 2, groups=expand, bias_attr=False)
                ]
                body += [nn.BatchNorm2D(expand), act()]
                if se:
                    body.append(SqueezeExcite(expand, expand // 4, nn.ReLU(), nn.Hardsigmoid()))
                body += [nn.Conv2D(expand, out, 1, bias_attr=False), nn.BatchNorm2D(out)]
                layers.append(Residual(nn.Sequential(*body), stride == 1 and cin == out))
                cin = out
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2D(1)
            self.fc = nn.Linear(cin, 10)

        def forward(self, x: Any) -> Any:
            return self.fc(paddle.flatten(self.pool(self.features(x)), 1))

    class Residual(nn.Layer):
        def __init__(self, body: Any, add: bool) -> None:
            super().__init__()
            self.body = body
            self.add = add

        def forward(self, x: Any) -> Any:
            return x + self.body(x) if self.add else self.body(x)

    class EfficientNet(nn.Layer):
        """EfficientNet MBConv blocks (SiLU, squeeze-excite with Sigmoid) written with paddle.nn."""

        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = [nn.Conv2D(3, 8, 3, 2, 1, bias_attr=False), nn.BatchNorm2D(8), nn.Silu()]
            cin = 8
            for t, out, kernel, stride in MBCONV:
                hidden = cin * t
                body: list[Any] = []
                if t != 1:
                    body += [nn.Conv2D(cin, hidden, 1, bias_attr=False), nn.BatchNorm2D(hidden), nn.Silu()]
                body += [
                    nn.Conv2D(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias_attr=False)
                ]
                body += [nn.BatchNorm2D(hidden), nn.Silu()]
                body.append(SqueezeExcite(hidden, max(1, cin // 4), nn.Silu(), nn.Sigmoid()))
                body += [nn.Conv2D(hidden, out, 1, bias_attr=False), nn.BatchNorm2D(out)]
                layers.append(Residual(nn.Sequential(*body), stride == 1 and cin == out))
                cin = out
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2D(1)
            self.fc = nn.Linear(cin, 10)

        def forward(self, x: Any) -> Any:
            return self.fc(paddle.flatten(self.pool(self.features(x)), 1))

    class MLP(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)
            )

        def forward(self, x: Any) -> Any:
            return self.net(x)

    return {
        "ResNet": ResNet,
        "MobileNetV2": MobileNetV2,
        "MobileNetV1": MobileNetV1,
        "VGG": VGG,
        "Recurrent": Recurrent,
        "Encoder": Encoder,
        "MLP": MLP,
        "SqueezeNet": SqueezeNet,
        "DenseNet": DenseNet,
        "Inception": Inception,
        "UNet": UNet,
        "MobileNetV3": MobileNetV3,
        "EfficientNet": EfficientNet,
    }


def _image_spec() -> list[Any]:
    return [_paddle().static.InputSpec([1, 3, IMAGE, IMAGE], "float32", "pixel_values")]


def _sequence_spec(steps: int = 8, features: int = 16) -> list[Any]:
    return [_paddle().static.InputSpec([1, steps, features], "float32", "x")]


def paddle_resnet_basic() -> tuple[Any, list[Any]]:
    return _paddle_layers()["ResNet"](False, RESNET_BASIC_WIDTHS), _image_spec()


def paddle_resnet_bottleneck() -> tuple[Any, list[Any]]:
    return _paddle_layers()["ResNet"](True, RESNET_BOTTLENECK_WIDTHS), _image_spec()


def paddle_mobilenet_v2() -> tuple[Any, list[Any]]:
    return _paddle_layers()["MobileNetV2"](), _image_spec()


def paddle_mobilenet_v1() -> tuple[Any, list[Any]]:
    return _paddle_layers()["MobileNetV1"](), _image_spec()


def paddle_vgg() -> tuple[Any, list[Any]]:
    return _paddle_layers()["VGG"](), _image_spec()


def paddle_lstm() -> tuple[Any, list[Any]]:
    nn = _paddle().nn
    return _paddle_layers()["Recurrent"](nn.LSTM(16, 32), 32), _sequence_spec()


def paddle_lstm_bidir() -> tuple[Any, list[Any]]:
    nn = _paddle().nn
    rnn = nn.LSTM(16, 16, num_layers=2, direction="bidirect")
    return _paddle_layers()["Recurrent"](rnn, 32), _sequence_spec()


def paddle_gru() -> tuple[Any, list[Any]]:
    nn = _paddle().nn
    return _paddle_layers()["Recurrent"](nn.GRU(16, 32), 32), _sequence_spec()


def paddle_bert_encoder() -> tuple[Any, list[Any]]:
    spec = [_paddle().static.InputSpec([1, 16], "int64", "input_ids")]
    return _paddle_layers()["Encoder"](), spec


def paddle_squeezenet() -> tuple[Any, list[Any]]:
    return _paddle_layers()["SqueezeNet"](), _image_spec()


def paddle_densenet() -> tuple[Any, list[Any]]:
    return _paddle_layers()["DenseNet"](), _image_spec()


def paddle_inception() -> tuple[Any, list[Any]]:
    return _paddle_layers()["Inception"](), _image_spec()


def paddle_unet() -> tuple[Any, list[Any]]:
    return _paddle_layers()["UNet"](), _image_spec()


def paddle_mobilenet_v3() -> tuple[Any, list[Any]]:
    return _paddle_layers()["MobileNetV3"](), _image_spec()


def paddle_efficientnet() -> tuple[Any, list[Any]]:
    return _paddle_layers()["EfficientNet"](), _image_spec()


def paddle_mlp() -> tuple[Any, list[Any]]:
    return _paddle_layers()["MLP"](), [_paddle().static.InputSpec([1, 32], "float32", "x")]


def export_paddle2onnx(spec: Spec, opset: int, dest: Path) -> None:
    paddle = _paddle()
    import paddle2onnx

    paddle.seed(spec.seed)
    with paddle.utils.unique_name.guard():  # parameter names (conv2d_0.w_0, …) start again per model
        layer, input_spec = BUILDERS[spec.make]()
        layer.eval()
        norms = (paddle.nn.layer.norm._BatchNormBase, paddle.nn.LayerNorm)
        scales = {f"{p}.weight" for p, sub in layer.named_sublayers() if isinstance(sub, norms)}
        state = layer.state_dict()
        for name, t in state.items():
            if len(t.shape) == 1:
                values = _trained_like(name, tuple(t.shape), spec.seed, name in scales)
                state[name] = paddle.to_tensor(values, dtype=t.dtype)
        layer.set_state_dict(state)
        tmp = Path(tempfile.mkdtemp(prefix="p2o-"))
        try:
            static = paddle.jit.to_static(layer, input_spec=input_spec, full_graph=True)
            paddle.jit.save(static, str(tmp / "model"))
            program = tmp / "model.json"  # PIR programs; older Paddle writes model.pdmodel
            if not program.exists():
                program = tmp / "model.pdmodel"
            onnx_file = tmp / "model.onnx"
            paddle2onnx.export(str(program), str(tmp / "model.pdiparams"), str(onnx_file), opset)
            _save(onnx.load(str(onnx_file)), dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# =========================================================================== shared
BUILDERS: dict[str, Callable[[], Any]] = {
    name: fn
    for name, fn in globals().items()
    if name.startswith(("keras_", "keras2_", "paddle_")) and callable(fn)
}
EXPORT: dict[str, Callable[[Spec, int, Path], None]] = {
    "tf2onnx": export_tf2onnx,
    "paddle2onnx": export_paddle2onnx,
}


def _save(proto: onnx.ModelProto, dest: Path) -> None:
    """Strip doc strings and node metadata (paths, stack traces), check the model, write it."""
    proto.doc_string = ""
    for graph in _graphs(proto.graph):
        graph.doc_string = ""
        for node in graph.node:
            node.doc_string = ""
            del node.metadata_props[:]
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    if len(data) > MAX_FILE_BYTES:
        raise RuntimeError(f"{len(data) / 1024:.0f} KB is over the {MAX_FILE_BYTES // 1024} KB limit")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def _graphs(graph: onnx.GraphProto) -> list[onnx.GraphProto]:
    out = [graph]
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                out += _graphs(attr.g)
            for g in attr.graphs:
                out += _graphs(g)
    return out


def default_opset(m: onnx.ModelProto) -> int:
    return next((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), 0)


def write_labels(out: Path, specs: list[Spec]) -> list[dict[str, Any]]:
    """labels.csv for every spec file present (both exporters), sorted by path."""
    rows = []
    for spec in specs:
        for opset in spec.opsets:
            path = spec.file_for(opset)
            if not (out / path).exists():
                continue
            m = onnx.load(str(out / path), load_external_data=False)
            rows.append(
                {
                    "path": path,
                    "family": spec.family,
                    "architecture": spec.arch,
                    "components": spec.comp,
                    "exporter": spec.exporter,
                    "opset": default_opset(m),
                    "variant": "float",
                    "seed": spec.seed,
                    "size": spec.size,
                }
            )
    rows.sort(key=lambda r: r["path"])
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "labels.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=LABEL_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return rows


def check(out: Path, rows: list[dict[str, Any]]) -> int:
    """check_model every labelled file and run it in onnxruntime (when installed) on random inputs."""
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    rng = np.random.default_rng(0)
    types = {1: np.float32, 6: np.int32, 7: np.int64}
    bad = ran = 0
    for r in rows:
        f = out / r["path"]
        try:
            m = onnx.load(str(f))
            onnx.checker.check_model(m, full_check=True)
            if ort is not None:
                sess = ort.InferenceSession(str(f), providers=["CPUExecutionProvider"])
                feed = {}
                for i in sess.get_inputs():
                    shape = [d if isinstance(d, int) else 1 for d in i.shape]
                    vi = next(v for v in m.graph.input if v.name == i.name)
                    dt = types[vi.type.tensor_type.elem_type]
                    if np.issubdtype(dt, np.integer):
                        feed[i.name] = rng.integers(0, VOCAB, shape).astype(dt)
                    else:
                        feed[i.name] = rng.standard_normal(shape).astype(dt)
                sess.run(None, feed)
                ran += 1
        except Exception as e:
            bad += 1
            print(f"  CHECK FAILED {r['path']}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
    print(f"check: {len(rows)} files checked, {ran} ran in onnxruntime, {bad} problems")
    return 1 if bad else 0


def build_one(out: Path, specs: list[Spec], path: str) -> int:
    """Export the one file ``path`` names; print ``FAILED <reason>`` and return 1 when it fails."""
    spec, opset = next((s, o) for s in specs for o in s.opsets if s.file_for(o) == path)
    random.seed(spec.seed)
    np.random.seed(spec.seed)
    try:
        EXPORT[spec.exporter](spec, opset, out / path)
    except Exception as e:
        traceback.print_exc()
        reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        print(f"FAILED {reason}", flush=True)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--exporter", choices=EXPORTERS, help="the toolchain of this venv")
    ap.add_argument("--out", type=Path, default=Path("tests/data/foreign"))
    ap.add_argument("--force", action="store_true", help="rebuild files that exist")
    ap.add_argument("--only", default=None, help="regex on the output path: build only the matching files")
    ap.add_argument("--check", action="store_true", help="check_model and run every labelled file")
    ap.add_argument("--labels-only", action="store_true", help="only rewrite labels.csv")
    ap.add_argument("--job", default=None, help=argparse.SUPPRESS)  # build one file in this process
    args = ap.parse_args(argv)
    if not args.exporter and not args.labels_only:
        ap.error("give --exporter (or --labels-only)")
    out: Path = args.out
    only = re.compile(args.only) if args.only else None
    specs = catalogue()
    if args.job:
        return build_one(out, specs, args.job)
    t0 = time.time()
    built = kept = 0
    failures: list[tuple[str, str]] = []
    for spec in specs if not args.labels_only else []:
        if spec.exporter != args.exporter:
            continue
        for opset in spec.opsets:
            path = spec.file_for(opset)
            dest = out / path
            if only is not None and not only.search(path):
                continue
            if dest.exists() and not args.force:
                kept += 1
                continue
            t = time.time()
            # one process per file: TensorFlow numbers its functions process-wide (…_frozen_7554) and
            # those numbers end up in node names, so only a fresh process writes the same bytes again
            job = [sys.executable, __file__, "--exporter", spec.exporter, "--out", str(out), "--job", path]
            proc = subprocess.run(
                job, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
            )
            if proc.returncode != 0:  # log and go on: one bad export must not stop the build
                lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAILED ")]
                # paddle2onnx reports some failures only as an [ERROR] line on stdout
                errors = [
                    ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln or "Error" in ln
                ]
                reason = lines[-1][len("FAILED ") :] if lines else (errors or ["no reason given"])[-1]
                failures.append((path, reason[:300]))
                print(f"  FAILED {path}: {reason[:300]}", flush=True)
                if os.environ.get("FOREIGN_DEBUG"):
                    print(proc.stderr)
                continue
            built += 1
            kb = dest.stat().st_size / 1024
            print(f"  built {path}  ({kb:.0f} KB, {time.time() - t:.1f}s)", flush=True)
    rows = write_labels(out, specs)
    total = sum((out / r["path"]).stat().st_size for r in rows)
    print(
        f"\nbuilt {built}, kept {kept}, failed {len(failures)} in {time.time() - t0:.0f}s; "
        f"{len(rows)} labelled models, {total / 1024:.0f} KB"
    )
    print("per family:", dict(sorted(Counter(r["family"] for r in rows).items())))
    print("per exporter:", dict(sorted(Counter(r["exporter"] for r in rows).items())))
    if failures:
        print("\nfailed exports (skipped):")
        for p, why in failures:
            print(f"  {p}: {why}")
    return check(out, rows) if args.check else (1 if failures else 0)


if __name__ == "__main__":
    sys.exit(main())
