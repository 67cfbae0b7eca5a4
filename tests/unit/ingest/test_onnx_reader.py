"""The ONNX reader: flattening, functions, weights without data, external data safety, bad input."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from modelgenes.errors import UnreadableModel, UnsafeModel, UnsupportedFormat
from modelgenes.ingest.formats import read_model, reader_for
from modelgenes.ingest.formats.onnx import MAX_NODES, OnnxReader, graph_from_proto
from modelgenes.ingest.formats.protowire import encode_varint
from tests.unit.ingest.onnx_models import LIGHT_ZOO, model, node, ops, raw, save, tensor

LIGHT = sorted(LIGHT_ZOO.glob("*.onnx"))


# --- the onnx package's zoo ------------------------------------------------------------------------
@pytest.mark.parametrize("path", LIGHT, ids=[p.stem for p in LIGHT])
def test_light_zoo_models_read(path: Path) -> None:
    graph, info = read_model(path)
    assert info.format == "onnx" and info.opset == 9 and info.producer == "onnx-caffe2"
    assert 0 < len(graph.nodes) <= graph.nodes_before_normalisation
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info.size_bytes == path.stat().st_size
    assert info.params > 0


def test_parameter_counts_come_from_shapes() -> None:
    # The light zoo stores weights as ConstantOfShape(shape): counted from the shape, no data needed.
    assert read_model(LIGHT_ZOO / "light_resnet50.onnx")[1].params == pytest.approx(25.6e6, rel=0.01)
    assert read_model(LIGHT_ZOO / "light_vgg19.onnx")[1].params == pytest.approx(143.7e6, rel=0.01)


def test_sniff_accepts_onnx_and_rejects_other_content() -> None:
    reader = OnnxReader()
    assert reader.sniff((LIGHT_ZOO / "light_resnet50.onnx").read_bytes()[:64])
    for head in (b"\x89PNG\r\n\x1a\n", b"hello world\n", b'{"a": 1}', b"", b"\x08\x00", b"Bad input"):
        assert not reader.sniff(head)


# --- flattening --------------------------------------------------------------------------------------
def if_model() -> onnx.ModelProto:
    then = helper.make_graph(
        [node("Relu", ["x"], ["t"])],
        "then",
        [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)],
    )
    other = helper.make_graph(
        [node("Sigmoid", ["x"], ["e"])],
        "else",
        [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)],
    )
    return model(
        [
            node("ReduceSum", ["x"], ["s"], keepdims=0),
            node("Greater", ["s", "zero"], ["c"]),
            helper.make_node("If", ["c"], ["y"], name="branch", then_branch=then, else_branch=other),
        ],
        inits={"zero": np.float32(0)},
    )


def test_if_branches_are_both_flattened_with_origins() -> None:
    g = raw(if_model())
    by_op = {n.op: n for n in g.nodes}
    assert set(by_op) == {"ReduceSum", "Greater", "Relu", "Sigmoid", "If"}
    assert by_op["Relu"].origin == "branch/then_branch/Relu_t"
    assert by_op["Sigmoid"].origin == "branch/else_branch/Sigmoid_e"
    assert by_op["Relu"].inputs == ("x",)  # outer-scope name resolved
    assert by_op["Relu"].outputs == ("branch/then_branch/t",)  # local name made unique
    # branch outputs flow into the If node, which comes after its branches
    index = {n.op: i for i, n in enumerate(g.nodes)}
    assert (index["Relu"], index["If"]) in g.edges and (index["Sigmoid"], index["If"]) in g.edges
    assert index["If"] > index["Relu"]


def test_loop_body_inputs_alias_the_loop_inputs() -> None:
    body = helper.make_graph(
        [node("Identity", ["cond_in"], ["cond_out"]), node("Add", ["carried", "x"], ["next"])],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("carried", TensorProto.FLOAT, None),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("next", TensorProto.FLOAT, None),
        ],
    )
    m = model(
        [
            node("Relu", ["x"], ["start"]),
            helper.make_node("Loop", ["trips", "", "start"], ["y"], name="loop", body=body),
        ],
        inits=[tensor("trips", 3, np.int64)],
    )
    g = raw(m)
    add = next(n for n in g.nodes if n.op == "Add")
    assert add.inputs == ("start", "x")  # the carried value is the Loop's initial value
    index = {n.op: i for i, n in enumerate(g.nodes)}
    assert (index["Relu"], index["Add"]) in g.edges
    assert (index["Add"], index["Loop"]) in g.edges


def nested_ifs(depth: int, both: bool = False) -> onnx.ModelProto:
    """If inside If ``depth`` deep; ``both`` nests in both branches (2**depth nodes in all)."""

    def leaf(k: int) -> onnx.GraphProto:
        out = f"leaf{k}"
        return helper.make_graph(
            [node("Sigmoid", ["x"], [out])],
            f"l{k}",
            [],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        )

    inner = helper.make_graph(
        [node("Relu", ["x"], ["r0"])],
        "g0",
        [],
        [helper.make_tensor_value_info("r0", TensorProto.FLOAT, None)],
    )
    for k in range(1, depth):
        other = inner if both else leaf(k)
        n = helper.make_node("If", ["c"], [f"r{k}"], name=f"if{k}", then_branch=inner, else_branch=other)
        inner = helper.make_graph(
            [n], f"g{k}", [], [helper.make_tensor_value_info(f"r{k}", TensorProto.FLOAT, None)]
        )
    top = helper.make_node("If", ["c"], ["y"], name="top", then_branch=inner, else_branch=leaf(0))
    return model([node("Cast", ["flag"], ["c"], to=9), top], inputs=("x", "flag"))


def test_nested_ifs_flatten_every_branch() -> None:
    g = raw(nested_ifs(8, both=True))
    assert ops(g).count("Relu") == 2**7
    assert ops(g).count("If") == 2**7
    assert len({n.name for n in g.nodes}) == len(g.nodes)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (appending one to a serialised message adds it)."""
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def deep_if_bytes(depth: int) -> bytes:
    """A serialised model with Ifs nested ``depth`` deep, written field by field: ``onnx.helper``
    cannot build it past protobuf's nesting limit, but a file can say it."""
    graph = helper.make_graph(
        [node("Relu", ["x"], ["r0"])],
        "g0",
        [],
        [helper.make_tensor_value_info("r0", TensorProto.FLOAT, None)],
    ).SerializeToString()
    for k in range(1, depth + 1):
        out = "y" if k == depth else f"r{k}"
        attr = onnx.AttributeProto(name="then_branch", type=onnx.AttributeProto.GRAPH).SerializeToString()
        other = helper.make_graph(
            [node("Sigmoid", ["x"], [f"s{k}"])],
            "e",
            [],
            [helper.make_tensor_value_info(f"s{k}", TensorProto.FLOAT, None)],
        )
        n = helper.make_node("If", ["c"], [out], name=f"if{k}", else_branch=other).SerializeToString()
        n += _field(5, attr + _field(6, graph))
        if k == depth:
            return _wrap_model(n)
        shell = helper.make_graph(
            [], f"g{k}", [], [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)]
        )
        graph = shell.SerializeToString() + _field(1, n)
    raise AssertionError("unreachable")


def _wrap_model(if_node: bytes) -> bytes:
    base = model([node("Cast", ["flag"], ["c"], to=9)], inputs=("x", "flag"))
    graph = base.graph.SerializeToString() + _field(1, if_node)
    base.ClearField("graph")
    return base.SerializeToString() + _field(7, graph)


def test_deep_if_nesting_does_not_exhaust_the_recursion_limit(tmp_path: Path) -> None:
    sys.setrecursionlimit(1000)  # the default: the walk must not depend on it
    g = raw(nested_ifs(25))
    assert ops(g).count("If") == 25
    assert max(n.origin.count("then_branch") for n in g.nodes) == 25
    for depth in (20, 200, 5000):
        path = tmp_path / f"deep{depth}.onnx"
        path.write_bytes(deep_if_bytes(depth))
        start = time.perf_counter()
        try:
            graph, _ = read_model(path)
            assert len(graph.nodes) > depth  # read: every level flattened
        except UnreadableModel as e:  # past protobuf's own nesting limit: an error naming the file
            assert path.name in str(e) and depth > 20
        assert time.perf_counter() - start < 10


def function_model(recursive: bool = False) -> onnx.ModelProto:
    alpha = helper.make_attribute_ref("alpha", TensorProto.FLOAT)
    leaky = helper.make_node("LeakyRelu", ["h"], ["out"], name="act")
    leaky.attribute.append(alpha)
    body = [helper.make_node("MatMul", ["inp", "w"], ["h"], name="mm"), leaky]
    if recursive:
        body.append(helper.make_node("Block", ["out", "w"], ["again"], domain="com.test"))
    block = helper.make_function(
        "com.test", "Block", ["inp", "w"], ["out"], body, [helper.make_opsetid("", 17)], attributes=["alpha"]
    )
    return model(
        [
            helper.make_node("Block", ["x", "w"], ["a"], name="first", domain="com.test", alpha=0.1),
            helper.make_node("Block", ["a", "w"], ["y"], name="second", domain="com.test", alpha=0.2),
        ],
        inits={"w": np.ones((8, 8), np.float32)},
        functions=[block],
    )


def test_local_functions_are_inlined_with_their_attributes() -> None:
    g = raw(function_model())
    assert ops(g) == ["MatMul", "LeakyRelu", "MatMul", "LeakyRelu"]
    assert [n.origin for n in g.nodes] == ["first/mm", "first/act", "second/mm", "second/act"]
    assert [n.attributes.get("alpha") for n in g.nodes[1::2]] == [pytest.approx(0.1), pytest.approx(0.2)]
    assert g.nodes[1].outputs == ("a",) and g.nodes[2].inputs == ("a", "w")
    assert g.edges == ((0, 1), (1, 2), (2, 3))


def test_a_recursive_function_is_refused() -> None:
    with pytest.raises(UnreadableModel, match="calls itself"):
        raw(function_model(recursive=True))


def test_a_function_expanding_past_the_node_limit_is_refused_quickly() -> None:
    functions = [
        helper.make_function(
            "com.test", "F0", ["a"], ["b"], [node("Relu", ["a"], ["b"])], [helper.make_opsetid("", 17)]
        )
    ]
    for k in range(1, 40):  # F_k calls F_{k-1} twice: 2**39 nodes if expanded
        body = [
            helper.make_node(f"F{k - 1}", ["a"], ["m"], domain="com.test"),
            helper.make_node(f"F{k - 1}", ["m"], ["b"], domain="com.test"),
        ]
        functions.append(
            helper.make_function("com.test", f"F{k}", ["a"], ["b"], body, [helper.make_opsetid("", 17)])
        )
    m = model([helper.make_node("F39", ["x"], ["y"], domain="com.test")], functions=functions)
    start = time.perf_counter()
    with pytest.raises(UnreadableModel, match=str(MAX_NODES)):
        graph_from_proto(m)
    assert time.perf_counter() - start < 1


# --- weights without data ------------------------------------------------------------------------------
def external_model(folder: Path, location: str, dims: tuple[int, ...] = (1024, 1024)) -> Path:
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=dims)
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value=location)
    weight.external_data.add(key="offset", value="0")
    weight.external_data.add(key="length", value=str(4 * int(np.prod(dims))))
    m = model([node("MatMul", ["x", "w"], ["y"])], inits=[weight], shape=("batch", dims[0]))
    return save(m, folder / "model.onnx")


@pytest.fixture()
def opened_files() -> Iterator[list[str]]:
    """Every file Python opens while the test runs (audit hook: also catches os.open)."""
    seen: list[str] = []
    active = [True]

    def hook(event: str, args: tuple) -> None:
        if active[0] and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
            seen.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)
    yield seen
    active[0] = False


def test_gigabytes_of_external_weights_are_counted_not_read(tmp_path: Path, opened_files: list[str]) -> None:
    dims = (65536, 16384)  # 4 GiB of float32
    path = external_model(tmp_path, "weights.bin", dims)
    with (tmp_path / "weights.bin").open("wb") as f:
        f.truncate(4 * dims[0] * dims[1])  # sparse: no blocks on disk
    opened_files.clear()
    graph, info = read_model(path)
    assert info.params == dims[0] * dims[1]
    assert info.external_data_bytes == 4 * dims[0] * dims[1]
    assert graph.initializers[0].shape == dims
    assert not [f for f in opened_files if f.endswith("weights.bin")]


def test_reading_a_model_with_huge_external_weights_stays_small_in_memory(tmp_path: Path) -> None:
    dims = (262144, 16384)  # 16 GiB, sparse
    path = external_model(tmp_path, "weights.bin", dims)
    with (tmp_path / "weights.bin").open("wb") as f:
        f.truncate(4 * dims[0] * dims[1])
    code = (
        "import resource, sys\n"
        "from modelgenes.ingest.formats import read_model\n"
        "g, i = read_model(sys.argv[1])\n"
        "print(i.params, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    params, max_rss_kib = map(int, out.stdout.split())
    assert params == dims[0] * dims[1]
    assert max_rss_kib < 400 * 1024


def test_a_missing_external_data_file_is_a_warning(tmp_path: Path) -> None:
    _, info = read_model(external_model(tmp_path, "gone.bin"))
    assert info.params == 1024 * 1024
    assert any("gone.bin" in w for w in info.warnings)


@pytest.mark.parametrize(
    "location",
    ["/etc/passwd", "../outside.bin", "sub/../../outside.bin", "C:\\weights.bin", "\\\\server\\w.bin"],
)
def test_external_data_leaving_the_folder_is_refused(
    tmp_path: Path, location: str, opened_files: list[str]
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    path = external_model(folder, location)
    opened_files.clear()
    with pytest.raises(UnsafeModel, match="external data location"):
        read_model(path)
    assert all(Path(f).resolve() == path.resolve() for f in opened_files)


def test_external_data_symlink_pointing_outside_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 16)
    (folder / "weights.bin").symlink_to(tmp_path / "secret.bin")
    with pytest.raises(UnsafeModel, match="resolves outside"):
        read_model(external_model(folder, "weights.bin"))


def test_external_data_in_a_hugging_face_cache_may_point_into_blobs(tmp_path: Path) -> None:
    repo = tmp_path / "models--org--tiny"
    snapshot = repo / "snapshots" / "abc123"
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    with (repo / "blobs" / "f00d").open("wb") as f:
        f.truncate(4 * 1024 * 1024)
    (snapshot / "weights.bin").symlink_to(Path("../../blobs/f00d"))
    _, info = read_model(external_model(snapshot, "weights.bin"))
    assert info.external_data_bytes == 4 * 1024 * 1024


# --- bad input ------------------------------------------------------------------------------------------
def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableModel, match="no such file") as e:
        read_model(tmp_path / "nothere.onnx")
    assert "nothere.onnx" in str(e.value)


def test_an_empty_file_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(UnreadableModel, match="empty file"):
        read_model(tmp_path / "empty.onnx")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_a_truncated_model_is_unreadable(tmp_path: Path, fraction: float) -> None:
    data = (LIGHT_ZOO / "light_inception_v1.onnx").read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(UnreadableModel) as e:
        read_model(path)
    assert "cut.onnx" in str(e.value)


def test_random_bytes_are_unreadable(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    for k in range(200):
        data = rng.integers(0, 256, size=int(rng.integers(1, 4096)), dtype=np.uint8).tobytes()
        if k % 2:
            data = b"\x08\x07" + data  # looks like an ONNX start, then garbage
        path = tmp_path / f"random{k}.onnx"
        path.write_bytes(data)
        with pytest.raises(UnreadableModel):
            read_model(path)


@pytest.mark.parametrize(
    ("content", "looks_like"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "PNG"),
        (b"just some notes\nabout a model\n", "text"),
        (b'{"architectures": ["BertModel"]}', "JSON"),
        (b"PK\x03\x04" + b"\0" * 64, "zip"),
        (b"GGUF\x03\x00\x00\x00" + b"\0" * 64, "GGUF"),
    ],
)
def test_other_formats_are_named(tmp_path: Path, content: bytes, looks_like: str) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(UnsupportedFormat, match=looks_like):
        read_model(path)


def test_a_directory_named_onnx_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "x.onnx").mkdir()
    with pytest.raises(UnreadableModel, match="is a directory"):
        read_model(tmp_path / "x.onnx")


def test_symlink_loops_and_dangling_symlinks_are_unreadable(tmp_path: Path) -> None:
    (tmp_path / "a.onnx").symlink_to(tmp_path / "b.onnx")
    (tmp_path / "b.onnx").symlink_to(tmp_path / "a.onnx")
    (tmp_path / "c.onnx").symlink_to(tmp_path / "gone.onnx")
    with pytest.raises(UnreadableModel, match="symlink loop"):
        read_model(tmp_path / "a.onnx")
    with pytest.raises(UnreadableModel, match="dangling symlink"):
        read_model(tmp_path / "c.onnx")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.onnx")
    with pytest.raises(UnreadableModel, match="not a regular file"):
        reader_for(tmp_path / "pipe.onnx")


def test_a_protobuf_that_is_not_a_model_is_unreadable(tmp_path: Path) -> None:
    no_graph = onnx.ModelProto(ir_version=8)
    no_graph.opset_import.add(version=17)
    path = save(no_graph, tmp_path / "nograph.onnx")
    with pytest.raises(UnreadableModel, match="no graph"):
        read_model(path)


# --- odd but valid (or survivable) graphs --------------------------------------------------------------
def test_dangling_inputs_and_unknown_domains_are_kept(tmp_path: Path) -> None:
    m = model(
        [node("Mystery", ["x", "nowhere"], ["a"], domain="com.vendor"), node("Relu", ["a"], ["y"])],
        extra_opsets={"com.vendor": 1},
    )
    graph, _ = read_model(save(m, tmp_path / "odd.onnx"))
    assert ops(graph) == ["Mystery", "Relu"]
    assert graph.nodes[0].domain == "com.vendor"


def test_a_cyclic_file_reads_without_hanging(tmp_path: Path) -> None:
    m = model([node("Add", ["x", "b"], ["a"]), node("Relu", ["a"], ["b"]), node("Sigmoid", ["b"], ["y"])])
    start = time.perf_counter()
    graph, _ = read_model(save(m, tmp_path / "cycle.onnx"))
    graph.wl_hash()
    assert time.perf_counter() - start < 5
    assert (0, 1) in graph.edges and (1, 0) in graph.edges


def test_a_200k_node_graph_reads_in_seconds(tmp_path: Path) -> None:
    n = 200_000
    g = onnx.GraphProto(name="big")
    kinds = ("Relu", "Identity", "Sigmoid", "Tanh")
    prev = "x"
    for k in range(n):
        item = g.node.add()
        item.op_type = kinds[k % 4]
        item.input.append(prev)
        prev = f"t{k}"
        item.output.append(prev)
    g.input.append(helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8]))
    g.output.append(helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 8]))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    path = save(m, tmp_path / "big.onnx")
    start = time.perf_counter()
    graph, _info = read_model(path)
    archhash = graph.wl_hash()
    elapsed = time.perf_counter() - start
    assert graph.nodes_before_normalisation == n
    assert len(graph.nodes) == n - n // 4
    assert len(archhash) == 64
    assert elapsed < 20, elapsed


# --- large files: weights skipped at the wire level ------------------------------------------------------
def big_model(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    m = model(
        [
            node("MatMul", ["x", "w"], ["h"]),
            node("Add", ["h", "bias"], ["a"]),
            node("Clip", ["a", "lo", "hi"], ["r"]),
            node("MatMul", ["r", "r2"], ["s"]),
            node("Add", ["s", "zeros"], ["y"]),
        ],
        inits={
            "w": rng.standard_normal((8, 600_000), dtype=np.float32),  # 19 MB
            "bias": rng.standard_normal(600_000, dtype=np.float32),
            "lo": np.float32(0),
            "hi": np.float32(6),
            "r2": rng.standard_normal((600_000, 8), dtype=np.float32),
            "zeros": np.zeros((1, 16, 16), np.float32),
        },
    )
    return save(m, folder / "big.onnx")


def test_large_files_read_the_same_with_weights_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelgenes.ingest.formats.onnx as reader

    path = big_model(tmp_path)
    assert path.stat().st_size > reader.STRIP_FROM_BYTES
    stripped_graph, stripped_info = read_model(path)
    monkeypatch.setattr(reader, "STRIP_FROM_BYTES", 1 << 40)
    full_graph, full_info = read_model(path)
    assert stripped_info == full_info
    assert stripped_graph == full_graph
    assert stripped_graph.constants["hi"] == (6.0,) and "zeros" in stripped_graph.zero_tensors
    assert [n.op for n in stripped_graph.nodes] == ["MatMul", "Relu6", "MatMul", "Add"]
    assert stripped_info.params == full_info.params > 9_000_000


def test_a_truncated_large_file_is_unreadable(tmp_path: Path) -> None:
    path = big_model(tmp_path)
    data = path.read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(data[: len(data) - 1000])
    with pytest.raises(UnreadableModel, match=r"cut\.onnx"):
        read_model(cut)
