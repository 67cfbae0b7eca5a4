"""Weight sketches: deterministic, streamed from external data in bounded memory, quantised weights
dequantised so that a quantised copy sketches like its float parent."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from modelgenes.errors import UnsafeModel
from modelgenes.genealogy.weights import (
    MIN_ELEMENTS,
    WeightSketch,
    compare,
    sample_positions,
    sketch_arrays,
    sketch_or_none,
    sketch_weights,
)

LINEAGE = Path(__file__).resolve().parents[3] / "tests" / "data" / "lineage"


def _lineage(hub_id: str) -> Path:
    org, name = hub_id.split("/")
    return next((LINEAGE / f"models--{org}--{name}").glob("snapshots/*/model.onnx"))


def _mlp(weights: dict[str, np.ndarray], path: Path, extra_nodes: list[onnx.NodeProto] | None = None) -> Path:
    """x → MatMul(W0) → Relu → MatMul(W1) ... with the given float initializers, saved at ``path``."""
    nodes = extra_nodes or []
    if not nodes:
        prev = "x"
        for i, name in enumerate(weights):
            nodes.append(helper.make_node("MatMul", [prev, name], [f"h{i}"]))
            prev = f"h{i}"
        nodes.append(helper.make_node("Relu", [prev], ["y"]))
    first = next(iter(weights.values()))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, first.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _weights(seed: int, shapes: tuple[tuple[int, int], ...] = ((32, 64), (64, 48))) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"w{i}": rng.normal(0, 0.05, s).astype(np.float32) for i, s in enumerate(shapes)}


# --------------------------------------------------------------------------------------------------
# Determinism and storage
# --------------------------------------------------------------------------------------------------
def test_sample_positions_depend_on_the_shape_only_and_share_a_prefix() -> None:
    a = sample_positions((64, 48), 16)
    assert np.array_equal(a, sample_positions((64, 48), 16))
    assert np.array_equal(sample_positions((64, 48), 64)[:16], a)
    assert not np.array_equal(sample_positions((64, 49), 16), a)
    assert a.min() >= 0 and a.max() < 64 * 48


def test_a_transposed_tensor_samples_the_same_elements() -> None:
    w = np.arange(64 * 48, dtype=np.float64).reshape(64, 48)
    direct = w.reshape(-1)[sample_positions(w.shape, 32)]
    transposed = np.ascontiguousarray(w.T).reshape(-1)[sample_positions(w.T.shape, 32)]
    assert np.array_equal(direct, transposed)


def test_a_square_tensor_samples_mirrored_pairs() -> None:
    w = np.arange(40 * 40, dtype=np.float64).reshape(40, 40)
    direct = w.reshape(-1)[sample_positions(w.shape, 16)]
    transposed = np.ascontiguousarray(w.T).reshape(-1)[sample_positions(w.shape, 16)]
    assert np.array_equal(direct.reshape(-1, 2)[:, ::-1].reshape(-1), transposed)


def test_sketching_the_same_file_twice_gives_the_same_sketch(tmp_path: Path) -> None:
    path = _mlp(_weights(0), tmp_path / "m.onnx")
    first, second = sketch_weights(path), sketch_weights(path)
    assert first == second
    assert first.shapes_hash == second.shapes_hash and first.shapes_hash is not None
    assert [t.shape for t in first.tensors] == [(32, 64), (64, 48)]


def test_statistics_cover_every_element_of_tensors_read_whole(tmp_path: Path) -> None:
    weights = _weights(1)
    sketch = sketch_weights(_mlp(weights, tmp_path / "m.onnx"))
    for t, w in zip(sketch.tensors, weights.values(), strict=True):
        w64 = w.astype(np.float64)
        # computed in float64 over every element, stored as float32
        assert t.mean == pytest.approx(w64.mean(), rel=1e-6, abs=1e-9)
        assert t.std == pytest.approx(w64.std(), rel=1e-6)
        assert t.norm == pytest.approx(float(np.linalg.norm(w64)), rel=1e-6)
        assert t.samples == tuple(float(v) for v in w.reshape(-1)[sample_positions(w.shape, sketch.k)])


def test_small_tensors_are_left_out() -> None:
    sketch = sketch_arrays([np.ones(MIN_ELEMENTS - 1), np.ones((16, 16))])
    assert [t.shape for t in sketch.tensors] == [(16, 16)]


def test_the_stored_form_round_trips_and_stays_small() -> None:
    rng = np.random.default_rng(3)
    for tensors in (14, 300, 1000):  # a tiny BERT, a 7B LLM (291 tensors), a large MoE
        sketch = sketch_arrays([rng.normal(size=(64, 64)) for _ in range(tensors)])
        props = sketch.to_props()
        assert WeightSketch.from_props(props) == sketch
        assert len(json.dumps(props)) < 21_000
        assert sketch.k >= 4 and sketch.k % 2 == 0


def test_shapes_hash_ignores_order_and_transposition() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(32, 64)), rng.normal(size=(64, 64))
    assert sketch_arrays([a, b]).shapes_hash == sketch_arrays([b, a.T]).shapes_hash
    assert sketch_arrays([a, b]).shapes_hash != sketch_arrays([a, a]).shapes_hash


# --------------------------------------------------------------------------------------------------
# Comparing
# --------------------------------------------------------------------------------------------------
def test_copies_reordered_or_transposed_are_at_distance_zero() -> None:
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=(48, 48)) for _ in range(4)] + [rng.normal(size=(48, 96))]
    original = sketch_arrays(arrays)
    shuffled = sketch_arrays([arrays[4].T, arrays[2], arrays[0].T, arrays[3], arrays[1]])
    found = compare(shuffled, original)
    assert found.distance == pytest.approx(0.0, abs=1e-12)
    assert found.paired == "by content" and found.coverage == 1.0


def test_independent_weights_are_about_root_two_apart_and_fully_unrelated() -> None:
    rng = np.random.default_rng(6)
    a = sketch_arrays([rng.normal(size=(64, 64)) for _ in range(6)])
    b = sketch_arrays([rng.normal(size=(64, 64)) for _ in range(6)])
    found = compare(a, b)
    assert 1.2 < found.distance < 1.6
    assert found.unrelated_share == 1.0


def test_a_small_perturbation_is_measured_and_adds_norm() -> None:
    rng = np.random.default_rng(7)
    base = [rng.normal(size=(64, 64)) for _ in range(6)]
    tuned = [w + rng.normal(scale=0.05, size=w.shape) for w in base]
    found = compare(sketch_arrays(tuned), sketch_arrays(base))
    assert found.distance == pytest.approx(0.05, rel=0.2)
    assert found.norm_drift > 0 and found.unrelated_share == 0.0


def test_pruning_shows_as_a_zeros_gain_with_a_small_distance_on_what_is_left() -> None:
    rng = np.random.default_rng(8)
    base = [rng.normal(size=(64, 64)) for _ in range(6)]
    pruned = [np.where(np.abs(w) < 0.5, 0.0, w) for w in base]  # ~38 % of the weights
    found = compare(sketch_arrays(pruned), sketch_arrays(base))
    assert found.zeros_gain == pytest.approx(0.38, abs=0.03)
    assert found.nonzero_distance < 1e-9 < found.distance


def test_different_shapes_are_not_comparable() -> None:
    rng = np.random.default_rng(9)
    found = compare(sketch_arrays([rng.normal(size=(64, 64))]), sketch_arrays([rng.normal(size=(32, 32))]))
    assert not found.comparable and math.isinf(found.distance)


# --------------------------------------------------------------------------------------------------
# Quantised weights are dequantised
# --------------------------------------------------------------------------------------------------
def _quantise(w: np.ndarray, axis: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric int8 quantisation, per tensor or per channel along ``axis``."""
    if axis is None:
        scale = np.array(np.abs(w).max() / 127, dtype=np.float32)
    else:
        reduce = tuple(i for i in range(w.ndim) if i != axis)
        scale = (np.abs(w).max(axis=reduce) / 127).astype(np.float32)
    shaped = scale if axis is None else np.expand_dims(scale, tuple(i for i in range(w.ndim) if i != axis))
    q = np.clip(np.round(w / shaped), -127, 127).astype(np.int8)
    return q, scale, np.zeros_like(scale, dtype=np.int8)


def _save(nodes: list[onnx.NodeProto], inits: list[TensorProto], path: Path, opset: int = 17) -> Path:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def test_qdq_weights_per_tensor_and_per_channel_are_dequantised(tmp_path: Path) -> None:
    w = _weights(10)
    float_sketch = sketch_weights(_mlp(w, tmp_path / "float.onnx"))
    q0, s0, z0 = _quantise(w["w0"])
    q1, s1, z1 = _quantise(w["w1"], axis=1)
    nodes = [
        helper.make_node("DequantizeLinear", ["q0", "s0", "z0"], ["w0"]),
        helper.make_node("DequantizeLinear", ["q1", "s1", "z1"], ["w1"], axis=1),
        helper.make_node("MatMul", ["x", "w0"], ["h0"]),
        helper.make_node("MatMul", ["h0", "w1"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(v, k)
        for k, v in {"q0": q0, "s0": s0, "z0": z0, "q1": q1, "s1": s1, "z1": z1}.items()
    ]
    sketch = sketch_weights(_save(nodes, inits, tmp_path / "qdq.onnx"))
    assert [t.dtype for t in sketch.tensors] == ["int8", "int8"] and sketch.skipped == 0
    assert sketch.shapes_hash == float_sketch.shapes_hash
    found = compare(sketch, float_sketch)
    assert found.distance < 0.02
    assert sketch.tensors[0].norm == pytest.approx(float_sketch.tensors[0].norm, rel=0.01)


def test_dynamic_quantisation_weights_find_their_scale_through_the_product(tmp_path: Path) -> None:
    w = _weights(11, ((32, 64),))
    float_sketch = sketch_weights(_mlp(w, tmp_path / "float.onnx"))
    q, scale, zero = _quantise(w["w0"])
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
        helper.make_node("MatMulInteger", ["xq", "W_quantized", "xz", "W_zero_point"], ["prod"]),
        helper.make_node("Cast", ["prod"], ["prodf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["xs", "W_scale"], ["scales"]),
        helper.make_node("Mul", ["prodf", "scales"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(q, "W_quantized"),
        numpy_helper.from_array(scale, "W_scale"),
        numpy_helper.from_array(zero.astype(np.int8), "W_zero_point"),
    ]
    sketch = sketch_weights(_save(nodes, inits, tmp_path / "dyn.onnx"))
    assert sketch.skipped == 0 and [t.dtype for t in sketch.tensors] == ["int8"]
    assert compare(sketch, float_sketch).distance < 0.02


def test_an_int8_tensor_with_no_scale_is_skipped_with_a_warning(tmp_path: Path) -> None:
    q = np.ones((32, 32), dtype=np.int8)
    nodes = [helper.make_node("Cast", ["q"], ["y"], to=TensorProto.FLOAT)]
    sketch = sketch_weights(_save(nodes, [numpy_helper.from_array(q, "q")], tmp_path / "m.onnx"))
    assert sketch.tensors == () and sketch.skipped == 1 and "no scale" in sketch.warnings[0]


def test_onnxruntime_quantised_copy_matches_its_float_parent() -> None:
    parent = sketch_weights(_lineage("lineage-lab/tiny-bert-sst2"))
    for hub_id in ("lineage-lab/tiny-bert-sst2-int8", "mirror/tiny-bert-sst2-q8"):  # int8; uint8 per channel
        child = sketch_weights(_lineage(hub_id))
        assert child.quantised and child.skipped == 0
        assert child.shapes_hash == parent.shapes_hash
        assert compare(child, parent).distance < 0.02
    grandparent = sketch_weights(_lineage("lineage-lab/tiny-bert"))
    assert compare(child, grandparent).distance > 5 * compare(child, parent).distance


def test_float16_copy_is_within_round_off(tmp_path: Path) -> None:
    w = _weights(12)
    half = {k: v.astype(np.float16) for k, v in w.items()}
    nodes = [
        helper.make_node("Cast", ["x"], ["xh"], to=TensorProto.FLOAT16),
        helper.make_node("MatMul", ["xh", "w0"], ["h0"]),
        helper.make_node("MatMul", ["h0", "w1"], ["y"]),
    ]
    sketch = sketch_weights(
        _save(nodes, [numpy_helper.from_array(v, k) for k, v in half.items()], tmp_path / "h.onnx")
    )
    assert [t.dtype for t in sketch.tensors] == ["float16", "float16"]
    assert compare(sketch, sketch_weights(_mlp(w, tmp_path / "f.onnx"))).distance < 1e-3


# --------------------------------------------------------------------------------------------------
# External data: read by ranges, memory bounded, confined to the model's folder
# --------------------------------------------------------------------------------------------------
def _external_model(folder: Path, shapes: dict[str, tuple[int, ...]], data: str = "weights.bin") -> Path:
    """A model whose initializers all live in one external file (a sparse file: ``truncate``)."""
    inits = []
    offset = 0
    for name, shape in shapes.items():
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=list(shape))
        t.data_location = TensorProto.EXTERNAL
        length = math.prod(shape) * 4
        for key, value in (("location", data), ("offset", str(offset)), ("length", str(length))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        inits.append(t)
        offset += length
    nodes = [helper.make_node("Identity", ["x"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        inits,
    )
    path = folder / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with open(folder / data, "wb") as f:
        f.truncate(offset)
    return path


def test_external_data_is_read_in_place(tmp_path: Path) -> None:
    path = _external_model(tmp_path, {"a": (64, 32), "b": (32, 48)})
    rng = np.random.default_rng(13)
    a = rng.normal(size=(64, 32)).astype(np.float32)
    with open(tmp_path / "weights.bin", "r+b") as f:
        f.write(a.tobytes())
    sketch = sketch_weights(path)
    assert [t.shape for t in sketch.tensors] == [(64, 32), (32, 48)]
    assert sketch.tensors[0].norm == pytest.approx(float(np.linalg.norm(a.astype(np.float64))), rel=1e-6)
    assert sketch.tensors[1].zeros == 1.0


def test_gigabytes_of_external_weights_are_sketched_in_bounded_memory(tmp_path: Path) -> None:
    # 2.25 GiB of weights in a sparse file: a 2 GiB matrix (block-sampled statistics) and a 256 MiB one
    # (read whole, chunk by chunk). The sketch runs in a fresh interpreter that reports its peak memory.
    path = _external_model(tmp_path, {"big": (1 << 15, 1 << 14), "mid": (1 << 13, 1 << 13)})
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from modelgenes.genealogy.weights import sketch_weights

        def high_water_kib():
            # VmHWM belongs to this program's own memory map (new at exec); ru_maxrss would also
            # count the forking parent's pages, i.e. the size of the test runner.
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

        before = high_water_kib()
        started = time.perf_counter()
        sketch = sketch_weights({str(path)!r})
        print(json.dumps({{
            "before_kib": before,
            "peak_kib": high_water_kib(),
            "seconds": time.perf_counter() - started,
            "shapes": [list(t.shape) for t in sketch.tensors],
            "zeros": [t.zeros for t in sketch.tensors],
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["shapes"] == [[1 << 15, 1 << 14], [1 << 13, 1 << 13]]
    assert report["zeros"] == [1.0, 1.0]
    assert report["peak_kib"] < 400 * 1024, report  # 2.25 GiB of weights, well under 400 MiB resident
    assert report["peak_kib"] - report["before_kib"] < 150 * 1024, report


def test_external_data_outside_the_model_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    _external_model(folder, {"a": (64, 32)}, data="../outside.bin")
    with pytest.raises(UnsafeModel):
        sketch_weights(folder / "model.onnx")


def test_missing_external_data_skips_the_tensor_with_a_warning(tmp_path: Path) -> None:
    path = _external_model(tmp_path, {"a": (64, 32)})
    (tmp_path / "weights.bin").unlink()
    sketch = sketch_weights(path)
    assert sketch.tensors == () and sketch.skipped == 1 and "external data" in sketch.warnings[0]


def test_ingest_gets_no_sketch_and_a_warning_instead_of_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage that is no protobuf")
    warnings: list[str] = []
    assert sketch_or_none(bad, warnings.append) is None
    assert warnings and warnings[0].startswith("weights not sketched")
