"""ONNX reader: a ``.onnx`` protobuf into a raw, flattened ``ModelGraph`` without loading weight data.

What "flattened" means here:
- the nodes of every If/Loop/Scan subgraph (both branches of an If) are lifted into the one graph,
  their tensor names prefixed with the path to them (``If_3/then_branch/x``) so that names stay
  unique; a subgraph's formal inputs (Loop/Scan body inputs) are aliased to the tensors the
  control-flow node receives, and its outputs become extra inputs of the control-flow node, so data
  flows outer producers → body nodes → control-flow node → its consumers (a DAG: one iteration);
- calls of the model's local functions are replaced by the function bodies (formal parameters
  aliased to the actual tensors, ``ref_attr_name`` attributes bound to the call's attributes);
- each node's ``origin`` is its path in the file: ``Loop_2/body/If_0/else_branch/Add_1`` or
  ``CallNode/com.example.Block/MatMul_0`` for inlined functions.

Weights are never materialised: initializer shapes come from ``dims`` (also for external-data
tensors, whose ``location`` is checked but never opened), and only tensors of at most
``SMALL_CONSTANT`` elements stored inside the file have their values decoded (the scalars that
normalisation rules such as ``Clip(0, 6)`` → ``Relu6`` need). Walking subgraphs and functions uses an
explicit stack, never recursion, so deep nesting cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, ClassVar

import numpy as np
import onnx
from google.protobuf.message import DecodeError

from modelgenes.errors import UnreadableModel, UnsafeModel
from modelgenes.ingest.formats import ModelReader
from modelgenes.ingest.formats.protowire import WireError, encode_varint, read_varint
from modelgenes.ingest.graph import Initializer, ModelGraph, ModelInfo, OpNode, Shape

__all__ = [
    "MAX_NODES",
    "SMALL_CONSTANT",
    "OnnxReader",
    "data_flow_edges",
    "graph_from_proto",
    "load_model_proto",
]

SMALL_CONSTANT = 64  # constant tensors up to this many elements keep their values
MAX_NODES = 1_000_000  # a file expanding (functions inlined) past this is refused, not ground through

_DTYPE_NAMES: dict[int, str] = {v: k.lower() for k, v in onnx.TensorProto.DataType.items()}
_EXTERNAL = onnx.TensorProto.EXTERNAL

# ModelProto fields (number → wire type) a serialised model can start with; used by ``sniff``.
_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2, 26: 2}

_A = onnx.AttributeProto
_NP_DTYPES: dict[int, Any] = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.INT8: np.int8,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.INT16: np.int16,
    onnx.TensorProto.UINT16: np.uint16,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.UINT32: np.uint32,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.UINT64: np.uint64,
    onnx.TensorProto.BOOL: np.bool_,
}
_INT_TYPES = {
    onnx.TensorProto.INT8,
    onnx.TensorProto.UINT8,
    onnx.TensorProto.INT16,
    onnx.TensorProto.UINT16,
    onnx.TensorProto.INT32,
    onnx.TensorProto.UINT32,
    onnx.TensorProto.INT64,
    onnx.TensorProto.UINT64,
    onnx.TensorProto.BOOL,
}


class OnnxReader(ModelReader):
    """Reads ONNX protobuf files (``.onnx``, whatever their name)."""

    format: ClassVar[str] = "onnx"

    def sniff(self, head: bytes) -> bool:
        """True when the file starts like a serialised ModelProto: ``ir_version`` (field 1, written
        first by every protobuf serialiser) with a plausible value, then another ModelProto field."""
        if head[:1] != b"\x08":
            return False
        try:
            version, pos = read_varint(head, 1)
            if not 1 <= version <= 64:
                return False
            if pos >= len(head):
                return True
            tag, _ = read_varint(head, pos)
        except WireError:
            return False
        # ir_version is not repeated: a second field 1 is a TensorProto's repeated dims.
        return tag > 0 and tag >> 3 != 1 and _MODEL_FIELDS.get(tag >> 3) == tag & 7

    def read(self, path: Path) -> tuple[ModelGraph, ModelInfo]:
        """The raw flattened graph and the file's own info (no sha256, no metadata)."""
        return graph_from_proto(load_model_proto(path), path)


def graph_from_proto(model: onnx.ModelProto, path: Path | None = None) -> tuple[ModelGraph, ModelInfo]:
    """The raw flattened graph of an in-memory ModelProto, and the info it states.

    ``path`` is where the model lives: external-data locations are checked against its folder
    (the current directory when None). Tests build models with ``onnx.helper`` and call this.
    """
    where = path if path is not None else Path("<memory>.onnx")
    flat = _Flattener(where, model)
    flat.run()
    opset = None
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            opset = int(imp.version)
    info = ModelInfo(
        sha256="",
        path=str(where),
        format=OnnxReader.format,
        producer=model.producer_name,
        producer_version=model.producer_version,
        opset=opset,
        ir_version=int(model.ir_version),
        external_data_bytes=flat.external_bytes,
        warnings=tuple(flat.warnings),
    )
    return flat.graph(), info


def load_model_proto(path: Path) -> onnx.ModelProto:
    """Parse ``path`` as a ModelProto (weights stay as bytes; external data is not loaded) and check
    that it really is one: protobuf happily "parses" many random byte strings.
    """
    try:
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise UnreadableModel(path, "empty file")
            if size >= 1 << 31:
                cause = f"{size} bytes: one ONNX protobuf cannot exceed 2 GiB (weights go in external data)"
                raise UnreadableModel(path, cause)
            stripped = _read_stripped(f, size) if size >= STRIP_FROM_BYTES else None
            data = stripped if stripped is not None else f.read()
        model = onnx.ModelProto()
        consumed = model.ParseFromString(data)
        if stripped is not None:
            size = len(stripped)  # the check below is against what was parsed
        del data
    except UnreadableModel:
        raise
    except DecodeError as e:
        raise UnreadableModel(path, f"not a valid ONNX protobuf (truncated or corrupt): {e}") from e
    except (OSError, ValueError) as e:
        raise UnreadableModel(path, f"cannot read the file: {e}") from e
    except RecursionError as e:  # protobuf's own nesting limit is the usual guard; belt and braces
        raise UnreadableModel(path, "protobuf nesting too deep") from e
    if consumed is not None and consumed != size:
        raise UnreadableModel(path, f"protobuf parse stopped after {consumed} of {size} bytes")
    _check_is_model(path, model)
    return model


# Large files: weights are skipped at the wire level instead of being copied twice (read, then parse).
STRIP_FROM_BYTES = 16 << 20  # files at least this big are read this way
_KEEP_PAYLOAD = 1024  # tensor payloads up to this many bytes are kept (small constants' values)
_KEEP_ZERO_PAYLOAD = 4 << 20  # all-zero payloads up to this size are kept (folded zero masks)
# TensorProto fields holding element data: float_data, int32_data, int64_data, raw_data, double_data,
# uint64_data. string_data (6) stays: strings are not weights.
_PAYLOAD_FIELDS = frozenset({4, 5, 7, 9, 10, 11})


def _read_stripped(f: Any, size: int) -> bytes | None:
    """The file's ModelProto re-serialised without the element data of large main-graph initializers
    (dims, type, name and external-data entries kept), read through a memory map so that the weights
    are never copied. None when the bytes are not a well-formed message: the normal parse then says
    what is wrong."""
    try:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    try:
        view = memoryview(mm)
        try:
            return _strip_message(view, 0, size, _strip_model_field)
        finally:
            view.release()
    except WireError:
        return None
    finally:
        mm.close()


_Rewrite = Callable[[memoryview, int, int, int], "bytes | None"]


def _strip_message(view: memoryview, start: int, end: int, rewrite: _Rewrite) -> bytes:
    """Copy the message in ``view[start:end]`` field by field; ``rewrite(view, field, begin, stop)`` may
    return new bytes for a length-delimited field's payload (None keeps it, b"" with a field number
    of -1 drops it)."""
    parts: list[bytes | memoryview] = []
    pos = start
    copied = start  # fields from here to pos are copied as one run
    while pos < end:
        field_start = pos
        tag, pos = read_varint(view, pos, end)
        tag_end = pos
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            _, pos = read_varint(view, pos, end)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = read_varint(view, pos, end)
            begin, pos = pos, pos + length
            if pos > end:
                raise WireError
            new = rewrite(view, field, begin, pos)
            if new is not None:
                parts.append(view[copied:field_start])
                if new:
                    parts.append(view[field_start:tag_end])
                    parts.append(encode_varint(len(new)))
                    parts.append(new)
                copied = pos
        else:
            raise WireError
        if pos > end:
            raise WireError
    parts.append(view[copied:end])
    return b"".join(parts)


def _strip_model_field(view: memoryview, field: int, begin: int, end: int) -> bytes | None:
    if field == 7:  # ModelProto.graph
        return _strip_message(view, begin, end, _strip_graph_field)
    return None


def _strip_graph_field(view: memoryview, field: int, begin: int, end: int) -> bytes | None:
    if field == 5 and end - begin > _KEEP_PAYLOAD:  # GraphProto.initializer
        return _strip_message(view, begin, end, _strip_tensor_field)
    return None


def _strip_tensor_field(view: memoryview, field: int, begin: int, end: int) -> bytes | None:
    if field not in _PAYLOAD_FIELDS or end - begin <= _KEEP_PAYLOAD:
        return None
    if end - begin <= _KEEP_ZERO_PAYLOAD:
        payload = np.frombuffer(view[begin:end], dtype=np.uint8)
        if not payload[:64].any() and not payload.any():
            return None  # an all-zero tensor: kept, so that normalisation can tell
    return b""  # dropped


def _check_is_model(path: Path, model: onnx.ModelProto) -> None:
    if not model.HasField("graph"):
        raise UnreadableModel(path, "not an ONNX model: the protobuf has no graph")
    if not 1 <= model.ir_version <= 64:
        raise UnreadableModel(path, f"not an ONNX model: implausible ir_version {model.ir_version}")
    if model.ir_version >= 3 and not model.opset_import:
        raise UnreadableModel(path, "not an ONNX model (or truncated): no opset_import")
    if not model.graph.node:
        raise UnreadableModel(path, "the ONNX graph has no nodes")
    for node in model.graph.node[:16]:
        if not node.op_type:
            raise UnreadableModel(path, "not an ONNX model: a node without op_type")


def _dtype_name(elem_type: int) -> str:
    return _DTYPE_NAMES.get(elem_type, f"dtype{elem_type}")


def _small_values(t: onnx.TensorProto) -> tuple[float | int, ...] | None:
    """The values of a small tensor stored inside the file; None when large, external or exotic."""
    if t.data_location == _EXTERNAL or t.HasField("segment"):
        return None
    n = 1
    for d in t.dims:
        n *= d
    if n > SMALL_CONSTANT or n < 0:
        return None
    np_dtype = _NP_DTYPES.get(t.data_type)
    if np_dtype is None:
        return None
    try:
        if t.raw_data:
            arr = np.frombuffer(t.raw_data, dtype=np.dtype(np_dtype).newbyteorder("<"))
        elif t.data_type == onnx.TensorProto.FLOAT:
            arr = np.asarray(t.float_data, dtype=np.float32)
        elif t.data_type == onnx.TensorProto.DOUBLE:
            arr = np.asarray(t.double_data, dtype=np.float64)
        elif t.data_type == onnx.TensorProto.INT64:
            arr = np.asarray(t.int64_data, dtype=np.int64)
        elif t.data_type in (onnx.TensorProto.UINT32, onnx.TensorProto.UINT64):
            arr = np.asarray(t.uint64_data, dtype=np.uint64)
        elif t.data_type == onnx.TensorProto.FLOAT16:
            arr = np.asarray(t.int32_data, dtype=np.uint16).view(np.float16)
        else:  # int8/16/32, uint8/16, bool: stored widened in int32_data
            arr = np.asarray(t.int32_data, dtype=np.int64)
    except ValueError:
        return None
    if arr.size != n:
        return None
    if t.data_type in _INT_TYPES:
        return tuple(int(v) for v in arr.tolist())
    return tuple(float(v) for v in arr.tolist())


_ZERO_CHECK_ELEMENTS = 1 << 20  # reading raw_data copies it: only tensors up to 1M elements are checked


def _all_zero(t: onnx.TensorProto, elements: int) -> bool:
    """True for a tensor stored inside the file whose bytes are all zero (a folded zero mask, up to
    ``_ZERO_CHECK_ELEMENTS`` elements: larger tensors are weights, not masks)."""
    if elements > _ZERO_CHECK_ELEMENTS:
        return False
    raw = t.raw_data
    if not raw or raw[:64].count(0) != min(64, len(raw)):
        return False
    return raw.count(0) == len(raw)


def _shape_of(value_info: onnx.ValueInfoProto) -> Shape | None:
    tt = value_info.type.tensor_type
    if not tt.HasField("shape"):
        return None
    dims: list[int | str | None] = []
    for d in tt.shape.dim:
        which = d.WhichOneof("value")
        if which == "dim_value":
            dims.append(int(d.dim_value))
        elif which == "dim_param":
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return tuple(dims)


class _Scope:
    """Tensor names of one graph body: names it defines map to flattened names; others resolve in the
    enclosing scope (If/Loop/Scan bodies see outer names) or, for a function body (``closed``), nowhere."""

    __slots__ = ("closed", "parent", "prefix", "rename")

    def __init__(self, prefix: str, parent: _Scope | None, closed: bool = False) -> None:
        self.prefix = prefix
        self.parent = parent
        self.closed = closed
        self.rename: dict[str, str] = {}

    def lookup(self, name: str) -> str:
        if not name:
            return name
        scope: _Scope | None = self
        while scope is not None:
            found = scope.rename.get(name)
            if found is not None:
                return found
            if scope.closed:
                # A function body naming something it does not define: dangling, kept local.
                return f"{scope.prefix}/{name}"
            scope = scope.parent
        return name

    def define(self, name: str) -> str:
        if not name:
            return name
        found = self.rename.get(name)
        if found is not None and self.closed:
            return found  # a function's formal output, bound to the call's actual output
        if not self.prefix:
            return name
        new = f"{self.prefix}/{name}"
        self.rename[name] = new
        return new


@dataclass
class _Emit:
    """A control-flow node waiting for its subgraphs: emitted once they are flattened."""

    node: onnx.NodeProto
    origin: str
    domain: str
    inputs: list[str]
    attributes: dict[str, Any]
    outputs: list[str]


@dataclass
class _Frame:
    """One graph body being walked (the main graph, a subgraph, or an inlined function)."""

    nodes: Sequence[onnx.NodeProto]
    scope: _Scope
    origin: str  # path prefix for node origins ("" for the main graph)
    functions: frozenset[tuple[str, str, str]]  # functions being inlined on the way here
    bindings: dict[str, onnx.AttributeProto] | None = None  # a function call's attributes
    outputs: list[str] = field(default_factory=list)  # subgraph outputs (names in its own scope)
    parent: _Emit | None = None  # the control-flow node the subgraph belongs to
    i: int = 0


class _Flattener:
    """Walks a ModelProto into flat lists, with an explicit stack (no recursion)."""

    def __init__(self, path: Path, model: onnx.ModelProto) -> None:
        self.path = path
        self.model = model
        self.folder = path.absolute().parent
        self.allowed_roots = _allowed_roots(self.folder)
        self.nodes: list[OpNode] = []
        self.used_names: set[str] = set()
        self.initializers: list[Initializer] = []
        self.initializer_names: set[str] = set()
        self.constants: dict[str, tuple[float | int, ...]] = {}
        self.shapes: dict[str, Shape] = {}
        self.dtypes: dict[str, str] = {}
        self.external_files: dict[str, int] = {}
        self.zeros: set[str] = set()
        self.external_bytes = 0
        self.warnings: list[str] = []
        self.functions: dict[tuple[str, str, str], onnx.FunctionProto] = {
            (_domain(f.domain), f.name, f.overload): f for f in model.functions
        }

    # -- tensors -------------------------------------------------------------------------------
    def _add_tensor(self, t: onnx.TensorProto, name: str) -> None:
        dims = tuple(t.dims)
        elements = 1
        for d in dims:
            if d < 0:
                raise UnreadableModel(self.path, f"tensor {t.name!r} has a negative dimension {dims}")
            elements *= d
        dtype = _DTYPE_NAMES.get(t.data_type) or _dtype_name(t.data_type)
        self.initializers.append(Initializer(name, dims, dtype))
        self.initializer_names.add(name)
        self.dtypes[name] = dtype
        self.shapes[name] = dims
        if t.data_location == _EXTERNAL:
            self._check_external(t)
        elif elements <= SMALL_CONSTANT:
            values = _small_values(t)
            if values is not None:
                self.constants[name] = values
        elif _all_zero(t, elements):
            self.zeros.add(name)

    def _check_external(self, t: onnx.TensorProto) -> None:
        entries = {e.key: e.value for e in t.external_data}
        location = entries.get("location", "")
        if not location:
            raise UnreadableModel(self.path, f"tensor {t.name!r} is stored externally but names no location")
        target = _safe_location(self.path, self.folder, self.allowed_roots, location)
        if location in self.external_files:
            return
        try:
            size = target.stat().st_size
        except OSError:
            self.warnings.append(f"external data file {location!r} is missing")
            size = 0
        self.external_files[location] = size
        self.external_bytes += size

    def _add_value_infos(self, infos: Iterable[onnx.ValueInfoProto], scope: _Scope) -> None:
        for vi in infos:
            name = scope.lookup(vi.name)
            tt = vi.type.tensor_type
            if tt.elem_type:
                self.dtypes.setdefault(name, _dtype_name(tt.elem_type))
            shape = _shape_of(vi)
            if shape is not None:
                self.shapes.setdefault(name, shape)

    def _add_graph_tensors(self, g: onnx.GraphProto, scope: _Scope) -> None:
        for t in g.initializer:
            self._add_tensor(t, scope.define(t.name))
        for st in g.sparse_initializer:
            name = scope.define(st.values.name)
            self._add_tensor(st.values, name)
            dense = tuple(int(d) for d in st.dims)
            self.initializers[-1] = Initializer(name=name, shape=dense, dtype=self.initializers[-1].dtype)
            self.shapes[name] = dense
            self.constants.pop(name, None)
            if st.indices.data_location == _EXTERNAL:
                self._check_external(st.indices)

    # -- attributes ----------------------------------------------------------------------------
    def _attributes(
        self, node: onnx.NodeProto, out0: str, bindings: dict[str, onnx.AttributeProto] | None
    ) -> tuple[dict[str, Any], list[tuple[str, onnx.GraphProto]]]:
        attrs: dict[str, Any] = {}
        graphs: list[tuple[str, onnx.GraphProto]] = []
        for a in node.attribute:
            if a.ref_attr_name:
                bound = bindings.get(a.ref_attr_name) if bindings else None
                if bound is None:
                    continue  # an optional function attribute the call does not set
                name = a.name
                a = bound
            else:
                name = a.name
            kind = a.type
            if kind == _A.INT:
                attrs[name] = int(a.i)
            elif kind == _A.FLOAT:
                attrs[name] = float(a.f)
            elif kind == _A.INTS:
                attrs[name] = tuple(a.ints)
            elif kind == _A.STRING:
                attrs[name] = a.s.decode("utf-8", "replace")
            elif kind == _A.FLOATS:
                attrs[name] = tuple(a.floats)
            elif kind == _A.STRINGS:
                attrs[name] = tuple(s.decode("utf-8", "replace") for s in a.strings)
            elif kind == _A.GRAPH:
                graphs.append((name, a.g))
            elif kind == _A.GRAPHS:
                graphs.extend((f"{name}[{k}]", g) for k, g in enumerate(a.graphs))
            elif kind == _A.TENSOR:
                attrs[name] = self._attribute_tensor(a.t, node, out0)
            elif kind == _A.SPARSE_TENSOR:
                attrs[name] = self._attribute_tensor(a.sparse_tensor.values, node, out0, sparse=True)
            elif kind == _A.TENSORS:
                for t in a.tensors:
                    if t.data_location == _EXTERNAL:
                        self._check_external(t)
        return attrs, graphs

    def _attribute_tensor(
        self, t: onnx.TensorProto, node: onnx.NodeProto, out0: str, sparse: bool = False
    ) -> Any:
        """A tensor attribute: a Constant's value becomes a constant tensor named after its output;
        small values are kept, large ones described by shape and type."""
        if node.op_type == "Constant" and out0 and not sparse:
            self._add_tensor(t, out0)
            return self.constants.get(out0, f"tensor {self.dtypes.get(out0, '')}{list(t.dims)}")
        if t.data_location == _EXTERNAL:
            self._check_external(t)
        values = None if sparse else _small_values(t)
        if values is not None:
            return values
        return f"tensor {_dtype_name(t.data_type)}{list(t.dims)}"

    def _constant_from_attributes(self, name: str, attrs: dict[str, Any]) -> None:
        """A ``Constant`` given as ``value_float``/``value_int``/``value_floats``/``value_ints``."""
        for key, dtype in (("value_float", "float"), ("value_int", "int64")):
            if key in attrs:
                self._add_constant(name, (attrs[key],), (), dtype)
                return
        for key, dtype in (("value_floats", "float"), ("value_ints", "int64")):
            if key in attrs:
                values = tuple(attrs[key])
                small = values if len(values) <= SMALL_CONSTANT else None
                self._add_constant(name, small, (len(values),), dtype)
                return

    def _add_constant(
        self, name: str, values: tuple[Any, ...] | None, shape: tuple[int, ...], dtype: str
    ) -> None:
        self.initializers.append(Initializer(name=name, shape=shape, dtype=dtype))
        self.initializer_names.add(name)
        self.dtypes[name] = dtype
        self.shapes[name] = shape
        if values is not None:
            self.constants[name] = values

    # -- the walk ------------------------------------------------------------------------------
    def run(self) -> None:
        g = self.model.graph
        # Without local functions the graph cannot expand past what the file holds: no need to count.
        total = self._expanded_size() if self.functions else 0
        if total > MAX_NODES:
            raise UnreadableModel(
                self.path, f"the graph expands to {total} nodes (functions inlined), more than {MAX_NODES}"
            )
        main = _Scope("", None)
        self._add_graph_tensors(g, main)
        # Only the main graph's value_info: a subgraph's would have to be renamed before its nodes
        # define the names.
        self._add_value_infos(g.value_info, main)
        self.inputs = tuple(vi.name for vi in g.input if vi.name not in self.initializer_names)
        self.outputs = tuple(vi.name for vi in g.output)
        self._add_value_infos(g.input, main)
        self._add_value_infos(g.output, main)
        stack: list[_Frame | _Emit] = [_Frame(nodes=g.node, scope=main, origin="", functions=frozenset())]
        while stack:
            top = stack[-1]
            if isinstance(top, _Emit):
                stack.pop()
                self._emit(top.node.op_type, top.origin, top.domain, top.inputs, top.attributes, top.outputs)
                continue
            if top.i >= len(top.nodes):
                stack.pop()
                if top.parent is not None:
                    top.parent.inputs.extend(top.scope.lookup(o) for o in top.outputs)
                continue
            node = top.nodes[top.i]
            index = top.i
            top.i += 1
            self._visit(stack, top, node, index)

    def _body_counts(self, nodes: Sequence[onnx.NodeProto]) -> tuple[int, list[tuple[str, str, str]]]:
        """Nodes of a body that are not function calls (subgraphs included) and the calls it makes."""
        plain = 0
        calls: list[tuple[str, str, str]] = []
        pending = [nodes]
        while pending:
            for n in pending.pop():
                key = (_domain(n.domain), n.op_type, n.overload)
                if key in self.functions:
                    calls.append(key)
                    continue
                plain += 1
                for a in n.attribute:
                    if a.type == _A.GRAPH:
                        pending.append(a.g.node)
                    elif a.type == _A.GRAPHS:
                        pending.extend(sub.node for sub in a.graphs)
        return plain, calls

    def _expanded_size(self) -> int:
        """How many nodes the main graph has once every function call is inlined, computed without
        inlining (function sizes memoised, depth-first without recursion); refuses recursive functions."""
        bodies = {key: self._body_counts(f.node) for key, f in self.functions.items()}
        sizes: dict[tuple[str, str, str], int] = {}
        for root in bodies:
            if root in sizes:
                continue
            stack = [root]
            on_path = {root}
            while stack:
                key = stack[-1]
                waiting = next((c for c in bodies[key][1] if c not in sizes), None)
                if waiting is None:
                    plain, calls = bodies[key]
                    sizes[key] = plain + sum(sizes[c] for c in calls)
                    stack.pop()
                    on_path.discard(key)
                    continue
                if waiting in on_path:
                    domain, name, _ = waiting
                    raise UnreadableModel(self.path, f"function {domain}.{name} calls itself")
                stack.append(waiting)
                on_path.add(waiting)
        plain, calls = self._body_counts(self.model.graph.node)
        return plain + sum(sizes[c] for c in calls)

    def _visit(self, stack: list[_Frame | _Emit], frame: _Frame, node: onnx.NodeProto, index: int) -> None:
        scope = frame.scope
        op = node.op_type
        domain = node.domain
        if domain == "ai.onnx":
            domain = ""
        label = node.name or f"{op}_{index}"
        origin = f"{frame.origin}/{label}" if frame.origin else label
        inputs = [scope.lookup(i) for i in node.input] if scope.prefix else list(node.input)
        if self.functions:
            key = (domain, op, node.overload)
            function = self.functions.get(key)
            if function is not None:
                if key in frame.functions:
                    raise UnreadableModel(self.path, f"function {domain}.{op} calls itself (at {origin})")
                self._inline(stack, frame, node, function, origin, inputs, key)
                return
        outs = list(node.output)
        if scope.prefix or scope.closed:
            outs = [scope.define(o) for o in outs]
        out0 = outs[0] if outs else ""
        if node.attribute:
            attrs, graphs = self._attributes(node, out0, frame.bindings)
        else:
            attrs, graphs = {}, []
        if op == "Constant" and out0 and out0 not in self.initializer_names:
            self._constant_from_attributes(out0, attrs)
        if not graphs:
            self._emit(op, origin, domain, inputs, attrs, outs)
            return
        emit = _Emit(node=node, origin=origin, domain=domain, inputs=inputs, attributes=attrs, outputs=outs)
        stack.append(emit)
        actual = list(inputs)
        for attr_name, sub in reversed(graphs):
            sub_scope = _Scope(f"{origin}/{attr_name}", scope)
            # Loop body (iter, cond, carried...) ↔ Loop inputs (M, cond, initial...); Scan body
            # (states..., scan slices...) ↔ Scan inputs (initial states..., scanned...); If has none.
            for k, formal in enumerate(sub.input):
                if op == "Loop" or op == "Scan":
                    target = actual[k] if k < len(actual) and actual[k] else ""
                    sub_scope.rename[formal.name] = target or f"{sub_scope.prefix}/{formal.name}"
                else:
                    sub_scope.define(formal.name)
            self._add_graph_tensors(sub, sub_scope)
            stack.append(
                _Frame(
                    nodes=sub.node,
                    scope=sub_scope,
                    origin=f"{origin}/{attr_name}",
                    functions=frame.functions,
                    outputs=[o.name for o in sub.output],
                    parent=emit,
                )
            )

    def _inline(
        self,
        stack: list[_Frame | _Emit],
        frame: _Frame,
        node: onnx.NodeProto,
        function: onnx.FunctionProto,
        origin: str,
        inputs: list[str],
        key: tuple[str, str, str],
    ) -> None:
        body = _Scope(origin, None, closed=True)
        for k, formal in enumerate(function.input):
            body.rename[formal] = inputs[k] if k < len(inputs) and inputs[k] else f"{origin}/{formal}"
        for k, formal in enumerate(function.output):
            actual = node.output[k] if k < len(node.output) else ""
            body.rename[formal] = frame.scope.define(actual) if actual else f"{origin}/{formal}"
        bindings = {a.name: a for a in function.attribute_proto}  # defaults
        for a in node.attribute:
            if a.ref_attr_name and frame.bindings is not None:
                bound = frame.bindings.get(a.ref_attr_name)
                if bound is not None:
                    bindings[a.name] = bound
            elif not a.ref_attr_name:
                bindings[a.name] = a
        stack.append(
            _Frame(
                nodes=function.node,
                scope=body,
                origin=origin,
                functions=frame.functions | {key},
                bindings=bindings,
            )
        )

    def _emit(
        self, op: str, origin: str, domain: str, inputs: list[str], attrs: dict[str, Any], outs: list[str]
    ) -> None:
        if len(self.nodes) >= MAX_NODES:
            raise UnreadableModel(self.path, f"the graph expands to more than {MAX_NODES} nodes")
        name = origin
        if name in self.used_names:
            k = 2
            while f"{origin}~{k}" in self.used_names:
                k += 1
            name = f"{origin}~{k}"
        self.used_names.add(name)
        self.nodes.append(OpNode(name, op, op, domain, tuple(inputs), tuple(outs), attrs, origin))

    def graph(self) -> ModelGraph:
        nodes = tuple(self.nodes)
        return ModelGraph(
            nodes=nodes,
            edges=data_flow_edges(nodes),
            initializers=tuple(self.initializers),
            inputs=self.inputs,
            outputs=self.outputs,
            tensor_shapes=self.shapes,
            tensor_dtypes=self.dtypes,
            constants=self.constants,
            nodes_before_normalisation=len(nodes),
            zero_tensors=frozenset(self.zeros),
        )


def data_flow_edges(nodes: Sequence[OpNode]) -> tuple[tuple[int, int], ...]:
    """(producer, consumer) index pairs from tensor names, each pair once, sorted."""
    producer: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for o in n.outputs:
            if o:
                producer.setdefault(o, i)
    edges: set[tuple[int, int]] = set()
    for i, n in enumerate(nodes):
        for t in n.inputs:
            p = producer.get(t)
            if p is not None:
                edges.add((p, i))
    return tuple(sorted(edges))


def _domain(domain: str) -> str:
    return "" if domain == "ai.onnx" else domain


def _allowed_roots(folder: Path) -> tuple[Path, ...]:
    """Where external-data files may live once symlinks are resolved: the model's folder, and for a
    Hugging Face cache snapshot (``models--ORG--NAME/snapshots/REV/...``) that repo's ``blobs``
    folder, which the snapshot's symlinks point into."""
    roots = [folder.resolve()]
    parts = folder.parts
    for k in range(len(parts) - 2, 0, -1):
        if parts[k] == "snapshots" and parts[k - 1].startswith("models--"):
            roots.append((Path(*parts[:k]) / "blobs").resolve())
            break
    return tuple(roots)


def _safe_location(path: Path, folder: Path, roots: tuple[Path, ...], location: str) -> Path:
    """The external-data file ``location`` names, refusing anything that leaves the model's folder."""
    if "\x00" in location:
        raise UnsafeModel(path, f"external data location {location!r} contains a NUL byte")
    posix, windows = PurePosixPath(location), PureWindowsPath(location)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or location.startswith(("/", "\\")):
        raise UnsafeModel(path, f"external data location {location!r} is an absolute path")
    if ".." in posix.parts or ".." in windows.parts:
        raise UnsafeModel(path, f"external data location {location!r} leaves the model's folder")
    target = folder / location
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError) as e:
        raise UnsafeModel(path, f"external data location {location!r} cannot be resolved: {e}") from e
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        raise UnsafeModel(
            path, f"external data location {location!r} resolves outside the model's folder (to {resolved})"
        )
    return target
