"""Each normalisation rule: both spellings of one idea, built with onnx.helper, normalise alike."""

from __future__ import annotations

import math
import time

import numpy as np
import onnx
import pytest

from modelgenes.ingest.normalise import CANONICAL_OPS, RULES, normalise
from tests.unit.ingest.onnx_models import assert_alike, model, node, norm, ops, raw, tensor

W = np.ones((8, 8), dtype=np.float32)
B = np.zeros(8, dtype=np.float32)
CONV_W = np.ones((4, 3, 3, 3), dtype=np.float32)
IMG = ("batch", 3, 16, 16)


# --- noise -----------------------------------------------------------------------------------------
def test_identity_nodes_are_removed() -> None:
    plain = model([node("Relu", ["x"], ["y"])])
    noisy = model(
        [node("Identity", ["x"], ["a"]), node("Relu", ["a"], ["b"]), node("Identity", ["b"], ["y"])]
    )
    assert ops(norm(noisy)) == ["Relu"]
    assert_alike(norm(plain), norm(noisy))


def test_dropout_is_removed_in_attribute_and_input_forms() -> None:
    plain = model([node("Relu", ["x"], ["y"])])
    opset7 = model([node("Dropout", ["x"], ["a"], ratio=0.1), node("Relu", ["a"], ["y"])], opset=7)
    opset12 = model(
        [node("Dropout", ["x", "r"], ["a"]), node("Relu", ["a"], ["y"])],
        inits={"r": np.float32(0.1)},
        opset=12,
    )
    assert_alike(norm(plain), norm(opset7))
    assert_alike(norm(plain), norm(opset12))


def test_cast_to_the_same_type_is_removed_but_a_real_cast_stays() -> None:
    plain = model([node("Relu", ["x"], ["y"])])
    noop = model([node("Cast", ["x"], ["a"], to=1), node("Relu", ["a"], ["y"])])
    real = model([node("Cast", ["x"], ["a"], to=10), node("Relu", ["a"], ["y"])])
    assert_alike(norm(plain), norm(noop))
    assert ops(norm(real)) == ["Cast", "Relu"]


def test_noop_cast_after_a_cast_is_removed_using_inferred_types() -> None:
    # x → Cast(fp16) → Relu → Cast(fp16): the second cast is a no-op once Relu's type is inferred
    g = norm(
        model(
            [node("Cast", ["x"], ["a"], to=10), node("Relu", ["a"], ["b"]), node("Cast", ["b"], ["y"], to=10)]
        )
    )
    assert ops(g) == ["Cast", "Relu"]


def test_constant_nodes_vanish_and_keep_their_values() -> None:
    g = norm(
        model(
            [
                node("Constant", [], ["c"], value=tensor("c", [2.0] * 8)),
                node("Constant", [], ["d"], value_float=3.0),
                node("Mul", ["x", "c"], ["a"]),
                node("Add", ["a", "d"], ["y"]),
            ]
        )
    )
    assert ops(g) == ["Mul", "Add"]
    assert g.constants["c"] == (2.0,) * 8
    assert g.constants["d"] == (3.0,)
    assert g.edges == ((0, 1),)


def test_computations_on_constants_only_are_folded() -> None:
    # A weight transposed at run time (some exporters) reads like a plain MatMul.
    plain = model([node("MatMul", ["x", "w"], ["y"])], inits={"w": W})
    transposed = model(
        [node("Transpose", ["wt"], ["w"], perm=[1, 0]), node("MatMul", ["x", "w"], ["y"])], inits={"wt": W}
    )
    assert_alike(norm(plain), norm(transposed))


def test_dead_nodes_are_removed() -> None:
    g = norm(model([node("Relu", ["x"], ["y"]), node("Sigmoid", ["x"], ["unused"])]))
    assert ops(g) == ["Relu"]


# --- shape plumbing ------------------------------------------------------------------------------
def test_shape_plumbing_is_removed_so_dynamic_and_static_reshapes_read_alike() -> None:
    static = model([node("Reshape", ["x", "s"], ["a"]), node("Relu", ["a"], ["y"])], inits={"s": [0, -1]})
    dynamic = model(
        [
            node("Shape", ["x"], ["shape"]),
            node("Gather", ["shape", "zero"], ["batch"], axis=0),
            node("Unsqueeze", ["batch", "axes"], ["batch1"]),
            node("Concat", ["batch1", "minus1"], ["s"], axis=0),
            node("Reshape", ["x", "s"], ["a"]),
            node("Relu", ["a"], ["y"]),
        ],
        inits=[
            tensor("zero", 0, np.int64),
            tensor("axes", [0], np.int64),
            tensor("minus1", [-1], np.int64),
        ],
    )
    assert ops(norm(dynamic)) == ["Reshape", "Relu"]
    assert norm(dynamic).normalisation["fold_shape_plumbing"] == 4
    assert_alike(norm(static), norm(dynamic))


def test_a_node_feeding_data_and_shape_inputs_stays() -> None:
    g = norm(
        model(
            [
                node("Relu", ["x"], ["a"]),
                node("Shape", ["a"], ["s"]),
                node("Reshape", ["a", "s"], ["y"]),
            ]
        )
    )
    assert ops(g) == ["Relu", "Reshape"]


def test_integer_mask_plumbing_is_removed_and_mask_forms_read_alike() -> None:
    # TorchScript-style mask: Unsqueeze/Cast/Sub/Mul on the int mask; dynamo-style: Cast(bool)/Not/Where.
    scores = [node("MatMul", ["x", "x"], ["s"])]
    torchscript = model(
        [
            *scores,
            node("Unsqueeze", ["mask", "ax"], ["m1"]),
            node("Cast", ["m1"], ["mf"], to=1),
            node("Sub", ["one", "mf"], ["inv"]),
            node("Mul", ["inv", "big"], ["bias"]),
            node("Add", ["s", "bias"], ["a"]),
            node("Softmax", ["a"], ["y"]),
        ],
        inputs=("x", "mask"),
        inits=[tensor("ax", [1], np.int64), tensor("one", 1.0), tensor("big", -1e4)],
    )
    torchscript.graph.input[1].type.tensor_type.elem_type = 7  # int64 mask
    dynamo = model(
        [
            *scores,
            node("Cast", ["mask"], ["mb"], to=9),
            node("Not", ["mb"], ["nb"]),
            node("Where", ["nb", "big", "zero"], ["bias"]),
            node("Add", ["s", "bias"], ["a"]),
            node("Softmax", ["a"], ["y"]),
        ],
        inputs=("x", "mask"),
        inits=[tensor("zero", 0.0), tensor("big", -1e4)],
    )
    dynamo.graph.input[1].type.tensor_type.elem_type = 7
    a, b = norm(torchscript), norm(dynamo)
    assert ops(a) == ["MatMul", "Add", "Softmax"]
    assert_alike(a, b)


def test_position_ids_from_shapes_fold_with_their_embedding() -> None:
    # Range over the sequence length → Gather from a position table: a constant once shapes are fixed.
    folded = norm(model([node("Add", ["x", "pos"], ["y"])], inits={"pos": W}))
    computed = norm(
        model(
            [
                node("Shape", ["x"], ["shape"]),
                node("Gather", ["shape", "one"], ["len"], axis=0),
                node("Range", ["zero", "len", "step"], ["ids"]),
                node("Gather", ["table", "ids"], ["pos"]),
                node("Add", ["x", "pos"], ["y"]),
            ],
            inits=[
                tensor("one", 1, np.int64),
                tensor("zero", 0, np.int64),
                tensor("step", 1, np.int64),
                tensor("table", W),
            ],
        )
    )
    assert_alike(folded, computed)


def test_token_ids_reaching_the_embedding_are_not_folded() -> None:
    m = model(
        [
            node("Reshape", ["ids", "shape"], ["flat"]),
            node("Gather", ["table", "flat"], ["e"]),
            node("Relu", ["e"], ["y"]),
        ],
        inputs=("ids",),
        inits=[tensor("shape", [-1], np.int64), tensor("table", W)],
    )
    m.graph.input[0].type.tensor_type.elem_type = 7
    assert ops(norm(m)) == ["Gather", "Relu"]


def _counted_positions(casts: bool) -> onnx.ModelProto:
    # RoBERTa: positions = cumsum(ids != pad) · (ids != pad) + pad, in TorchScript's spelling (int32
    # count, casts around it) or dynamo's (int64 throughout).
    mask = [node("Equal", ["ids", "pad"], ["eq"]), node("Not", ["eq"], ["ne"])]
    if casts:
        count = [
            node("Cast", ["ne"], ["m"], to=6),
            node("CumSum", ["m", "ax"], ["c"]),
            node("Mul", ["c", "m"], ["cm"]),
            node("Cast", ["cm"], ["p"], to=7),
        ]
    else:
        count = [
            node("Cast", ["ne"], ["m"], to=7),
            node("CumSum", ["m", "ax"], ["c"]),
            node("Mul", ["c", "m"], ["p"]),
        ]
    m = model(
        [
            *mask,
            *count,
            node("Add", ["p", "pad"], ["ids2"]),
            node("Gather", ["table", "ids2"], ["pos"]),
            node("Gather", ["words", "ids"], ["e"]),
            node("Add", ["e", "pos"], ["y"]),
        ],
        inputs=("ids",),
        inits=[
            tensor("pad", 1, np.int64),
            tensor("ax", 1, np.int64),
            tensor("table", W),
            tensor("words", W),
        ],
    )
    m.graph.input[0].type.tensor_type.elem_type = 7
    return m


def test_running_count_position_ids_keep_their_cumsum() -> None:
    torchscript, dynamo = norm(_counted_positions(casts=True)), norm(_counted_positions(casts=False))
    assert ops(torchscript) == ["CumSum", "Gather", "Gather", "Add"]
    cumsum = torchscript.nodes[0]
    assert cumsum.outputs[0] in torchscript.nodes[1].inputs
    assert_alike(torchscript, dynamo)


def test_nan_guard_after_softmax_is_removed() -> None:
    guarded = norm(
        model(
            [
                node("Softmax", ["x"], ["s"]),
                node("IsNaN", ["s"], ["nan"]),
                node("Where", ["nan", "zero", "s"], ["y"]),
            ],
            inits={"zero": np.float32(0)},
        )
    )
    assert ops(guarded) == ["Softmax"]


def test_attention_scaling_on_scores_or_on_q_and_k_reads_alike() -> None:
    k = {"scale": np.float32(0.125), "qscale": np.float32(0.3536), "d": np.float32(8.0)}
    on_scores = norm(
        model(
            [
                node("MatMul", ["q", "k"], ["s"]),
                node("Div", ["s", "d"], ["a"]),
                node("Softmax", ["a"], ["y"]),
            ],
            inputs=("q", "k"),
            inits=k,
        )
    )
    on_q_and_k = norm(
        model(
            [
                node("Mul", ["q", "qscale"], ["qs"]),
                node("Mul", ["qscale", "k"], ["ks"]),
                node("MatMul", ["qs", "ks"], ["s"]),
                node("Softmax", ["s"], ["y"]),
            ],
            inputs=("q", "k"),
            inits=k,
        )
    )
    assert ops(on_scores) == ["MatMul", "Softmax"]
    assert_alike(on_scores, on_q_and_k)


def test_layout_chains_read_as_one_op() -> None:
    split = norm(
        model(
            [
                node("Reshape", ["x", "s"], ["r"]),
                node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3]),
                node("Relu", ["t"], ["y"]),
            ],
            inits=[tensor("s", [0, 0, 2, 4], np.int64)],
        )
    )
    longer = norm(
        model(
            [
                node("Reshape", ["x", "s"], ["r"]),
                node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3]),
                node("Reshape", ["t", "s2"], ["r2"]),
                node("Transpose", ["r2"], ["t2"], perm=[0, 2, 1]),
                node("Unsqueeze", ["t2", "ax"], ["u"]),
                node("Relu", ["u"], ["y"]),
            ],
            inits=[
                tensor("s", [0, 0, 2, 4], np.int64),
                tensor("s2", [-1, 2, 4], np.int64),
                tensor("ax", [0], np.int64),
            ],
        )
    )
    assert ops(split) == ["Transpose", "Relu"]
    assert_alike(split, longer)


def test_channel_shuffle_keeps_its_reshape_transpose_reshape() -> None:
    # (N, C, H, W) → (N, g, C/g, H, W) → swap g and C/g → (N, C, H, W): ShuffleNet's channel shuffle
    g = norm(
        model(
            [
                node("Relu", ["x"], ["a"]),
                node("Reshape", ["a", "s"], ["r"]),
                node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
                node("Reshape", ["t", "s2"], ["r2"]),
                node("Relu", ["r2"], ["y"]),
            ],
            inits=[
                tensor("s", [1, 2, 4, 8, 8], np.int64),
                tensor("s2", [1, 8, 8, 8], np.int64),
            ],
        )
    )
    assert ops(g) == ["Relu", "Reshape", "Transpose", "Reshape", "Relu"]
    assert [n.attributes.get("perm") for n in g.nodes if n.op == "Transpose"] == [(0, 2, 1, 3, 4)]


def test_attention_head_split_with_a_rank5_swap_is_a_layout_chain_not_a_shuffle() -> None:
    # tf2onnx's Einsum lowering: (N, S, 24) → (N, S, 4, 6) → Unsqueeze → (N, S, 4, 1, 6) → swap S and
    # the heads → Reshape. The swapped axes are not one axis split in two: one Transpose, as the
    # plain Reshape → Transpose head split reads.
    shape = ("batch", 16, 24)
    plain = norm(
        model(
            [
                node("Relu", ["x"], ["a"]),
                node("Reshape", ["a", "s"], ["r"]),
                node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3]),
                node("Relu", ["t"], ["y"]),
            ],
            inits=[tensor("s", [-1, 16, 4, 6], np.int64)],
            shape=shape,
        )
    )
    einsum = norm(
        model(
            [
                node("Relu", ["x"], ["a"]),
                node("Reshape", ["a", "s"], ["r"]),
                node("Unsqueeze", ["r", "ax"], ["u"]),
                node("Transpose", ["u"], ["t"], perm=[0, 2, 1, 3, 4]),
                node("Reshape", ["t", "s2"], ["r2"]),
                node("Relu", ["r2"], ["y"]),
            ],
            inits=[
                tensor("s", [-1, 16, 4, 6], np.int64),
                tensor("ax", [3], np.int64),
                tensor("s2", [-1, 16, 6], np.int64),
            ],
            shape=shape,
        )
    )
    assert ops(einsum) == ["Relu", "Transpose", "Relu"]
    assert_alike(plain, einsum)


def test_channel_shuffle_must_restore_the_shape_it_split() -> None:
    # The same Reshape → swap → Reshape, but the last Reshape does not give back (N, C, H, W): a layout
    # chain, not a shuffle.
    g = norm(
        model(
            [
                node("Reshape", ["x", "s"], ["r"]),
                node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
                node("Reshape", ["t", "s2"], ["r2"]),
                node("Relu", ["r2"], ["y"]),
            ],
            inits=[
                tensor("s", [1, 2, 4, 8, 8], np.int64),
                tensor("s2", [1, 4, 2, 64], np.int64),
            ],
            shape=(1, 8, 8, 8),
        )
    )
    assert ops(g) == ["Transpose", "Relu"]


# --- aliases across opsets -------------------------------------------------------------------------
def test_reduce_mean_axes_as_attribute_and_as_input_read_alike() -> None:
    attr = norm(model([node("ReduceMean", ["x"], ["y"], axes=[-1], keepdims=1)], opset=13))
    inp = norm(
        model(
            [node("ReduceMean", ["x", "axes"], ["y"], keepdims=1)],
            inits=[tensor("axes", [-1], np.int64)],
            opset=18,
        )
    )
    assert_alike(attr, inp)
    assert attr.nodes[0].attributes["axes"] == inp.nodes[0].attributes["axes"] == (-1,)


def test_upsample_reads_as_resize() -> None:
    up = norm(
        model(
            [node("Upsample", ["x", "scales"], ["y"], mode="nearest")],
            inits={"scales": [1, 1, 2, 2]},
            opset=9,
        )
    )
    rs = norm(
        model(
            [node("Resize", ["x", "", "scales"], ["y"], mode="nearest")],
            inits={"scales": [1, 1, 2, 2]},
            opset=13,
        )
    )
    assert ops(up) == ops(rs) == ["Resize"]


def test_flatten_and_reshape_chains_read_as_one_reshape() -> None:
    flat = norm(model([node("Flatten", ["x"], ["y"], axis=1)]))
    chain = norm(
        model(
            [node("Reshape", ["x", "s1"], ["a"]), node("Reshape", ["a", "s2"], ["y"])],
            inits=[tensor("s1", [0, 2, -1], np.int64), tensor("s2", [0, -1], np.int64)],
        )
    )
    assert ops(flat) == ops(chain) == ["Reshape"]


def test_gemm_and_matmul_plus_bias_read_alike() -> None:
    gemm = norm(model([node("Gemm", ["x", "w", "b"], ["y"])], inits={"w": W, "b": B}))
    matmul = norm(
        model([node("MatMul", ["x", "w"], ["a"]), node("Add", ["a", "b"], ["y"])], inits={"w": W, "b": B})
    )
    assert ops(gemm) == ["MatMul"]
    assert_alike(gemm, matmul)


def _dense_on_rank3(
    flat: list[int], back: list[int], shape: tuple[int, ...] = (2, 3, 8), bias_first: bool = False
) -> onnx.ModelProto:
    # tf2onnx's Keras Dense on a rank-3 input: flatten to 2-D → MatMul → back to rank 3 → bias Add
    # (GPT-2's Conv1D: the bias Add before the unflatten).
    linear = [node("Reshape", ["x", "flat"], ["f"]), node("MatMul", ["f", "w"], ["m"])]
    if bias_first:
        tail = [node("Add", ["m", "b"], ["a"]), node("Reshape", ["a", "back"], ["y"])]
    else:
        tail = [node("Reshape", ["m", "back"], ["a"]), node("Add", ["a", "b"], ["y"])]
    return model(
        linear + tail,
        inits=[
            tensor("w", W),
            tensor("b", B),
            tensor("flat", flat, np.int64),
            tensor("back", back, np.int64),
        ],
        shape=shape,
    )


def _linear(shape: tuple[int, ...] = (2, 3, 8), target: list[int] | None = None) -> onnx.ModelProto:
    reshape = [node("Reshape", ["x", "t"], ["x2"])] if target is not None else []
    return model(
        [*reshape, node("MatMul", ["x2" if reshape else "x", "w"], ["m"]), node("Add", ["m", "b"], ["y"])],
        inits=[tensor("w", W), tensor("b", B)] + ([tensor("t", target, np.int64)] if target else []),
        shape=shape,
    )


def test_flatten_matmul_unflatten_reads_as_a_plain_matmul_with_its_bias() -> None:
    plain = norm(_linear())
    keras = norm(_dense_on_rank3([6, 8], [2, 3, 8]))
    assert ops(keras) == ops(plain) == ["MatMul"]
    assert_alike(keras, plain)
    assert_alike(norm(_dense_on_rank3([-1, 8], [2, 3, -1])), plain)
    assert_alike(norm(_dense_on_rank3([6, 8], [2, 3, 8], bias_first=True)), plain)
    # Unknown input shape: the flatten's leading dimensions are taken as the unflatten's.
    assert_alike(
        norm(_dense_on_rank3([6, 8], [2, 3, 8], shape=("a", "b", "c"))), norm(_linear(("a", "b", "c")))
    )


def test_a_flatten_that_regroups_rows_keeps_a_reshape_to_the_unflattened_shape() -> None:
    # reshape(reshape(x, (6, 8)) @ W, (3, 2, 8)) is reshape(x, (3, 2, 8)) @ W.
    regrouped = norm(_dense_on_rank3([6, 8], [3, 2, 8]))
    assert ops(regrouped) == ["Reshape", "MatMul"]
    assert_alike(regrouped, norm(_linear(target=[3, 2, 8])))
    assert ops(norm(_dense_on_rank3([3, 8], [3, 1, 8], shape=(2, 3, 4)))) == ["Reshape", "MatMul"]


def test_a_reshape_around_matmul_that_is_no_flatten_and_unflatten_stays() -> None:
    kept = ["Reshape", "MatMul", "Reshape", "Add"]
    assert ops(norm(_dense_on_rank3([6, 8], [2, 4, 8]))) == kept  # 2·4 rows are not 6
    assert ops(norm(_dense_on_rank3([6, 8], [2, 3, 2, 4]))) == kept  # splits the output axis (heads)
    assert ops(norm(_dense_on_rank3([2, 3, 8], [6, 8]))) == kept  # the first Reshape is no flatten


def test_residual_add_is_not_taken_for_a_bias() -> None:
    g = norm(model([node("MatMul", ["x", "w"], ["a"]), node("Add", ["a", "x"], ["y"])], inits={"w": W}))
    assert ops(g) == ["MatMul", "Add"]


def test_sum_of_two_reads_as_add() -> None:
    assert ops(norm(model([node("Sum", ["x", "x"], ["y"])], opset=6))) == ["Add"]


# --- convolution and batch norm --------------------------------------------------------------------
def conv_model(*tail: str, bn: bool = False, bias: bool = True) -> tuple[list, dict]:
    nodes = [
        node("Conv", ["x", "w", "b"] if bias else ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    ]
    inits: dict = {"w": CONV_W, "b": np.zeros(4, np.float32)}
    last = "c"
    if bn:
        nodes.append(node("BatchNormalization", ["c", "s", "o", "m", "v"], ["bn"]))
        inits.update({k: np.ones(4, np.float32) for k in "somv"})
        last = "bn"
    for k, op in enumerate(tail):
        out = "y" if k == len(tail) - 1 else f"t{k}"
        nodes.append(node(op, [last], [out]))
        last = out
    if not tail:
        nodes.append(node("Identity", [last], ["y"]))
    return nodes, inits


def test_conv_with_batchnorm_reads_like_the_fused_conv() -> None:
    fused = norm(model(*conv_model("Relu"), shape=IMG))
    unfused = norm(model(*conv_model("Relu", bn=True, bias=False), shape=IMG))
    assert ops(unfused) == ["Conv", "Relu"]
    assert_alike(fused, unfused)
    assert len(unfused.nodes[0].merged_from) == 2


def test_batchnorm_not_after_a_conv_stays() -> None:
    g = norm(
        model(
            [node("BatchNormalization", ["x", "s", "o", "m", "v"], ["y"])],
            inits={k: np.ones(3, np.float32) for k in "somv"},
            shape=IMG,
        )
    )
    assert ops(g) == ["BatchNormalization"]


def test_zero_pad_before_a_conv_is_its_padding() -> None:
    attr = norm(model([node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], inits={"w": CONV_W}, shape=IMG))
    padded = norm(
        model(
            [node("Pad", ["x", "p"], ["xp"], mode="constant"), node("Conv", ["xp", "w"], ["y"])],
            inits=[tensor("p", [0, 0, 1, 1, 0, 0, 1, 1], np.int64), tensor("w", CONV_W)],
            shape=IMG,
        )
    )
    assert_alike(attr, padded)


def test_reduce_mean_over_spatial_axes_reads_as_global_average_pool() -> None:
    gap = norm(model([node("GlobalAveragePool", ["x"], ["p"]), node("Flatten", ["p"], ["y"])], shape=IMG))
    mean = norm(
        model(
            [node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)],
            inits=[tensor("axes", [2, 3], np.int64)],
            shape=IMG,
            opset=18,
        )
    )
    assert ops(gap) == ops(mean) == ["GlobalAveragePool"]


def _squeeze_excite(after_pool: list[onnx.NodeProto], after_fc1: list[onnx.NodeProto]) -> onnx.ModelProto:
    # x → GAP → [after_pool] → 1×1 Conv → Relu → [after_fc1] → 1×1 Conv → Sigmoid → Mul(x)
    return model(
        [
            node("GlobalAveragePool", ["x"], ["p"]),
            *after_pool,
            node("Conv", ["q", "w1"], ["f1"]),
            node("Relu", ["f1"], ["a"]),
            *after_fc1,
            node("Conv", ["b", "w2"], ["f2"]),
            node("Sigmoid", ["f2"], ["s"]),
            node("Mul", ["x", "s"], ["y"]),
        ],
        inits=[
            tensor("w1", np.ones((2, 3, 1, 1))),
            tensor("w2", np.ones((3, 2, 1, 1))),
            tensor("ax", [2, 3], np.int64),
            tensor("s1", [1, 3, 1, 1], np.int64),
            tensor("s2", [1, 2, 1, 1], np.int64),
        ],
        shape=IMG,
    )


def test_reshapes_that_only_move_a_pooled_tensors_unit_axes_are_removed() -> None:
    # PyTorch: GAP → Conv → Relu → Conv. tf2onnx: GAP → Squeeze(2, 3) → Reshape(1, C, 1, 1) → Conv →
    # Relu → Reshape(1, C', 1, 1) (a no-op) → Conv.
    plain = norm(_squeeze_excite([node("Identity", ["p"], ["q"])], [node("Identity", ["a"], ["b"])]))
    tf = norm(
        _squeeze_excite(
            [node("Squeeze", ["p", "ax"], ["sq"]), node("Reshape", ["sq", "s1"], ["q"])],
            [node("Reshape", ["a", "s2"], ["b"])],
        )
    )
    assert ops(tf) == ["GlobalAveragePool", "Conv", "Relu", "Conv", "Sigmoid", "Mul"]
    assert_alike(plain, tf)


def test_conv_kernel_shape_is_taken_from_the_weight_when_missing() -> None:
    stated = norm(
        model([node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3])], inits={"w": CONV_W}, shape=IMG)
    )
    implied = norm(model([node("Conv", ["x", "w"], ["y"])], inits={"w": CONV_W}, shape=IMG))
    assert implied.nodes[0].attributes["kernel_shape"] == (3, 3)
    assert_alike(stated, implied)


def test_depthwise_and_plain_convolutions_hash_differently() -> None:
    plain = norm(
        model([node("Conv", ["x", "w"], ["y"])], inits={"w": np.ones((3, 3, 3, 3), np.float32)}, shape=IMG)
    )
    depthwise = norm(
        model(
            [node("Conv", ["x", "w"], ["y"], group=3)],
            inits={"w": np.ones((3, 1, 3, 3), np.float32)},
            shape=IMG,
        )
    )
    assert depthwise.nodes[0].attributes["depthwise"] is True
    assert plain.wl_hash() != depthwise.wl_hash()


# --- activations -----------------------------------------------------------------------------------
def relu6_forms() -> list:
    return [
        model([node("Clip", ["x"], ["y"], min=0.0, max=6.0)], opset=6),
        model(
            [node("Clip", ["x", "lo", "hi"], ["y"])],
            inits={"lo": np.float32(0), "hi": np.float32(6)},
            opset=11,
        ),
        model(
            [
                node("Constant", [], ["lo"], value=tensor("lo", 0.0)),
                node("Constant", [], ["hi"], value=tensor("hi", 6.0)),
                node("Clip", ["x", "lo", "hi"], ["y"]),
            ],
            opset=13,
        ),
    ]


@pytest.mark.parametrize("index", range(3))
def test_clip_0_6_reads_as_relu6_in_every_opset(index: int) -> None:
    g = norm(relu6_forms()[index])
    assert ops(g) == ["Relu6"]
    assert g.nodes[0].attributes == {}


def test_clip_with_other_bounds_stays_clip_and_clip_0_inf_is_relu() -> None:
    assert ops(norm(model([node("Clip", ["x"], ["y"], min=-1.0, max=1.0)], opset=6))) == ["Clip"]
    assert ops(norm(model([node("Clip", ["x", "lo"], ["y"])], inits={"lo": np.float32(0)}, opset=13))) == [
        "Relu"
    ]


def hardswish_forms() -> list:
    c = {"three": np.float32(3), "six": np.float32(6), "zero": np.float32(0), "sixth": np.float32(1 / 6)}
    return [
        model([node("HardSwish", ["x"], ["y"])], opset=14),
        model([node("HardSigmoid", ["x"], ["h"], alpha=1 / 6, beta=0.5), node("Mul", ["x", "h"], ["y"])]),
        model(  # x * Clip(x + 3, 0, 6) / 6
            [
                node("Add", ["x", "three"], ["a"]),
                node("Clip", ["a", "zero", "six"], ["r"]),
                node("Mul", ["x", "r"], ["m"]),
                node("Div", ["m", "six"], ["y"]),
            ],
            inits=c,
        ),
        model(  # (Clip(3 + x, 0, 6) * 1/6) * x, attribute-form clip
            [
                node("Add", ["three", "x"], ["a"]),
                node("Clip", ["a"], ["r"], min=0.0, max=6.0),
                node("Mul", ["r", "sixth"], ["h"]),
                node("Mul", ["h", "x"], ["y"]),
            ],
            inits=c,
            opset=6,
        ),
    ]


@pytest.mark.parametrize("index", range(4))
def test_hardswish_forms_read_as_hardswish(index: int) -> None:
    g = norm(hardswish_forms()[index])
    assert ops(g) == ["HardSwish"]
    assert g.nodes[0].inputs == ("x",)


def test_clip_x_plus_3_over_6_reads_as_hardsigmoid() -> None:
    g = norm(
        model(
            [
                node("Add", ["x", "three"], ["a"]),
                node("Clip", ["a", "zero", "six"], ["r"]),
                node("Div", ["r", "six"], ["y"]),
            ],
            inits={"three": np.float32(3), "six": np.float32(6), "zero": np.float32(0)},
        )
    )
    assert ops(g) == ["HardSigmoid"]


@pytest.mark.parametrize("order", [("x", "s"), ("s", "x")])
def test_x_times_sigmoid_x_reads_as_silu(order: tuple[str, str]) -> None:
    g = norm(model([node("Sigmoid", ["x"], ["s"]), node("Mul", list(order), ["y"])]))
    assert ops(g) == ["SiLU"]
    assert g.nodes[0].original_op == "Sigmoid+Mul"


def test_swish_op_reads_as_silu() -> None:
    assert ops(norm(model([node("Swish", ["x"], ["y"])], opset=24))) == ["SiLU"]


def test_sigmoid_gate_of_another_tensor_is_not_silu() -> None:
    g = norm(model([node("Sigmoid", ["x"], ["s"]), node("Mul", ["z", "s"], ["y"])], inputs=("x", "z")))
    assert ops(g) == ["Sigmoid", "Mul"]


def test_quick_gelu_and_mish() -> None:
    quick = norm(
        model(
            [node("Mul", ["x", "c"], ["a"]), node("Sigmoid", ["a"], ["s"]), node("Mul", ["x", "s"], ["y"])],
            inits={"c": np.float32(1.702)},
        )
    )
    mish = norm(
        model([node("Softplus", ["x"], ["a"]), node("Tanh", ["a"], ["t"]), node("Mul", ["x", "t"], ["y"])])
    )
    assert ops(quick) == ["QuickGelu"]
    assert ops(mish) == ["Mish"]


def gelu_forms() -> list:
    k = {
        "sqrt2": np.float32(math.sqrt(2)),
        "isqrt2": np.float32(math.sqrt(0.5)),
        "one": np.float32(1),
        "half": np.float32(0.5),
        "c": np.float32(0.044715),
        "three": np.float32(3),
        "s2pi": np.float32(math.sqrt(2 / math.pi)),
    }
    ms = {"com.microsoft": 1}
    return [
        model([node("Gelu", ["x"], ["y"])], opset=20),
        model([node("Gelu", ["x"], ["y"], approximate="tanh")], opset=20),
        model([node("FastGelu", ["x"], ["y"], domain="com.microsoft")], extra_opsets=ms),
        model([node("BiasGelu", ["x", "b"], ["y"], domain="com.microsoft")], inits={"b": B}, extra_opsets=ms),
        model(  # TorchScript: x * 0.5 * (1 + erf(x / sqrt 2))
            [
                node("Div", ["x", "sqrt2"], ["d"]),
                node("Erf", ["d"], ["e"]),
                node("Add", ["e", "one"], ["a"]),
                node("Mul", ["x", "a"], ["m"]),
                node("Mul", ["m", "half"], ["y"]),
            ],
            inits=k,
        ),
        model(  # (x * 0.5) * (1 + erf(x * 0.7071))
            [
                node("Mul", ["x", "half"], ["h"]),
                node("Mul", ["x", "isqrt2"], ["d"]),
                node("Erf", ["d"], ["e"]),
                node("Add", ["one", "e"], ["a"]),
                node("Mul", ["h", "a"], ["y"]),
            ],
            inits=k,
        ),
        model(  # tanh form with Pow: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
            [
                node("Pow", ["x", "three"], ["p"]),
                node("Mul", ["p", "c"], ["pc"]),
                node("Add", ["x", "pc"], ["inner"]),
                node("Mul", ["inner", "s2pi"], ["scaled"]),
                node("Tanh", ["scaled"], ["t"]),
                node("Add", ["t", "one"], ["a"]),
                node("Mul", ["half", "x"], ["hx"]),
                node("Mul", ["hx", "a"], ["y"]),
            ],
            inits=k,
        ),
        model(  # tanh form with x*x*x
            [
                node("Mul", ["x", "x"], ["x2"]),
                node("Mul", ["x2", "x"], ["x3"]),
                node("Mul", ["c", "x3"], ["pc"]),
                node("Add", ["pc", "x"], ["inner"]),
                node("Mul", ["s2pi", "inner"], ["scaled"]),
                node("Tanh", ["scaled"], ["t"]),
                node("Add", ["one", "t"], ["a"]),
                node("Mul", ["x", "a"], ["xa"]),
                node("Mul", ["xa", "half"], ["y"]),
            ],
            inits=k,
        ),
    ]


@pytest.mark.parametrize("index", range(8))
def test_gelu_forms_read_as_gelu(index: int) -> None:
    g = norm(gelu_forms()[index])
    assert ops(g) == ["Gelu"]


def test_gelu_decomposition_keeps_its_neighbours() -> None:
    m = gelu_forms()[4]
    m.graph.node.insert(0, node("MatMul", ["x0", "w"], ["x"]))
    m.graph.node.append(node("Relu", ["y"], ["z"]))
    m.graph.input[0].name = "x0"
    m.graph.output[0].name = "z"
    m.graph.initializer.append(tensor("w", W))
    g = norm(m)
    assert ops(g) == ["MatMul", "Gelu", "Relu"]
    assert g.edges == ((0, 1), (1, 2))


# --- normalisation layers --------------------------------------------------------------------------
def layernorm_decomposed(square: str = "Pow", affine: bool = True) -> list:
    nodes = [
        node("ReduceMean", ["x"], ["mean"], axes=[-1]),
        node("Sub", ["x", "mean"], ["d"]),
        node("Pow", ["d", "two"], ["sq"]) if square == "Pow" else node("Mul", ["d", "d"], ["sq"]),
        node("ReduceMean", ["sq"], ["var"], axes=[-1]),
        node("Add", ["var", "eps"], ["ve"]),
        node("Sqrt", ["ve"], ["std"]),
        node("Div", ["d", "std"], ["n" if affine else "y"]),
    ]
    if affine:
        nodes += [node("Mul", ["n", "gamma"], ["g"]), node("Add", ["g", "beta"], ["y"])]
    return nodes


LN_INITS = {"two": np.float32(2), "eps": np.float32(1e-5), "gamma": np.ones(8, np.float32), "beta": B}


def test_layernorm_fused_and_decomposed_read_alike() -> None:
    fused = norm(model([node("LayerNormalization", ["x", "gamma", "beta"], ["y"], axis=-1)], inits=LN_INITS))
    pow_form = norm(model(layernorm_decomposed("Pow"), inits=LN_INITS, opset=13))
    mul_form = norm(model(layernorm_decomposed("Mul"), inits=LN_INITS, opset=13))
    bare = norm(model(layernorm_decomposed("Pow", affine=False), inits=LN_INITS, opset=13))
    assert ops(fused) == ops(pow_form) == ops(mul_form) == ops(bare) == ["LayerNorm"]
    assert pow_form.nodes[0].inputs == ("x", "gamma", "beta")
    assert len(pow_form.nodes[0].merged_from) == 9


def test_tensorflow_layernorm_with_the_mean_read_twice_reads_as_layernorm() -> None:
    # tf2onnx: mean = GAP(x) (over the last axis), s = γ·1/sqrt(var + ε), y = x·s + (β − mean·s).
    inits = {**LN_INITS, "eps": np.float32(1e-12)}
    tf = norm(
        model(
            [
                node("GlobalAveragePool", ["x"], ["mean"]),
                node("Neg", ["mean"], ["nm"]),
                node("Sub", ["x", "mean"], ["d"]),
                node("Mul", ["d", "d"], ["sq"]),
                node("GlobalAveragePool", ["sq"], ["var"]),
                node("Add", ["var", "eps"], ["ve"]),
                node("Sqrt", ["ve"], ["sd"]),
                node("Reciprocal", ["sd"], ["inv"]),
                node("Mul", ["inv", "gamma"], ["s"]),
                node("Mul", ["x", "s"], ["xs"]),
                node("Mul", ["nm", "s"], ["ms"]),
                node("Add", ["ms", "beta"], ["shift"]),
                node("Add", ["xs", "shift"], ["y"]),
            ],
            inits=inits,
            shape=("batch", 4, 8),
        )
    )
    fused = norm(model([node("LayerNormalization", ["x", "gamma", "beta"], ["y"], axis=-1)], inits=LN_INITS))
    assert ops(tf) == ["LayerNorm"]
    assert tf.nodes[0].inputs == ("x", "gamma", "beta")
    assert_alike(fused, tf)


def rmsnorm_forms() -> list:
    k = {"two": np.float32(2), "eps": np.float32(1e-6), "w": np.ones(8, np.float32), "one": np.float32(1)}
    k["mhalf"] = np.float32(-0.5)
    head = [
        node("Pow", ["x", "two"], ["sq"]),
        node("ReduceMean", ["sq"], ["var"], axes=[-1]),
        node("Add", ["var", "eps"], ["ve"]),
    ]
    return [
        model([node("SimplifiedLayerNormalization", ["x", "w"], ["y"], axis=-1)], inits=k),
        model([node("RMSNormalization", ["x", "w"], ["y"], axis=-1)], inits=k, opset=23),
        model(  # LLaMA, TorchScript: Sqrt → Reciprocal → Mul, cast back, weight
            [
                *head,
                node("Sqrt", ["ve"], ["s"]),
                node("Reciprocal", ["s"], ["r"]),
                node("Mul", ["x", "r"], ["n"]),
                node("Cast", ["n"], ["nc"], to=10),
                node("Mul", ["w", "nc"], ["y"]),
            ],
            inits=k,
        ),
        model(  # Div(1, Sqrt) and a Mul(x, x) square
            [
                node("Mul", ["x", "x"], ["sq"]),
                node("ReduceMean", ["sq"], ["var"], axes=[-1]),
                node("Add", ["var", "eps"], ["ve"]),
                node("Sqrt", ["ve"], ["s"]),
                node("Div", ["one", "s"], ["r"]),
                node("Mul", ["r", "x"], ["n"]),
                node("Mul", ["n", "w"], ["y"]),
            ],
            inits=k,
        ),
        model(
            [
                *head,
                node("Pow", ["ve", "mhalf"], ["r"]),
                node("Mul", ["x", "r"], ["n"]),
                node("Mul", ["n", "w"], ["y"]),
            ],
            inits=k,
        ),
        model(
            [
                *head,
                node("Sqrt", ["ve"], ["s"]),
                node("Div", ["x", "s"], ["n"]),
                node("Mul", ["w", "n"], ["y"]),
            ],
            inits=k,
        ),
    ]


@pytest.mark.parametrize("index", range(6))
def test_rmsnorm_forms_read_as_rmsnorm(index: int) -> None:
    g = norm(rmsnorm_forms()[index])
    assert ops(g) == ["RMSNorm"]
    assert g.nodes[0].inputs[0] == "x"


def test_groupnorm_fused_and_torch_export_read_alike() -> None:
    k = [
        tensor("groups", [0, 2, -1], np.int64),
        tensor("back", [0, 4, -1], np.int64),
        tensor("ones", np.ones(2, np.float32)),
        tensor("zeros", np.zeros(2, np.float32)),
        tensor("gamma", np.ones((4, 1), np.float32)),
        tensor("beta", np.full((4, 1), 0.5, np.float32)),
    ]
    fused = norm(
        model([node("GroupNormalization", ["x", "gamma", "beta"], ["y"], num_groups=2)], inits=k, opset=21)
    )
    exported = norm(
        model(
            [
                node("Reshape", ["x", "groups"], ["g"]),
                node("InstanceNormalization", ["g", "ones", "zeros"], ["n"]),
                node("Reshape", ["n", "back"], ["b"]),
                node("Mul", ["b", "gamma"], ["m"]),
                node("Add", ["m", "beta"], ["y"]),
            ],
            inits=k,
            shape=("batch", 4, 16),
        )
    )
    instance = norm(model([node("InstanceNormalization", ["x", "ones", "zeros"], ["y"])], inits=k))
    assert ops(fused) == ops(exported) == ["GroupNorm"]
    assert exported.nodes[0].inputs == ("x", "gamma", "beta")
    assert ops(instance) == ["InstanceNormalization"]


def test_skip_layernorm_splits_into_add_and_layernorm() -> None:
    fused = norm(
        model(
            [node("SkipLayerNormalization", ["x", "z", "gamma", "beta"], ["y"], domain="com.microsoft")],
            inputs=("x", "z"),
            inits=LN_INITS,
            extra_opsets={"com.microsoft": 1},
        )
    )
    plain = norm(
        model(
            [node("Add", ["x", "z"], ["s"]), node("LayerNormalization", ["s", "gamma", "beta"], ["y"])],
            inputs=("x", "z"),
            inits=LN_INITS,
        )
    )
    assert ops(fused) == ["Add", "LayerNorm"]
    assert_alike(fused, plain)


# --- quantised -------------------------------------------------------------------------------------
def test_qlinear_conv_and_conv_integer_read_as_quantised_conv() -> None:
    q = {
        "xs": np.float32(0.1),
        "ws": np.float32(0.1),
        "ys": np.float32(0.1),
    }
    u8 = [
        tensor("xz", 0, np.uint8),
        tensor("wz", 0, np.uint8),
        tensor("yz", 0, np.uint8),
        tensor("w", CONV_W, np.uint8),
    ]
    qlinear = norm(
        model(
            [
                node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
                node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["yq"]),
                node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
            ],
            inits=[*u8, *(tensor(k, v) for k, v in q.items())],
            shape=IMG,
        )
    )
    integer = norm(
        model(
            [node("ConvInteger", ["x", "w", "xz", "wz"], ["y"])],
            inits=u8,
            shape=IMG,
        )
    )
    floating = norm(model([node("Conv", ["x", "wf"], ["y"])], inits={"wf": CONV_W}, shape=IMG))
    for g in (qlinear, integer):
        assert ops(g) == ["Conv"]
        assert g.nodes[0].quantised
    assert not floating.nodes[0].quantised
    assert_alike(qlinear, floating)
    assert_alike(integer, floating)


def test_qdq_pairs_are_removed_and_the_consumer_is_flagged() -> None:
    qdq = norm(
        model(
            [
                node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
                node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
                node("DequantizeLinear", ["wq", "s", "z"], ["w"]),
                node("MatMul", ["xd", "w"], ["y"]),
            ],
            inits=[tensor("s", 0.1), tensor("z", 0, np.int8), tensor("wq", W, np.int8)],
        )
    )
    assert ops(qdq) == ["MatMul"]
    assert qdq.nodes[0].quantised
    assert qdq.normalisation["remove_quantisation_plumbing"] == 3


def test_dynamic_quantisation_reads_like_the_float_linear_layer() -> None:
    # onnxruntime's quantize_dynamic: DynamicQuantizeLinear → MatMulInteger → Cast → Mul(scales) → Add(bias)
    dyn = norm(
        model(
            [
                node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
                node("MatMulInteger", ["xq", "wq", "xz", "wz"], ["mi"]),
                node("Mul", ["xs", "ws"], ["scale"]),
                node("Cast", ["mi"], ["mf"], to=1),
                node("Mul", ["mf", "scale"], ["m"]),
                node("Add", ["m", "b"], ["y"]),
            ],
            inits=[tensor("wq", W, np.uint8), tensor("wz", 0, np.uint8), tensor("ws", 0.1), tensor("b", B)],
        )
    )
    floating = norm(
        model([node("MatMul", ["x", "w"], ["m"]), node("Add", ["m", "b"], ["y"])], inits={"w": W, "b": B})
    )
    assert ops(dyn) == ["MatMul"]
    assert dyn.nodes[0].quantised
    assert_alike(dyn, floating)


def test_matmul_nbits_reads_as_quantised_matmul() -> None:
    g = norm(
        model(
            [
                node(
                    "MatMulNBits",
                    ["x", "wq", "s"],
                    ["y"],
                    domain="com.microsoft",
                    K=8,
                    N=8,
                    bits=4,
                    block_size=32,
                )
            ],
            inits=[tensor("wq", np.zeros((8, 1, 16)), np.uint8), tensor("s", np.ones(8))],
            extra_opsets={"com.microsoft": 1},
        )
    )
    assert ops(g) == ["MatMul"] and g.nodes[0].quantised


# --- recurrent ----------------------------------------------------------------------------------------
def test_fused_lstm_and_gru_keep_their_canonical_names() -> None:
    lstm = norm(
        model(
            [node("LSTM", ["x", "w", "r"], ["y"], hidden_size=4)],
            inits={"w": np.ones((1, 16, 8), np.float32), "r": np.ones((1, 16, 4), np.float32)},
            shape=(5, 1, 8),
        )
    )
    gru = norm(
        model(
            [node("GRU", ["x", "w", "r"], ["y"], hidden_size=4)],
            inits={"w": np.ones((1, 12, 8), np.float32), "r": np.ones((1, 12, 4), np.float32)},
            shape=(5, 1, 8),
        )
    )
    assert ops(lstm) == ["LSTM"] and ops(gru) == ["GRU"]


# --- the pipeline as a whole -------------------------------------------------------------------------
def test_canonical_ops_named_in_the_docs_are_the_ones_rules_produce() -> None:
    produced = set()
    for forms in (relu6_forms(), hardswish_forms(), gelu_forms(), rmsnorm_forms()):
        for m in forms:
            produced.update(ops(norm(m)))
    assert produced <= CANONICAL_OPS


def test_every_rule_has_a_docstring() -> None:
    for rule in RULES:
        assert rule.__doc__, rule.__name__


def test_normalise_can_run_a_subset_of_rules() -> None:
    g = raw(model([node("Identity", ["x"], ["a"]), node("Relu", ["a"], ["y"])]))
    assert ops(normalise(g, rules=())) == ["Identity", "Relu"]
    assert normalise(g).nodes_before_normalisation == 2


def test_a_cyclic_graph_normalises_and_hashes_without_hanging() -> None:
    # Invalid ONNX (a cycle through Mul/Add/Sigmoid), but a file can say it: it must not hang.
    g = raw(
        model(
            [
                node("Add", ["x", "c"], ["a"]),
                node("Sigmoid", ["a"], ["s"]),
                node("Mul", ["s", "a"], ["c"]),
                node("Mul", ["c", "c"], ["y"]),
            ]
        )
    )
    start = time.perf_counter()
    out = normalise(g)
    out.wl_hash()
    assert time.perf_counter() - start < 2


def test_a_long_chain_normalises_in_linear_time() -> None:
    n = 20_000
    nodes = []
    prev = "x"
    for k in range(n):
        nodes.append(node("Identity" if k % 2 else "Relu", [prev], [f"t{k}"]))
        prev = f"t{k}"
    nodes.append(node("Relu", [prev], ["y"]))
    g = raw(model(nodes))
    start = time.perf_counter()
    out = normalise(g)
    assert time.perf_counter() - start < 3
    assert len(out.nodes) == n // 2 + 1
