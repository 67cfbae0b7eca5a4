"""Sample graphs of recurrent families: fused ONNX LSTM/GRU ops and unrolled cells."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx

from modelgenes.signatures.samples import SampleGraph, sample

H = 8


def _fused(g: SampleGraph, op: str, x: str, gates: int) -> str:
    w, r, b = g.weight([1, gates * H, H]), g.weight([1, gates * H, H]), g.weight([1, 2 * gates * H])
    y: str = g.op(op, x, w, r, b, hidden_size=H)
    return y


@sample("lstm_fused")
def lstm_fused() -> onnx.ModelProto:
    g = SampleGraph()
    _fused(g, "LSTM", g.input([5, 1, H]), 4)
    return g.model()


@sample("gru_fused")
def gru_fused() -> onnx.ModelProto:
    g = SampleGraph()
    _fused(g, "GRU", g.input([5, 1, H]), 3)
    return g.model()


def _gates(g: SampleGraph, x: str, h: str, n: int) -> list[str]:
    z = g.op("Add", g.linear(x, H, n * H), g.linear(h, H, n * H, bias=False))
    return list(g.op("Split", z, g.const([H] * n, np.int64), axis=-1, outputs=n))


@sample("lstm_unrolled")
def lstm_unrolled() -> onnx.ModelProto:
    g = SampleGraph()
    h, c = g.input([1, H]), g.input([1, H])
    for _ in range(2):
        i, f, cand, o = _gates(g, g.input([1, H]), h, 4)
        c = g.op(
            "Add", g.op("Mul", g.op("Sigmoid", f), c), g.op("Mul", g.op("Sigmoid", i), g.op("Tanh", cand))
        )
        h = g.op("Mul", g.op("Sigmoid", o), g.op("Tanh", c))
    return g.model()


def _gru_steps(update: Callable[[SampleGraph, str, str, str], str]) -> onnx.ModelProto:
    """Two unrolled GRU steps; ``update(g, z, n, h)`` writes the new hidden state from the update
    gate, the candidate and the old state (the formula is where exports differ)."""
    g = SampleGraph()
    h = g.input([1, H])
    for _ in range(2):
        x = g.input([1, H])
        zr = g.op("Add", g.linear(x, H, 2 * H), g.linear(h, H, 2 * H, bias=False))
        z, r = (g.op("Sigmoid", t) for t in g.op("Split", zr, g.const([H, H], np.int64), axis=-1, outputs=2))
        n = g.op("Tanh", g.op("Add", g.linear(x, H, H), g.op("Mul", r, g.linear(h, H, H))))
        h = update(g, z, n, h)
    return g.model()


@sample("gru_unrolled")
def gru_unrolled() -> onnx.ModelProto:
    # h' = (1 - z) * n + z * h
    return _gru_steps(
        lambda g, z, n, h: g.op("Add", g.op("Mul", g.op("Sub", g.const(1.0), z), n), g.op("Mul", z, h))
    )


@sample("gru_cell_interpolated")
def gru_cell_interpolated() -> onnx.ModelProto:
    # h' = n + z * (h - n), torch.nn.GRUCell's form of the same update
    return _gru_steps(lambda g, z, n, h: g.op("Add", n, g.op("Mul", z, g.op("Sub", h, n))))


@sample("crnn_resnet_lstm")
def crnn_resnet_lstm() -> onnx.ModelProto:
    # An OCR-style model: a ResNet basic-block backbone feeding an LSTM over the width axis.
    g = SampleGraph()
    x = g.op("Relu", g.conv(g.input([1, 3, 8, 16]), 3, H, 3))
    for _ in range(2):
        y = g.conv(g.op("Relu", g.conv(x, H, H, 3)), H, H, 3)
        x = g.op("Relu", g.op("Add", y, x))
    seq = g.op("Transpose", g.op("ReduceMean", x, g.const([2], np.int64), keepdims=0), perm=[2, 0, 1])
    _fused(g, "LSTM", seq, 4)
    return g.model()
