"""Sample graphs of convolutional families (and the plain stacks they must not be confused with)."""

from __future__ import annotations

from collections.abc import Callable

import onnx

from modelgenes.signatures.samples import SampleGraph, sample


def _img(g: SampleGraph, c: int = 8, hw: int = 16) -> str:
    return g.input([1, c, hw, hw])


def _basic_block(g: SampleGraph, x: str, c: int, bn: bool = False) -> str:
    y = g.conv(x, c, c, 3)
    y = g.op("Relu", g.bn(y, c) if bn else y)
    y = g.conv(y, c, c, 3)
    return g.op("Relu", g.op("Add", g.bn(y, c) if bn else y, x))


@sample("resnet_basic_blocks")
def resnet_basic_blocks() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.op(
        "MaxPool", g.op("Relu", g.conv(_img(g, 3), 3, 8, 7, stride=2)), kernel_shape=[3, 3], strides=[2, 2]
    )
    x = _basic_block(g, x, 8, bn=True)
    _basic_block(g, x, 8)
    return g.model()


@sample("resnet_basic_preact")
def resnet_basic_preact() -> onnx.ModelProto:
    # Pre-activation ResNet (v2): BN → Relu → Conv, no Relu after the Add. Not covered yet.
    g = SampleGraph()
    x = _img(g)
    y = g.conv(g.op("Relu", g.bn(x, 8)), 8, 8, 3)
    y = g.conv(g.op("Relu", g.bn(y, 8)), 8, 8, 3)
    g.op("Add", y, x)
    return g.model()


@sample("resnet_bottleneck_blocks")
def resnet_bottleneck_blocks() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 16)
    for _ in range(2):
        y = g.op("Relu", g.conv(x, 16, 4, 1))
        y = g.op("Relu", g.conv(y, 4, 4, 3))
        x = g.op("Relu", g.op("Add", g.conv(y, 4, 16, 1), x))
    return g.model()


@sample("plain_conv_stack")
def plain_conv_stack() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g)
    for _ in range(4):
        x = g.op("Relu", g.conv(x, 8, 8, 3))
    g.op("MaxPool", x, kernel_shape=[2, 2], strides=[2, 2])
    return g.model()


@sample("tcn_residual_1d")
def tcn_residual_1d() -> onnx.ModelProto:
    # A temporal conv net block: the same Conv-Relu-Conv-Add-Relu shape, but 1-d convolutions.
    g = SampleGraph()
    x = g.input([1, 8, 32])
    y = g.op("Relu", g.conv(x, 8, 8, 3, dims=1))
    y = g.conv(y, 8, 8, 3, dims=1)
    g.op("Relu", g.op("Add", y, x))
    return g.model()


@sample("vgg_small")
def vgg_small() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 3, 8)
    x = g.op("Relu", g.conv(x, 3, 8, 3))
    x = g.op("Relu", g.conv(x, 8, 8, 3))
    x = g.op("MaxPool", x, kernel_shape=[2, 2], strides=[2, 2])
    x = g.op("Flatten", x, axis=1)
    x = g.op("Relu", g.linear(x, 128, 32))
    x = g.op("Relu", g.linear(x, 32, 32))
    g.linear(x, 32, 10)
    return g.model()


@sample("vgg_small_nhwc_flatten")
def vgg_small_nhwc_flatten() -> onnx.ModelProto:
    # Keras (tf2onnx) flattens channels-last: MaxPool → Transpose(0, 2, 3, 1) → Reshape(1, -1).
    g = SampleGraph()
    x = _img(g, 3, 8)
    x = g.op("Relu", g.conv(x, 3, 8, 3))
    x = g.op("Relu", g.conv(x, 8, 8, 3))
    x = g.op("MaxPool", x, kernel_shape=[2, 2], strides=[2, 2])
    x = g.op("Reshape", g.op("Transpose", x, perm=[0, 2, 3, 1]), g.const([1, 128], "int64"))
    x = g.op("Relu", g.linear(x, 128, 32))
    x = g.op("Relu", g.linear(x, 32, 32))
    g.linear(x, 32, 10)
    return g.model()


@sample("mlp_three_layers")
def mlp_three_layers() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.input([1, 16])
    x = g.op("Relu", g.linear(x, 16, 32))
    x = g.op("Relu", g.linear(x, 32, 32))
    g.linear(x, 32, 4)
    return g.model()


def _concat(g: SampleGraph, *xs: str) -> str:
    return g.op("Concat", *xs, axis=1)


@sample("inception_module")
def inception_module() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 16)
    b1 = g.op("Relu", g.conv(x, 16, 8, 1))
    b2 = g.op("Relu", g.conv(g.op("Relu", g.conv(x, 16, 8, 1)), 8, 8, 3))
    b3 = g.op("Relu", g.conv(g.op("Relu", g.conv(x, 16, 4, 1)), 4, 4, 5))
    pool = g.op("MaxPool", x, kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    b4 = g.op("Relu", g.conv(pool, 16, 4, 1))
    _concat(g, b1, b2, b3, b4)
    return g.model()


def _dense_block(g: SampleGraph, norm: Callable[[str, int], str]) -> onnx.ModelProto:
    """Three DenseNet layers (norm → Relu → 1x1 Conv → norm → Relu → 3x3 Conv, concatenated to the
    input); ``norm(tensor, channels)`` writes the normalisation, where exporters differ."""
    x = _img(g, 8)
    c = 8
    for _ in range(3):
        y = g.op("Relu", norm(x, c))
        y = g.op("Relu", norm(g.conv(y, c, 16, 1, bias=False), 16))
        y = g.conv(y, 16, 4, 3, bias=False)
        x = _concat(g, x, y)
        c += 4
    return g.model()


@sample("densenet_block")
def densenet_block() -> onnx.ModelProto:
    g = SampleGraph()
    return _dense_block(g, g.bn)


@sample("densenet_block_caffe")
def densenet_block_caffe() -> onnx.ModelProto:
    # Caffe2-converted DenseNet (the onnx zoo's light_densenet121): each BatchNormalization is followed
    # by a separate Scale layer (Mul by an unsqueezed weight, Add of an unsqueezed bias) whose weights
    # are ConstantOfShape fills, so they may stay apart from the BatchNormalization.
    g = SampleGraph()

    def filled(ch: int) -> str:
        fill = onnx.helper.make_tensor("value", onnx.TensorProto.FLOAT, [1], [0.02])
        return g.op(
            "Unsqueeze", g.op("ConstantOfShape", g.const([ch], "int64"), value=fill), g.const([1, 2], "int64")
        )

    def bn_scale(t: str, ch: int) -> str:
        return g.op("Add", g.op("Mul", g.bn(t, ch), filled(ch)), filled(ch))

    return _dense_block(g, bn_scale)


@sample("squeezenet_fire")
def squeezenet_fire() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 16)
    for _ in range(2):
        s = g.op("Relu", g.conv(x, 16, 4, 1))
        x = _concat(g, g.op("Relu", g.conv(s, 4, 8, 1)), g.op("Relu", g.conv(s, 4, 8, 3)))
    return g.model()


@sample("shufflenet_unit")
def shufflenet_unit() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 16)
    a, b = g.op("Split", x, g.const([8, 8], "int64"), axis=1, outputs=2)
    y = g.op("Relu", g.conv(b, 8, 8, 1))
    y = g.op("Relu", g.conv(g.conv(y, 8, 8, 3, group=8), 8, 8, 1))
    y = _concat(g, a, y)
    y = g.op("Reshape", y, g.const([1, 2, 8, 16, 16], "int64"))
    y = g.op("Transpose", y, perm=[0, 2, 1, 3, 4])
    g.op("Reshape", y, g.const([1, 16, 16, 16], "int64"))
    return g.model()


@sample("shufflenet_v1_unit")
def shufflenet_v1_unit() -> onnx.ModelProto:
    # ShuffleNet v1 (Caffe2 export style): grouped 1x1 Conv → BN → Relu → shuffle → depthwise 3x3 →
    # BN → grouped 1x1 → BN, added to the unit input.
    g = SampleGraph()
    x = _img(g, 16)
    y = g.op("Relu", g.bn(g.conv(x, 16, 8, 1, group=2, bias=False), 8))
    y = g.op("Reshape", y, g.const([1, 2, 4, 16, 16], "int64"))
    y = g.op("Transpose", y, perm=[0, 2, 1, 3, 4])
    y = g.op("Reshape", y, g.const([1, 8, 16, 16], "int64"))
    y = g.bn(g.conv(y, 8, 8, 3, group=8, bias=False), 8)
    y = g.bn(g.conv(y, 8, 16, 1, group=2, bias=False), 16)
    g.op("Relu", g.op("Sum", y, x))
    return g.model()


@sample("channel_shuffle_nhwc")
def channel_shuffle_nhwc() -> onnx.ModelProto:
    # TensorFlow-style shuffle on a channels-last tensor: (N, H, W, g, C/g), swap the last two axes.
    g = SampleGraph()
    x = g.input([1, 16, 16, 8])
    y = g.op("Reshape", g.op("Relu", x), g.const([1, 16, 16, 2, 4], "int64"))
    y = g.op("Transpose", y, perm=[0, 1, 2, 4, 3])
    g.op("Relu", g.op("Reshape", y, g.const([1, 16, 16, 8], "int64")))
    return g.model()


@sample("video_frames_transpose")
def video_frames_transpose() -> onnx.ModelProto:
    # A video net folding frames into the batch: (N, C, T, H, W) → (N, T, C, H, W) → (N·T, C, H, W).
    # It swaps two adjacent axes of a 5-D tensor too, but reads from a Conv3d, not a split Reshape.
    g = SampleGraph()
    x = g.input([1, 8, 4, 16, 16])
    y = g.op("Transpose", g.op("Relu", x), perm=[0, 2, 1, 3, 4])
    y = g.op("Reshape", y, g.const([4, 8, 16, 16], "int64"))
    g.op("Relu", g.conv(y, 8, 8, 3))
    return g.model()


@sample("einsum_head_split")
def einsum_head_split() -> onnx.ModelProto:
    # tf2onnx's Einsum lowering of attention: (N, S, 24) → (N, S, 4, 6) → (N, S, 4, 1, 6), swap the
    # sequence and head axes, Reshape for the batched MatMul. A rank-5 swap of adjacent axes between
    # Reshapes, but the first Reshape does not split one axis into the two swapped ones.
    g = SampleGraph()
    x = g.input([1, 16, 24])
    q = g.op("MatMul", x, g.weight([24, 24]))
    y = g.op("Reshape", q, g.const([-1, 16, 4, 6], "int64"))
    y = g.op("Unsqueeze", y, g.const([3], "int64"))
    y = g.op("Transpose", y, perm=[0, 2, 1, 3, 4])
    y = g.op("Reshape", y, g.const([4, 16, 6], "int64"))
    g.op("Softmax", g.op("MatMul", y, g.op("Transpose", y, perm=[0, 2, 1])), axis=-1)
    return g.model()


def _dw_sep(g: SampleGraph, x: str, cin: int, cout: int) -> str:
    y = g.relu6(g.conv(x, cin, cin, 3, group=cin))
    return g.relu6(g.conv(y, cin, cout, 1))


@sample("mobilenet_v1_stack")
def mobilenet_v1_stack() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.relu6(g.conv(_img(g, 3), 3, 8, 3, stride=2))
    for cin, cout in ((8, 16), (16, 16), (16, 32), (32, 32)):
        x = _dw_sep(g, x, cin, cout)
    return g.model()


def _inverted_residual(g: SampleGraph, x: str, c: int, act: str = "relu6") -> str:
    def a(t: str) -> str:
        return g.relu6(t) if act == "relu6" else g.op("HardSwish", t) if act == "hswish" else g.op("Relu", t)

    y = a(g.conv(x, c, c * 4, 1))
    y = a(g.conv(y, c * 4, c * 4, 3, group=c * 4))
    return g.op("Add", g.conv(y, c * 4, c, 1), x)


@sample("mobilenet_v2_blocks")
def mobilenet_v2_blocks() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 8)
    for _ in range(2):
        x = _inverted_residual(g, x, 8)
    return g.model()


def _se(g: SampleGraph, x: str, c: int, gate: str, act: str) -> str:
    s = g.op("GlobalAveragePool", x)
    s = g.conv(s, c, c // 4, 1)
    s = g.op("Relu", s) if act == "relu" else g.silu(s)
    s = g.conv(s, c // 4, c, 1)
    s = g.op("HardSigmoid", s, alpha=1.0 / 6, beta=0.5) if gate == "hard" else g.op("Sigmoid", s)
    return g.op("Mul", x, s)


@sample("mobilenet_v3_blocks")
def mobilenet_v3_blocks() -> onnx.ModelProto:
    g = SampleGraph(opset=17)
    x = _img(g, 8)
    y = g.op("HardSwish", g.conv(x, 8, 32, 1))
    y = g.op("HardSwish", g.conv(y, 32, 32, 5, group=32))
    y = _se(g, y, 32, "hard", "relu")
    g.op("Add", g.conv(y, 32, 8, 1), x)
    return g.model()


@sample("efficientnet_mbconv")
def efficientnet_mbconv() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 8)
    y = g.silu(g.conv(x, 8, 32, 1))
    y = g.silu(g.conv(y, 32, 32, 3, group=32))
    y = _se(g, y, 32, "sigmoid", "silu")
    g.op("Add", g.conv(y, 32, 8, 1), x)
    return g.model()


@sample("convnext_block")
def convnext_block() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 16)
    y = g.conv(x, 16, 16, 7, group=16)
    y = g.op("Transpose", y, perm=[0, 2, 3, 1])
    y = g.layernorm(y, 16)
    y = g.linear(g.gelu(g.linear(y, 16, 64)), 64, 16)
    y = g.op("Mul", y, g.weight([16]))
    g.op("Add", x, g.op("Transpose", y, perm=[0, 3, 1, 2]))
    return g.model()


@sample("yolo_sppf")
def yolo_sppf() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.silu(g.conv(_img(g, 16), 16, 8, 1))
    pools = [x]
    for _ in range(3):
        pools.append(g.op("MaxPool", pools[-1], kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2]))
    g.silu(g.conv(_concat(g, *pools), 32, 16, 1))
    return g.model()


@sample("yolo_c2f")
def yolo_c2f() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.silu(g.conv(_img(g, 16), 16, 16, 1))
    a, b = g.op("Split", x, g.const([8, 8], "int64"), axis=1, outputs=2)
    y = g.silu(g.conv(g.silu(g.conv(b, 8, 8, 3)), 8, 8, 3))
    y = g.op("Add", y, b)
    g.silu(g.conv(_concat(g, a, b, y), 24, 16, 1))
    return g.model()


@sample("unet_decoder")
def unet_decoder() -> onnx.ModelProto:
    g = SampleGraph()
    x = _img(g, 4)
    skip = g.op("Relu", g.conv(g.op("Relu", g.conv(x, 4, 4, 3)), 4, 4, 3))
    down = g.op("MaxPool", skip, kernel_shape=[2, 2], strides=[2, 2])
    deep = g.op("Relu", g.conv(down, 4, 8, 3))
    w = g.weight([8, 4, 2, 2])
    up = g.op("ConvTranspose", deep, w, kernel_shape=[2, 2], strides=[2, 2])
    g.op("Relu", g.conv(_concat(g, up, skip), 8, 4, 3))
    return g.model()


@sample("fpn_top_down")
def fpn_top_down() -> onnx.ModelProto:
    g = SampleGraph()
    fine = g.input([1, 8, 16, 16])
    coarse = g.input([1, 16, 8, 8])
    top = g.conv(coarse, 16, 8, 1)
    up = g.op("Resize", top, "", g.const([1.0, 1.0, 2.0, 2.0]), mode="nearest")
    g.conv(g.op("Add", up, g.conv(fine, 8, 8, 1)), 8, 8, 3)
    return g.model()


@sample("vit_encoder")
def vit_encoder() -> onnx.ModelProto:
    from modelgenes.signatures.samples.transformer import attention_block

    g = SampleGraph()
    x = g.conv(g.input([1, 3, 32, 32]), 3, 16, 8, stride=8)
    x = g.op("Transpose", g.op("Reshape", x, g.const([1, 16, 16], "int64")), perm=[0, 2, 1])
    x = g.op("Concat", g.weight([1, 1, 16]), x, axis=1)
    x = g.op("Add", x, g.weight([1, 17, 16]))
    attention_block(g, x, 16, pre_ln=True)
    return g.model()
