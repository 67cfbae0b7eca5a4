"""Sample graphs of transformer families: small encoder, decoder and encoder-decoder blocks."""

from __future__ import annotations

import numpy as np
import onnx

from modelgenes.signatures.samples import SampleGraph, sample

D = 16
SEQ = 8


def _norm(g: SampleGraph, x: str, norm: str) -> str:
    return g.rmsnorm(x, D) if norm == "rms" else g.layernorm(x, D)


def _rotary(g: SampleGraph, x: str) -> str:
    half = D // 2
    x1 = g.op("Slice", x, g.const([0], np.int64), g.const([half], np.int64), g.const([-1], np.int64))
    x2 = g.op("Slice", x, g.const([half], np.int64), g.const([D], np.int64), g.const([-1], np.int64))
    rot = g.op("Concat", g.op("Neg", x2), x1, axis=-1)
    return g.op("Add", g.op("Mul", x, g.weight([SEQ, D])), g.op("Mul", rot, g.weight([SEQ, D])))


def attention(
    g: SampleGraph, xq: str, xkv: str, mask: str | None = None, rotary: bool = False, fused: bool = False
) -> str:
    """Single-head attention: projections, scaled scores (+ mask), Softmax, values, output projection."""
    if fused:
        qkv = g.linear(xq, D, 3 * D)
        q, k, v = g.op("Split", qkv, g.const([D, D, D], np.int64), axis=-1, outputs=3)
    else:
        q, k, v = g.linear(xq, D, D), g.linear(xkv, D, D), g.linear(xkv, D, D)
    if rotary:
        q, k = _rotary(g, q), _rotary(g, k)
    s = g.op("Div", g.op("MatMul", q, g.op("Transpose", k, perm=[0, 2, 1])), g.const(4.0))
    if mask is not None:
        s = g.op("Add", s, mask)
    return g.linear(g.op("MatMul", g.op("Softmax", s, axis=-1), v), D, D)


def _mlp(g: SampleGraph, x: str, kind: str) -> str:
    if kind == "swiglu":
        return g.linear(
            g.op("Mul", g.silu(g.linear(x, D, 32, False)), g.linear(x, D, 32, False)), 32, D, False
        )
    if kind == "geglu":
        a, b = g.op("Split", g.linear(x, D, 64, False), g.const([32, 32], np.int64), axis=-1, outputs=2)
        return g.linear(g.op("Mul", g.gelu(a), b), 32, D, False)
    return g.linear(g.gelu(g.linear(x, D, 32), tanh=kind == "gelu_tanh"), 32, D)


def attention_block(
    g: SampleGraph,
    x: str,
    d: int = D,
    pre_ln: bool = False,
    norm: str = "ln",
    mlp: str = "gelu",
    mask: str | None = None,
    rotary: bool = False,
    fused: bool = False,
    memory: str | None = None,
) -> str:
    """One transformer layer (self-attention, optional cross-attention on ``memory``, MLP)."""
    assert d == D
    if pre_ln:
        h = _norm(g, x, norm)
        x = g.op("Add", x, attention(g, h, h, mask, rotary, fused))
        if memory is not None:
            x = g.op("Add", x, attention(g, _norm(g, x, norm), memory))
        return g.op("Add", x, _mlp(g, _norm(g, x, norm), mlp))
    x = _norm(g, g.op("Add", x, attention(g, x, x, mask, rotary, fused)), norm)
    if memory is not None:
        x = _norm(g, g.op("Add", x, attention(g, x, memory)), norm)
    return _norm(g, g.op("Add", x, _mlp(g, x, mlp)), norm)


def _tokens(g: SampleGraph) -> str:
    return g.input([1, SEQ], onnx.TensorProto.INT64)


def _embed(g: SampleGraph, ids: str, positions: bool = True, token_type: bool = False) -> str:
    x = g.op("Gather", g.weight([64, D]), ids)
    if token_type:
        x = g.op("Add", x, g.op("Gather", g.weight([2, D]), g.input([1, SEQ], onnx.TensorProto.INT64)))
    if positions:
        x = g.op("Add", x, g.op("Gather", g.weight([SEQ, D]), g.input([1, SEQ], onnx.TensorProto.INT64)))
    return x


@sample("bert_encoder")
def bert_encoder() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.layernorm(_embed(g, _tokens(g), token_type=True), D)
    mask = g.input([1, 1, SEQ])
    for _ in range(2):
        x = attention_block(g, x, mask=mask)
    return g.model()


@sample("roberta_encoder")
def roberta_encoder() -> onnx.ModelProto:
    g = SampleGraph()
    ids = _tokens(g)
    keep = g.op("Cast", g.op("Not", g.op("Equal", ids, g.const(1, np.int64))), to=onnx.TensorProto.INT64)
    pos = g.op("Add", g.op("Mul", g.op("CumSum", keep, g.const(1, np.int64)), keep), g.const(1, np.int64))
    x = g.op("Add", g.op("Gather", g.weight([64, D]), ids), g.op("Gather", g.weight([SEQ + 2, D]), pos))
    x = attention_block(g, g.layernorm(x, D))
    return g.model()


@sample("gpt2_decoder")
def gpt2_decoder() -> onnx.ModelProto:
    g = SampleGraph()
    x = _embed(g, _tokens(g))
    mask = g.input([1, SEQ, SEQ])
    for _ in range(2):
        x = attention_block(g, x, pre_ln=True, mlp="gelu_tanh", mask=mask, fused=True)
    g.layernorm(x, D)
    return g.model()


@sample("gpt2_decoder_mask_positions")
def gpt2_decoder_mask_positions() -> onnx.ModelProto:
    # GPT-2 exported for generation: position ids = cumsum(attention_mask) - 1 (a running count over
    # an input's values, like RoBERTa's), but pre-LN blocks after the embedding sum.
    g = SampleGraph()
    ids = _tokens(g)
    attn = g.input([1, SEQ], onnx.TensorProto.INT64)
    pos = g.op("Sub", g.op("CumSum", attn, g.const(1, np.int64)), g.const(1, np.int64))
    x = g.op("Add", g.op("Gather", g.weight([64, D]), ids), g.op("Gather", g.weight([SEQ, D]), pos))
    mask = g.input([1, SEQ, SEQ])
    for _ in range(2):
        x = attention_block(g, x, pre_ln=True, mlp="gelu_tanh", mask=mask, fused=True)
    g.layernorm(x, D)
    return g.model()


@sample("llama_decoder")
def llama_decoder() -> onnx.ModelProto:
    g = SampleGraph()
    x = _embed(g, _tokens(g), positions=False)
    mask = g.input([1, SEQ, SEQ])
    for _ in range(2):
        x = attention_block(g, x, pre_ln=True, norm="rms", mlp="swiglu", mask=mask, rotary=True)
    g.rmsnorm(x, D)
    return g.model()


@sample("modernbert_encoder")
def modernbert_encoder() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.layernorm(_embed(g, _tokens(g), positions=False), D, bias=False)
    for _ in range(2):
        x = attention_block(g, x, pre_ln=True, mlp="geglu", rotary=True)
    return g.model()


def _encoder_decoder(g: SampleGraph, pre_ln: bool, norm: str, mlp: str) -> str:
    enc = _embed(g, _tokens(g))
    if not pre_ln:
        enc = _norm(g, enc, norm)
    enc = attention_block(g, enc, pre_ln=pre_ln, norm=norm, mlp=mlp)
    if pre_ln:
        enc = _norm(g, enc, norm)
    dec = _embed(g, _tokens(g))
    if not pre_ln:
        dec = _norm(g, dec, norm)
    return attention_block(g, dec, pre_ln=pre_ln, norm=norm, mlp=mlp, memory=enc, mask=g.input([1, SEQ, SEQ]))


@sample("bart_encoder_decoder")
def bart_encoder_decoder() -> onnx.ModelProto:
    g = SampleGraph()
    _encoder_decoder(g, pre_ln=False, norm="ln", mlp="gelu")
    return g.model()


@sample("t5_encoder_decoder")
def t5_encoder_decoder() -> onnx.ModelProto:
    g = SampleGraph()
    _norm(g, _encoder_decoder(g, pre_ln=True, norm="rms", mlp="relu"), "rms")
    return g.model()


def _audio_frontend(g: SampleGraph, strides: tuple[int, int]) -> str:
    x = g.input([1, 8, 32])
    x = g.gelu(g.conv(x, 8, D, 3, stride=strides[0], dims=1))
    x = g.gelu(g.conv(x, D, D, 3, stride=strides[1], dims=1))
    return g.op("Transpose", x, perm=[0, 2, 1])


@sample("whisper_encoder_decoder")
def whisper_encoder_decoder() -> onnx.ModelProto:
    g = SampleGraph()
    enc = g.op("Add", _audio_frontend(g, (1, 2)), g.weight([SEQ * 2, D]))
    enc = g.layernorm(attention_block(g, enc, pre_ln=True), D)
    dec = _embed(g, _tokens(g))
    g.layernorm(attention_block(g, dec, pre_ln=True, memory=enc, mask=g.input([1, SEQ, SEQ])), D)
    return g.model()


@sample("wav2vec2_encoder")
def wav2vec2_encoder() -> onnx.ModelProto:
    g = SampleGraph()
    x = g.layernorm(_audio_frontend(g, (2, 2)), D)
    x = g.linear(x, D, D)
    pc = g.conv(g.op("Transpose", x, perm=[0, 2, 1]), D, D, 4, group=4, dims=1)
    pc = g.op("Slice", pc, g.const([0], np.int64), g.const([8], np.int64), g.const([2], np.int64))
    x = g.op("Add", x, g.op("Transpose", g.gelu(pc), perm=[0, 2, 1]))
    attention_block(g, g.layernorm(x, D))
    return g.model()
